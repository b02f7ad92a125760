#[kopf::on::create()]
async fn create_fn() {}

#[kopf::on::create(id = "x")]
async fn create_fn2() {}

fn main() {}
