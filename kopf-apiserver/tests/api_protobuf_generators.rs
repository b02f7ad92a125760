//! Rule API-04 (extended): kubectl's generators send protobuf for built-in kinds, and the
//! server decodes every kind those generators make: deployments, jobs, cron jobs, services
//! (also `kubectl expose`), service accounts, roles, cluster roles and their bindings,
//! quotas, priority classes, disruption budgets and ingresses — stored as kubectl's own JSON
//! form of them (`--dry-run=client -o json`) would be.

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
    // As kube-apiserver stores it: what kubectl sent, and the defaults (API-132).
    let web = get("deployment", "web");
    assert_eq!(
        web["spec"],
        json!({"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
               "strategy": {"type": "RollingUpdate",
                            "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
               "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
               "template": {"metadata": {"labels": {"app": "web"}},
                            "spec": {"containers": [{"name": "nginx", "image": "nginx",
                                                     "ports": [{"containerPort": 80, "protocol": "TCP"}],
                                                     "resources": {},
                                                     "terminationMessagePath": "/dev/termination-log",
                                                     "terminationMessagePolicy": "File",
                                                     "imagePullPolicy": "Always"}],
                                     "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                                     "dnsPolicy": "ClusterFirst", "securityContext": {},
                                     "schedulerName": "default-scheduler"}}})
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

    for args in [
        &["create", "job", "j1", "--image=busybox", "--", "echo", "hi"][..],
        &[
            "create",
            "cronjob",
            "c1",
            "--image=busybox",
            "--schedule=*/5 * * * *",
        ],
        &["create", "quota", "q1", "--hard=pods=2,cpu=1"],
        &[
            "create",
            "priorityclass",
            "p1",
            "--value=10",
            "--description=hi",
        ],
        &[
            "create",
            "poddisruptionbudget",
            "pdb1",
            "--selector=app=x",
            "--min-available=1",
        ],
        &[
            "create",
            "ingress",
            "i1",
            "--rule=foo.com/bar=svc1:8080,tls=my-cert",
            "--class=nginx",
        ],
    ] {
        ts.kubectl_ok(args);
    }
    let job = get("job", "j1");
    assert_eq!(
        job["spec"]["template"]["spec"],
        json!({"containers": [{"name": "j1", "image": "busybox", "command": ["echo", "hi"], "resources": {},
                               "terminationMessagePath": "/dev/termination-log",
                               "terminationMessagePolicy": "File", "imagePullPolicy": "Always"}],
               "restartPolicy": "Never", "terminationGracePeriodSeconds": 30,
               "dnsPolicy": "ClusterFirst", "securityContext": {},
               "schedulerName": "default-scheduler"})
    );
    assert_eq!(
        (
            job["spec"]["backoffLimit"].clone(),
            job["spec"]["completions"].clone()
        ),
        (json!(6), json!(1))
    );
    let cron = get("cronjob", "c1");
    assert_eq!(cron["spec"]["schedule"], "*/5 * * * *");
    assert_eq!(
        cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"],
        "OnFailure"
    );
    assert_eq!(
        get("quota", "q1")["spec"],
        json!({"hard": {"cpu": "1", "pods": "2"}})
    );
    let priority = get("priorityclass", "p1");
    assert_eq!(
        (priority["value"].clone(), priority["description"].clone()),
        (json!(10), json!("hi"))
    );
    assert_eq!(
        get("pdb", "pdb1")["spec"],
        json!({"minAvailable": 1, "selector": {"matchLabels": {"app": "x"}}})
    );
    assert_eq!(
        get("ingress", "i1")["spec"],
        json!({"ingressClassName": "nginx",
               "rules": [{"host": "foo.com", "http": {"paths": [{"path": "/bar", "pathType": "Exact",
                   "backend": {"service": {"name": "svc1", "port": {"number": 8080}}}}]}}],
               "tls": [{"hosts": ["foo.com"], "secretName": "my-cert"}]})
    );
}
