#[kopf::on::startup("kopfexamples")]
async fn startup_fn() {}

fn main() {}
