#[kopf::on::field("kopfexamples")]
async fn field_fn() {}

fn main() {}
