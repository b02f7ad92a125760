//! kopf's example 99-all-at-once: most of kopf in one operator — startup and cleanup
//! activities, several creation handlers (one failing once, one creating an adopted child
//! Pod), an update handler with the diff, a field handler, a deletion handler, Events, and
//! an event handler for the children.
//!
//! ```sh
//! kopf run examples/99-all-at-once/all_at_once.rs --verbose --embedded --apply examples/crd.yaml --apply examples/obj.yaml
//! ```

use kopf::k8s_openapi::api::core::v1::{Container, Pod, PodSpec};
use kopf::kube::api::{Api, PostParams};
use kopf::serde_json::{Value, json};
use kopf::tokio;
use std::time::Duration;

#[kopf::on::startup]
async fn startup_fn_simple(logger: kopf::Logger) {
    logger.info("Starting in 1s...");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[kopf::on::startup]
async fn startup_fn_retried(retry: kopf::Retry, logger: kopf::Logger) -> kopf::Result<()> {
    if *retry < 3 {
        let message = format!("Going to succeed in {}s", 3 - *retry);
        return Err(kopf::TemporaryError::new(message).with_delay(1.0))?;
    }
    logger.info("Starting retried...");
    Ok(())
}

#[kopf::on::cleanup]
async fn cleanup_fn(logger: kopf::Logger) {
    logger.info("Cleaning up in 3s...");
    tokio::time::sleep(Duration::from_secs(3)).await;
}

#[kopf::on::create("kopfexamples")]
fn create_1(body: kopf::Body) -> kopf::Result<Value> {
    let children: Vec<Value> = Vec::new();
    kopf::info(&body, "AnyReason", "");
    kopf::event(&body, "Warning", "SomeReason", "Cannot do something");
    for child in &children {
        kopf::event(child, "Normal", "SomeReason", "Created as part of the job1step");
    }
    Ok(json!({"job1-status": 100}))
}

#[kopf::on::create("kopfexamples")]
fn create_2(retry: kopf::Retry) -> kopf::Result<Value> {
    wait_for_something(); // specific for job2, e.g. an external API poller
    if *retry == 0 {
        // will be retried by the framework, even if it has been restarted
        return Err(kopf::Error::msg("Whoops!"));
    }
    Ok(json!({"job2-status": 100}))
}

#[kopf::on::update("kopfexamples")]
fn update(diff: kopf::Diff) {
    println!("Handling the diff");
    println!("{diff}");
}

#[kopf::on::field("kopfexamples", field = "spec.lst")]
fn update_lst(old: kopf::Old, new: kopf::New) {
    println!("Handling the FIELD = {:?} -> {:?}", *old, *new);
}

#[kopf::on::delete("kopfexamples")]
fn delete() {}

/// Blocking on purpose: plain handlers run on a blocking thread, not the runtime.
fn wait_for_something() {
    std::thread::sleep(Duration::from_secs(1));
}

#[kopf::on::create("kopfexamples")]
async fn create_pod(body: kopf::Body, client: kopf::kube::Client) -> kopf::Result<()> {
    let mut pod = Pod {
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "the-only-one".into(),
                image: Some("busybox".into()),
                command: Some(vec!["sh".into(), "-x".into(), "-c".into(), "sleep 1".into()]),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        ..Pod::default()
    };
    // Make it our child: assign the namespace, name, labels, owner references, etc.
    kopf::adopt(&mut pod, &body)?;
    kopf::label(&mut pod, [("application", "kopf-example-10")]);
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    Api::<Pod>::namespaced(client, &namespace)
        .create(&PostParams::default(), &pod)
        .await?;
    Ok(())
}

#[kopf::on::event("pods", labels = {"application": "kopf-example-10"})]
fn example_pod_change(logger: kopf::Logger) {
    logger.info("This pod is special for us.");
}
