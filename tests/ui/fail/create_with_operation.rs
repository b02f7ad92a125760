// The operation under admission review exists only for admission handlers.
#[kopf::on::create("kopfexamples")]
async fn create_fn(operation: kopf::Operation) {
    let _ = operation;
}

fn main() {}
