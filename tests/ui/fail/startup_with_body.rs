#[kopf::on::startup]
async fn startup_fn(body: kopf::Body) {
    let _ = body;
}

fn main() {}
