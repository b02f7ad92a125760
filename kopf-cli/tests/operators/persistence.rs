//! The persistence operator for kopf-rs: the same settings and handlers as persistence.py.
//!
//! PERSISTENCE_MODE=status: progress in `status.my-op.progress`, the diff-base in annotations
//! under `my-op.example.com`; PERSISTENCE_MODE=smart: progress in annotations under
//! `my-op.example.com`, the diff-base in `status.my-op.diffbase`. While HANDOVER_FAIL is set,
//! create_b fails temporarily.

use kopf::serde_json::{Value, json};
use kopf::settings::{
    AnnotationsDiffBaseStorage, SmartProgressStorage, StatusDiffBaseStorage, StatusProgressStorage,
};

const PREFIX: &str = "my-op.example.com";

#[kopf::on::startup]
async fn configure(settings: kopf::OperatorSettings) -> kopf::Result<()> {
    let smart = std::env::var("PERSISTENCE_MODE").is_ok_and(|m| m == "smart");
    settings.update(|s| {
        s.persistence.finalizer = format!("{PREFIX}/finalizer");
        if smart {
            s.persistence.progress_storage = SmartProgressStorage::with_prefix(PREFIX).into();
            s.persistence.diffbase_storage =
                StatusDiffBaseStorage::with_field("status.my-op.diffbase").into();
        } else {
            s.persistence.progress_storage =
                StatusProgressStorage::with_field("status.my-op.progress").into();
            s.persistence.diffbase_storage = AnnotationsDiffBaseStorage::with_prefix(PREFIX).into();
        }
    });
    Ok(())
}

#[kopf::on::create("ephemeralvolumeclaims")]
async fn create_a() -> kopf::Result<Value> {
    Ok(json!({"a": 1}))
}

#[kopf::on::create("ephemeralvolumeclaims")]
async fn create_b() -> kopf::Result<Value> {
    if std::env::var_os("HANDOVER_FAIL").is_some() {
        return Err(kopf::TemporaryError::new("not yet").with_delay(3.0).into());
    }
    Ok(json!({"b": 2}))
}

#[kopf::on::delete("ephemeralvolumeclaims")]
async fn delete_fn() -> kopf::Result<()> {
    Ok(())
}
