//! kopf's example 12-embedded: an operator started from a program's own `main`, in a
//! thread with its own runtime, with a ready signal, a stop signal and an operator-wide
//! memo; the program does its own work meanwhile, then stops the operator. A normal cargo
//! example (no `kopf run`):
//!
//! ```sh
//! cargo run -p kopf-cli -- cluster --in-memory --apply examples/crd.yaml   # in another terminal
//! KUBECONFIG=… cargo run --example embedded
//! ```

use kopf::kube::api::{Api, DeleteParams, DynamicObject, PostParams};
use kopf::kube::core::{ApiResource, GroupVersionKind};
use kopf::tokio;
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::oneshot;

/// The operator-wide memo: what the handlers say.
struct Templates {
    create: &'static str,
    delete: &'static str,
}

#[kopf::on::create("kopfexamples")]
fn create_fn(memo: kopf::OperatorMemo<Templates>, name: kopf::Name) {
    println!("{}", memo.create.replace("{name}", &name));
}

#[kopf::on::delete("kopfexamples")]
fn delete_fn(memo: kopf::OperatorMemo<Templates>, name: kopf::Name) {
    println!("{}", memo.delete.replace("{name}", &name));
}

/// The operator's thread: a runtime of its own, until the stop signal.
fn kopf_thread(
    ready: oneshot::Sender<()>,
    stop: oneshot::Receiver<()>,
) -> Result<(), kopf::OperatorError> {
    kopf::logging::init(
        kopf::settings::LogFormat::Full,
        kopf::tracing::Level::DEBUG,
        true,
    );
    let registry = kopf::Registry::linked().expect("no duplicate handlers");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime for the operator");
    runtime.block_on(
        kopf::Operator::new(registry)
            .cluster_wide()
            .memo(Templates {
                create: "Hello, {name}!",
                delete: "Good bye, {name}!",
            })
            .ready(ready)
            .run(async {
                let _ = stop.await;
            }),
    )
}

fn main() -> ExitCode {
    let steps = 3;

    // Start the operator and let it initialise.
    println!("Starting the main app.");
    let (ready, is_ready) = oneshot::channel();
    let (stop, stopped) = oneshot::channel();
    let thread = std::thread::spawn(move || kopf_thread(ready, stopped));
    if is_ready.blocking_recv().is_err() {
        eprintln!("The operator did not start: {:?}", thread.join());
        return ExitCode::FAILURE;
    }

    // The operator is active: run the app's activity.
    let app = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the app");
    for step in 0..steps {
        println!("Do the main app activity here. Step {}/{steps}.", step + 1);
        if let Err(err) = app.block_on(create_object(step)) {
            eprintln!("Creating the object failed: {err}");
        }
        std::thread::sleep(Duration::from_secs(1));
        if let Err(err) = app.block_on(delete_object(step)) {
            eprintln!("Deleting the object failed: {err}");
        }
        std::thread::sleep(Duration::from_secs(1));
    }

    // Ask the operator to terminate gracefully (can take a couple of seconds).
    println!("Exiting the main app.");
    let _ = stop.send(());
    match thread.join() {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(err)) => {
            eprintln!("The operator failed: {err}");
            ExitCode::FAILURE
        }
        Err(_) => ExitCode::FAILURE,
    }
}

async fn examples() -> Result<Api<DynamicObject>, kopf::kube::Error> {
    let client = kopf::kube::Client::try_default().await?;
    let gvk = GroupVersionKind::gvk("kopf.dev", "v1", "KopfExample");
    Ok(Api::namespaced_with(
        client,
        "default",
        &ApiResource::from_gvk(&gvk),
    ))
}

async fn create_object(step: u32) -> Result<(), kopf::kube::Error> {
    let object: DynamicObject = kopf::serde_json::from_value(kopf::serde_json::json!({
        "apiVersion": "kopf.dev/v1",
        "kind": "KopfExample",
        "metadata": {"namespace": "default", "name": format!("kopf-example-{step}")},
    }))
    .map_err(kopf::kube::Error::SerdeError)?;
    match examples()
        .await?
        .create(&PostParams::default(), &object)
        .await
    {
        Err(kopf::kube::Error::Api(status)) if status.code == 409 => Ok(()),
        other => other.map(|_| ()),
    }
}

async fn delete_object(step: u32) -> Result<(), kopf::kube::Error> {
    let name = format!("kopf-example-{step}");
    match examples()
        .await?
        .delete(&name, &DeleteParams::default())
        .await
    {
        Err(kopf::kube::Error::Api(status)) if status.code == 404 => Ok(()),
        other => other.map(|_| ()),
    }
}
