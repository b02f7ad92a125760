//! Sub-handlers for kopf-rs: the same handlers as subhandlers.py.

use kopf::serde_json::{Value, json};

#[kopf::on::create("kopfexamples")]
fn create_fn(spec: kopf::Spec, subhandlers: kopf::SubHandlers) -> kopf::Result<Value> {
    for item in spec["items"].as_array().into_iter().flatten() {
        let item = item.as_str().unwrap_or_default();
        subhandlers
            .subhandler(item)
            .param(item)
            .register(create_item_fn);
    }
    Ok(json!({"message": "all items"}))
}

async fn create_item_fn(
    item: kopf::Param<String>,
    retry: kopf::Retry,
    logger: kopf::Logger,
) -> kopf::Result<Value> {
    logger.info(format!("=== {} retry={}", *item, *retry));
    if *item == "item2" && *retry == 0 {
        return Err(kopf::TemporaryError::new("not yet").with_delay(5.0))?;
    }
    Ok(json!({"item": *item}))
}
