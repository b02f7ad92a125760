//! The hierarchies' semantics, as kopf's: for JSON children, typed ones, dynamic ones and
//! collections of them.

use super::*;
use crate::structs::body::Body;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::DynamicObject;
use serde_json::json;

fn owner() -> Value {
    json!({"apiVersion": "kopf.dev/v1", "kind": "KopfExample",
           "metadata": {"name": "kex", "uid": "uid-1", "namespace": "ns1",
                        "labels": {"app": "kex", "tier": "owner"}}})
}

fn reference() -> Value {
    json!({"controller": true, "blockOwnerDeletion": true, "apiVersion": "kopf.dev/v1",
           "kind": "KopfExample", "name": "kex", "uid": "uid-1"})
}

#[test]
fn adopting_a_json_child_gives_it_everything_of_the_owner() {
    let mut child = json!({"kind": "Pod", "spec": {}});
    adopt(&mut child, &Body::new(owner())).unwrap();
    assert_eq!(
        child,
        json!({"kind": "Pod", "spec": {}, "metadata": {
            "ownerReferences": [reference()],
            "generateName": "kex-",
            "namespace": "ns1",
            "labels": {"app": "kex", "tier": "owner"},
        }})
    );
    adopt(&mut child, &owner()).unwrap();
    assert_eq!(
        child["metadata"]["ownerReferences"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn adopting_keeps_what_the_child_has_unless_forced() {
    let mine = json!({"metadata": {"name": "mine", "namespace": "ns2", "labels": {"app": "own"}}});
    let mut child = mine.clone();
    adopt(&mut child, &owner()).unwrap();
    assert_eq!(child["metadata"]["name"], "mine");
    assert_eq!(child["metadata"].get("generateName"), None);
    assert_eq!(child["metadata"]["namespace"], "ns2");
    assert_eq!(
        child["metadata"]["labels"],
        json!({"app": "own", "tier": "owner"})
    );

    let mut forced = mine.clone();
    HierarchyOptions::new()
        .forced(true)
        .adopt(&mut forced, &owner())
        .unwrap();
    assert_eq!(forced["metadata"].get("name"), None);
    assert_eq!(forced["metadata"]["generateName"], "kex-");
    assert_eq!(forced["metadata"]["namespace"], "ns1");
    assert_eq!(
        forced["metadata"]["labels"],
        json!({"app": "kex", "tier": "owner"})
    );

    let mut strict = json!({"metadata": {"generateName": "x-"}});
    let options = HierarchyOptions::new().forced(true).strict(true);
    options.adopt(&mut strict, &owner()).unwrap();
    assert_eq!(strict["metadata"]["name"], "kex");
    assert_eq!(strict["metadata"].get("generateName"), None);
}

#[test]
fn typed_children_are_changed_through_their_metadata() {
    let mut pod = Pod::default();
    adopt(&mut pod, &owner()).unwrap();
    let meta = &pod.metadata;
    assert_eq!(meta.generate_name.as_deref(), Some("kex-"));
    assert_eq!(meta.name, None);
    assert_eq!(meta.namespace.as_deref(), Some("ns1"));
    assert_eq!(meta.labels.as_ref().unwrap()["tier"], "owner");
    let refs = meta.owner_references.as_ref().unwrap();
    assert_eq!(serde_json::to_value(refs).unwrap(), json!([reference()]));

    let mut strict = Pod::default();
    HierarchyOptions::new()
        .strict(true)
        .harmonize_naming(&mut strict, "exact");
    assert_eq!(strict.metadata.name.as_deref(), Some("exact"));
    assert_eq!(strict.metadata.generate_name, None);
}

#[test]
fn dynamic_children_and_owners_work_alike() {
    let owner: DynamicObject = serde_json::from_value(owner()).unwrap();
    let mut child: DynamicObject =
        serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}))
            .unwrap();
    adopt(&mut child, &owner).unwrap();
    let value = serde_json::to_value(&child).unwrap();
    assert_eq!(value["metadata"]["ownerReferences"], json!([reference()]));
    assert_eq!(value["metadata"]["generateName"], "kex-");
}

