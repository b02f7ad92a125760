#[kopf::on::create("kopfexamples")]
struct NotAHandler;

fn main() {}
