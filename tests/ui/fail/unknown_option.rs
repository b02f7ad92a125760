#[kopf::on::create("kopfexamples", retry = 3)]
async fn create_fn() {}

fn main() {}
