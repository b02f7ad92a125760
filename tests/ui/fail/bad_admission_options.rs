// Admission handlers know kopf's operations only, and are not retried.
#[kopf::on::validate("kopfexamples", operations = ["CREAT"], retries = 3)]
async fn check_fn() {}

#[kopf::on::mutate("kopfexamples", operations = [])]
async fn mutate_fn() {}

fn main() {}
