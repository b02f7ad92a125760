// Values print as kopf's f-strings print them: `Old`/`New` as `f"{old}"`, `kopf::repr` as `!r`.
use kopf::serde_json::json;

#[kopf::on::field("kopfexamples", field = "spec.field")]
fn field_fn(old: kopf::Old, new: kopf::New, logger: kopf::Logger) {
    println!("FIELD CHANGED: {old} -> {new}");
    logger.info(format!("new={}", kopf::repr(new.as_ref().unwrap_or(&json!(null)))));
}

fn main() {
    assert_eq!(kopf::Old(Some(json!("value"))).to_string(), "value");
    assert_eq!(kopf::New(None).to_string(), "None");
    assert_eq!(kopf::New(Some(json!({"a": [1, true]}))).to_string(), "{'a': [1, True]}");
    assert_eq!(kopf::repr(&json!("value")), "'value'");
}