#[test]
fn collections_of_children_are_adopted_each() {
    let mut pods = vec![Pod::default(), Pod::default()];
    adopt(&mut pods, &owner()).unwrap();
    assert!(pods.iter().all(|p| p.metadata.owner_references.is_some()));
    let mut values = [json!({}), json!({})];
    adopt(&mut values, &owner()).unwrap();
    assert!(values.iter().all(|v| v["metadata"]["namespace"] == "ns1"));
    let mut array = json!([{}, {"metadata": {"namespace": "other"}}]);
    adjust_namespace(&mut array, "ns3");
    assert_eq!(
        array,
        json!([{"metadata": {"namespace": "ns3"}}, {"metadata": {"namespace": "other"}}])
    );
}

#[test]
fn owner_references_are_appended_once_and_removed_by_uid() {
    let other =
        json!({"apiVersion": "v1", "kind": "Other", "metadata": {"name": "o", "uid": "uid-2"}});
    let mut child = json!({});
    append_owner_reference(&mut child, &owner()).unwrap();
    append_owner_reference(&mut child, &other).unwrap();
    append_owner_reference(&mut child, &owner()).unwrap();
    assert_eq!(
        child["metadata"]["ownerReferences"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    remove_owner_reference(&mut child, &owner()).unwrap();
    assert_eq!(child["metadata"]["ownerReferences"][0]["uid"], "uid-2");

    let mut pod = Pod::default();
    let loose = HierarchyOptions::new()
        .controller(None)
        .block_owner_deletion(Some(false));
    loose.append_owner_reference(&mut pod, &other).unwrap();
    let refs = pod.metadata.owner_references.clone().unwrap();
    assert_eq!(
        (refs[0].controller, refs[0].block_owner_deletion),
        (None, Some(false))
    );
    remove_owner_reference(&mut pod, &other).unwrap();
    assert_eq!(pod.metadata.owner_references, Some(vec![]));
    assert_eq!(
        loose.build_owner_reference(&other),
        json!({"blockOwnerDeletion": false, "apiVersion": "v1", "kind": "Other", "name": "o", "uid": "uid-2"})
    );
}

#[test]
fn owners_without_uid_or_name_change_nothing() {
    let nameless = json!({"metadata": {"uid": "u"}});
    let uidless = json!({"metadata": {"name": "n"}});
    let mut child = json!({});
    assert_eq!(
        adopt(&mut child, &nameless),
        Err(HierarchyError::NoOwnerName)
    );
    assert_eq!(adopt(&mut child, &uidless), Err(HierarchyError::NoOwnerUid));
    assert_eq!(
        append_owner_reference(&mut child, &uidless),
        Err(HierarchyError::NoOwnerUid)
    );
    assert_eq!(child, json!({}));
}

#[test]
fn labels_go_into_nested_templates_when_asked() {
    let mut deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"labels": {"app": "mine"}},
        "spec": {"selector": {}, "template": {"spec": {"containers": []}}},
    }))
    .unwrap();
    let options = HierarchyOptions::new()
        .nested("spec.template")
        .nested("spec.absent");
    options.label(&mut deployment, [("app", "x"), ("team", "t")]);
    let labels = |meta: &Option<ObjectMeta>| meta.as_ref().and_then(|m| m.labels.clone());
    assert_eq!(deployment.metadata.labels.as_ref().unwrap()["app"], "mine");
    let template = labels(&deployment.spec.template.metadata).unwrap();
    assert_eq!(
        (template["app"].as_str(), template["team"].as_str()),
        ("x", "t")
    );

    let mut json = json!({"spec": {"template": {"metadata": {"labels": {"team": "own"}}}}});
    options.forced(true).label(&mut json, [("team", "t")]);
    assert_eq!(json["spec"]["template"]["metadata"]["labels"]["team"], "t");
    assert_eq!(json["metadata"]["labels"]["team"], "t");
}

#[test]
fn namespaces_are_set_where_absent_even_to_none() {
    let mut child = json!({"metadata": {"namespace": null}});
    adjust_namespace(&mut child, "ns");
    assert_eq!(child["metadata"]["namespace"], "ns");
    let mut cluster = json!({});
    adjust_namespace(&mut cluster, None);
    assert_eq!(cluster, json!({"metadata": {"namespace": null}}));
}
