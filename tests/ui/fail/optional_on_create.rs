#[kopf::on::create("kopfexamples", optional = true)]
async fn create_fn() {}

fn main() {}
