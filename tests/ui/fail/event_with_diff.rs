// An event handler gets raw events: there is no diff to give it.
#[kopf::on::event("pods")]
async fn event_fn(name: kopf::Name, diff: kopf::Diff) {
    let _ = (name, diff);
}

fn main() {}
