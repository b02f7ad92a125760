#[kopf::on::create("kopfexamples")]
async fn create_fn(body: kopf::Body, x: bool) {
    let _ = (body, x);
}

fn main() {}
