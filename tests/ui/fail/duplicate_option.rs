#[kopf::on::update("kopfexamples", id = "a", id = "b")]
async fn update_fn() {}

fn main() {}
