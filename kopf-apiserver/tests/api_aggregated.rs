//! Rule API-125: `/api` and `/apis` answer aggregated discovery
//! (`apidiscovery.k8s.io/v2` `APIGroupDiscoveryList`) when the client asks for it, as
//! current kubectl and client-go do first: every group, version and resource with its
//! scope, verbs, short names and subresources; the legacy documents otherwise.

use kopf_test_support::{CRD, start};
use serde_json::Value;

const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

fn find<'a>(list: &'a Value, group: &str, version: &str, plural: &str) -> Option<&'a Value> {
    list["items"]
        .as_array()?
        .iter()
        .find(|g| g["metadata"]["name"] == group)?["versions"]
        .as_array()?
        .iter()
        .find(|v| v["version"] == version)?["resources"]
        .as_array()?
        .iter()
        .find(|r| r["resource"] == plural)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_125_aggregated_discovery() {
    let ts = start().await;
    kopf_test_support::create_crd_from(&ts, CRD).await;

    let (code, core) = ts.raw_accept("/api", AGGREGATED).await;
    assert_eq!(code, 200, "{core}");
    assert_eq!(core["kind"], "APIGroupDiscoveryList");
    assert_eq!(core["apiVersion"], "apidiscovery.k8s.io/v2");
    let pods = find(&core, "", "v1", "pods").expect("pods are listed");
    assert_eq!(pods["scope"], "Namespaced");
    assert_eq!(pods["responseKind"]["kind"], "Pod");
    assert_eq!(pods["subresources"][0]["subresource"], "status");

    let (code, groups) = ts.raw_accept("/apis", AGGREGATED).await;
    assert_eq!(code, 200, "{groups}");
    let kex = find(&groups, "kopf.dev", "v1", "kopfexamples").expect("the CRD's resource");
    assert_eq!(kex["shortNames"][0], "kex");
    assert_eq!(kex["singularResource"], "kopfexample");
    let deployments = find(&groups, "apps", "v1", "deployments").expect("deployments");
    let subresources: Vec<&str> = deployments["subresources"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["subresource"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(subresources, ["status", "scale"]);

    // Without asking: the legacy documents.
    let (_, legacy) = ts.raw("GET", "/apis", None, "").await;
    assert_eq!(legacy["kind"], "APIGroupList");
    // kubectl reads the aggregated form: no request per group-version.
    let control = ts.server.control();
    control.record_requests(true);
    let resources = ts.kubectl_ok(&["api-resources"]);
    let paths: Vec<String> = control
        .recorded_requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert!(
        !paths.iter().any(|p| p == "/apis/apps/v1" || p == "/api/v1"),
        "{paths:?}"
    );
    assert!(resources.contains("kopfexamples"), "{resources}");
    assert!(resources.contains("deployments"), "{resources}");
}
