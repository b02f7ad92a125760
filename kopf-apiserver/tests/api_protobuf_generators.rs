//! Rule API-04 (extended): kubectl's generators send protobuf for built-in kinds, and the
//! server decodes those of the kinds it serves: deployments, services (also `kubectl
//! expose`), service accounts, roles, cluster roles and their bindings — stored as
//! kubectl's own JSON form of them would be.

use kopf_test_support::start;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_04_kubectl_generators_create_built_in_kinds() {
    let ts = start().await;
    for args in [
        &[
            "create",
            "deployment",
            "web",
            "--image=nginx",
            "--port=80",
            "--replicas=2",
        ][..],
        &["create", "service", "clusterip", "s1", "--tcp=80:8080"],
        &["create", "serviceaccount", "sa1"],
        &[
            "create",
            "role",
            "r1",
            "--verb=get,list",
            "--resource=pods,deployments.apps",
        ],
        &[
            "create",
            "rolebinding",
            "rb1",
            "--role=r1",
            "--serviceaccount=default:sa1",
            "--user=u1",
        ],
        &[
            "create",
            "clusterrole",
            "cr1",
            "--verb=get",
            "--resource=pods",
            "--non-resource-url=/logs",
        ],
        &[
            "create",
            "clusterrolebinding",
            "crb1",
            "--clusterrole=cr1",
            "--group=g1",
        ],
        &[
            "expose",
            "deployment",
            "web",
            "--port=8080",
            "--name=web-svc",
        ],
    ] {
        ts.kubectl_ok(args);
    }
    let get = |kind: &str, name: &str| -> Value {
        serde_json::from_str(&ts.kubectl_ok(&["get", kind, name, "-o", "json"])).expect("JSON")
    };
    let web = get("deployment", "web");
    assert_eq!(
        web["spec"],
        json!({"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "strategy": {},
               "template": {"metadata": {"labels": {"app": "web"}},
                            "spec": {"containers": [{"name": "nginx", "image": "nginx",
                                                     "ports": [{"containerPort": 80}], "resources": {}}]}}})
    );
    let s1 = get("service", "s1");
    assert_eq!(
        s1["spec"]["ports"],
        json!([{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}])
    );
    assert_eq!(s1["spec"]["selector"], json!({"app": "s1"}));
    assert_eq!(s1["spec"]["type"], "ClusterIP");
    assert_eq!(
        get("service", "web-svc")["spec"]["selector"],
        json!({"app": "web"})
    );
    assert_eq!(get("serviceaccount", "sa1")["metadata"]["name"], "sa1");
    assert_eq!(
        get("role", "r1")["rules"],
        json!([{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]},
               {"verbs": ["get", "list"], "apiGroups": ["apps"], "resources": ["deployments"]}])
    );
    let rb1 = get("rolebinding", "rb1");
    assert_eq!(
        rb1["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r1"})
    );
    assert_eq!(
        rb1["subjects"],
        json!([{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "u1"},
               {"kind": "ServiceAccount", "name": "sa1", "namespace": "default"}])
    );
    assert_eq!(
        get("clusterrole", "cr1")["rules"],
        json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]},
               {"verbs": ["get"], "nonResourceURLs": ["/logs"]}])
    );
    assert_eq!(
        get("clusterrolebinding", "crb1")["subjects"][0]["name"],
        "g1"
    );
}
