//! kopf's example 02-children: a child Pod per object, adopted by it (owner reference,
//! namespace, name and labels from the owner), so that it is deleted with its owner; the
//! child's uid goes into the owner's status. The Pod is typed (k8s-openapi), where kopf
//! renders YAML.
//!
//! ```sh
//! kopf run examples/02-children/children.rs --verbose --embedded --apply examples/crd.yaml --apply examples/obj.yaml
//! ```

use kopf::k8s_openapi::api::core::v1::{Container, EnvVar, Pod, PodSpec};
use kopf::kube::api::{Api, PostParams};
use kopf::serde_json::{Value, json};

#[kopf::on::create("kopfexamples")]
async fn create_fn(
    spec: kopf::Spec,
    body: kopf::Body,
    client: kopf::kube::Client,
) -> kopf::Result<Value> {
    // The pod with some spec fields used in the template.
    let duration = spec.get("duration").and_then(Value::as_str).unwrap_or("0");
    let field = spec
        .get("field")
        .and_then(Value::as_str)
        .unwrap_or("default-value");
    let mut pod = Pod {
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "the-only-one".into(),
                image: Some("busybox".into()),
                command: Some(vec!["sh".into(), "-x".into(), "-c".into()]),
                args: Some(vec![format!("echo \"FIELD=$FIELD\"\nsleep {duration}\n")]),
                env: Some(vec![EnvVar {
                    name: "FIELD".into(),
                    value: Some(field.into()),
                    ..EnvVar::default()
                }]),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        ..Pod::default()
    };

    // Make it our child: assign the namespace, name, labels, owner references, etc.
    kopf::adopt(&mut pod, &body)?;

    // Actually create the object by requesting the Kubernetes API.
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let pod = Api::<Pod>::namespaced(client, &namespace)
        .create(&PostParams::default(), &pod)
        .await?;

    // Update the parent's status.
    Ok(json!({"children": [pod.metadata.uid]}))
}
