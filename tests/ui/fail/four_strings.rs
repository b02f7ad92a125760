#[kopf::on::create("kopf.dev", "v1", "kopfexamples", "extra")]
async fn create_fn() {}

fn main() {}
