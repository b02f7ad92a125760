// A daemon runs beside its object: there is no old state to give it.
#[kopf::daemon("kopfexamples")]
async fn daemon_fn(stopped: kopf::Stopped, old: kopf::Old) {
    let _ = (stopped, old);
}

fn main() {}
