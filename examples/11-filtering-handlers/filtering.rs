//! kopf's example 11-filtering-handlers: handlers chosen by labels, annotations, field
//! values and callbacks. Callbacks take injected arguments as handlers do (the filtered
//! value as `kopf::FilterValue`), and combine with `kopf::not_`, `all_`, `any_`, `none_`.
//!
//! ```sh
//! kopf run examples/11-filtering-handlers/filtering.rs --verbose --embedded --apply examples/crd.yaml --apply examples/obj.yaml
//! ```

use std::time::Duration;

fn say_yes(value: kopf::FilterValue, spec: kopf::Spec) -> bool {
    value.as_str() == Some("somevalue") && spec.get("field").is_some()
}

fn say_no(value: kopf::FilterValue, spec: kopf::Spec) -> bool {
    value.as_str() == Some("somevalue")
        && spec.get("field").and_then(|f| f.as_str()) == Some("not-this-value-for-sure")
}

#[kopf::on::create("kopfexamples", labels = {"somelabel": "somevalue"})]
fn create_with_labels_matching(logger: kopf::Logger) {
    logger.info("Label is matching.");
}

#[kopf::on::create("kopfexamples", labels = {"somelabel": kopf::PRESENT})]
fn create_with_labels_present(logger: kopf::Logger) {
    logger.info("Label is present.");
}

#[kopf::on::create("kopfexamples", labels = {"nonexistent": kopf::ABSENT})]
fn create_with_labels_absent(logger: kopf::Logger) {
    logger.info("Label is absent.");
}

#[kopf::on::create("kopfexamples", labels = {"somelabel": say_yes})]
fn create_with_labels_callback_matching(logger: kopf::Logger) {
    logger.info("Label callback matching.");
}

#[kopf::on::create("kopfexamples", annotations = {"someannotation": "somevalue"})]
fn create_with_annotations_matching(logger: kopf::Logger) {
    logger.info("Annotation is matching.");
}

#[kopf::on::create("kopfexamples", annotations = {"someannotation": kopf::PRESENT})]
fn create_with_annotations_present(logger: kopf::Logger) {
    logger.info("Annotation is present.");
}

#[kopf::on::create("kopfexamples", annotations = {"nonexistent": kopf::ABSENT})]
fn create_with_annotations_absent(logger: kopf::Logger) {
    logger.info("Annotation is absent.");
}

#[kopf::on::create("kopfexamples", annotations = {"someannotation": say_no})]
fn create_with_annotations_callback_matching(logger: kopf::Logger) {
    logger.info("Annotation callback mismatch.");
}

#[kopf::on::create("kopfexamples", when = |_body| true)]
fn create_with_filter_satisfied(logger: kopf::Logger) {
    logger.info("Filter satisfied.");
}

#[kopf::on::create("kopfexamples", when = |_body| false)]
fn create_with_filter_not_satisfied(logger: kopf::Logger) {
    logger.info("Filter not satisfied.");
}

#[kopf::on::create("kopfexamples", field = "spec.field", value = "value")]
fn create_with_field_value_satisfied(logger: kopf::Logger) {
    logger.info("Field value is satisfied.");
}

#[kopf::on::create("kopfexamples", field = "spec.field", value = "something-else")]
fn create_with_field_value_not_satisfied(logger: kopf::Logger) {
    logger.info("Field value is not satisfied.");
}

#[kopf::on::create("kopfexamples", field = "spec.field", value = kopf::PRESENT)]
fn create_with_field_presence_satisfied(logger: kopf::Logger) {
    logger.info("Field presence is satisfied.");
}

#[kopf::on::create("kopfexamples", field = "spec.inexistent", value = kopf::PRESENT)]
fn create_with_field_presence_not_satisfied(logger: kopf::Logger) {
    logger.info("Field presence is not satisfied.");
}

#[kopf::on::update("kopfexamples", field = "spec.field", old = "value", new = "changed")]
fn update_with_field_change_satisfied(logger: kopf::Logger) {
    logger.info("Field change is satisfied.");
}

#[kopf::daemon("kopfexamples", field = "spec.field", value = "value")]
fn daemon_with_field(stopped: kopf::Stopped, logger: kopf::Logger) {
    while !stopped.is_set() {
        logger.info("Field daemon is satisfied.");
        stopped.wait_blocking(Duration::from_secs(1));
    }
}

// Beyond kopf's example: the combinators of callbacks (kopf's `kopf.all_` & co).

#[kopf::on::create("kopfexamples", when = kopf::all_((say_yes_to_spec, kopf::not_(is_deleted))))]
fn create_with_combined_filters_satisfied(logger: kopf::Logger) {
    logger.info("Combined filters are satisfied.");
}

#[kopf::on::create("kopfexamples", when = kopf::none_((say_yes_to_spec, is_deleted)))]
fn create_with_combined_filters_not_satisfied(logger: kopf::Logger) {
    logger.info("Combined filters are not satisfied.");
}

/// `when` callbacks of changing handlers take the change too: `Old`, `New`, `Diff`.
#[kopf::on::update("kopfexamples", when = field_became_changed)]
fn update_with_when_on_the_change(logger: kopf::Logger) {
    logger.info("Change callback is satisfied.");
}

fn field_became_changed(old: kopf::Old, new: kopf::New, diff: kopf::Diff) -> bool {
    let field = |essence: &Option<kopf::serde_json::Value>| {
        essence
            .as_ref()
            .and_then(|e| e.pointer("/spec/field"))
            .and_then(|f| f.as_str())
            .map(str::to_string)
    };
    !diff.is_empty()
        && field(&old).as_deref() == Some("value")
        && field(&new).as_deref() == Some("changed")
}

fn say_yes_to_spec(spec: kopf::Spec) -> bool {
    spec.get("field").is_some()
}

fn is_deleted(meta: kopf::Meta) -> bool {
    meta.get("deletionTimestamp").is_some()
}
