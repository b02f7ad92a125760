#[kopf::on::create("kopfexamples")]
async fn create_fn() -> u32 {
    1
}

fn main() {}
