// Event handlers take what every resource handler takes, plus the event and its type.
#[kopf::on::event("pods", labels = {"app": kopf::PRESENT}, param = 1)]
async fn event_fn(
    event: kopf::Event,
    event_type: kopf::EventType,
    body: kopf::Body,
    name: kopf::Name,
    memo: kopf::Memo,
    patch: kopf::Patch,
    logger: kopf::Logger,
    param: kopf::Param<i32>,
) -> kopf::Result<()> {
    logger.info(format!("{event_type} {name} {} {}", body, *param));
    memo.set("seen", event.to_json());
    patch.set("status.seen", kopf::serde_json::json!(true));
    Ok(())
}

#[kopf::on::event("v1", "configmaps")]
fn plain_event_fn(event_type: kopf::EventType) {
    let _ = event_type.as_str();
}

fn main() {}
