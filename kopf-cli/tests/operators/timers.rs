//! The timer parity operator: the same handlers as timers.py.

#[kopf::timer("kopf.dev", "v1", "kopfexamples", interval = 0.5)]
fn tick_fn(spec: kopf::Spec) -> kopf::Result<kopf::serde_json::Value> {
    Ok(kopf::serde_json::json!({"message": "ticked", "field": spec["field"]}))
}
