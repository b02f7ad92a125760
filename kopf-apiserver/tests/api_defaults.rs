//! Rule API-132: built-in kinds get kube-apiserver's defaults where the writer left them
//! out — pods and workloads' pod templates, deployments, jobs, services — and a service gets
//! a cluster IP (and node ports) of its own, which updates that leave them out keep.

use kopf_test_support::*;
use serde_json::{Value, json};

fn get(ts: &TestServer, kind: &str, name: &str) -> Value {
    serde_json::from_str(&ts.kubectl_ok(&["get", kind, name, "-o", "json"])).expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_132_pods_get_kube_apiservers_defaults_and_keep_what_was_set() {
    let ts = start().await;
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1"},
        "spec": {"containers": [
            {"name": "app", "image": "registry:5000/team/app:v2",
             "resources": {"limits": {"cpu": "1", "memory": "64Mi"}, "requests": {"cpu": "500m"}},
             "livenessProbe": {"httpGet": {"path": "/", "port": 80}}},
            {"name": "side", "image": "busybox", "imagePullPolicy": "Never"}],
            "restartPolicy": "OnFailure",
            "volumes": [{"name": "config", "configMap": {"name": "c"}}]}});
    let (code, created) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/pods",
            Some("application/json"),
            &pod.to_string(),
        )
        .await;
    assert_eq!(code, 201, "{created}");
    let spec = &get(&ts, "pod", "p1")["spec"];
    assert_eq!(spec["restartPolicy"], "OnFailure", "set by the writer");
    assert_eq!(spec["dnsPolicy"], "ClusterFirst");
    assert_eq!(spec["terminationGracePeriodSeconds"], 30);
    assert_eq!(spec["schedulerName"], "default-scheduler");
    assert_eq!(spec["enableServiceLinks"], true);
    assert_eq!(spec["securityContext"], json!({}));
    assert_eq!(spec["volumes"][0]["configMap"]["defaultMode"], 420);
    let app = &spec["containers"][0];
    assert_eq!(app["imagePullPolicy"], "IfNotPresent");
    assert_eq!(app["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(app["terminationMessagePolicy"], "File");
    assert_eq!(
        app["resources"]["requests"],
        json!({"cpu": "500m", "memory": "64Mi"}),
        "requests default to the limits"
    );
    assert_eq!(
        app["livenessProbe"],
        json!({"httpGet": {"path": "/", "port": 80, "scheme": "HTTP"}, "timeoutSeconds": 1,
               "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
    );
    assert_eq!(spec["containers"][1]["imagePullPolicy"], "Never");
    assert_eq!(spec["containers"][1]["resources"], json!({}));

    ts.kubectl_ok(&["run", "p2", "--image=nginx"]);
    assert_eq!(
        get(&ts, "pod", "p2")["spec"]["containers"][0]["imagePullPolicy"],
        "Always"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_132_workloads_get_their_defaults() {
    let ts = start().await;
    ts.kubectl_ok(&["create", "deployment", "web", "--image=nginx:1.27"]);
    let spec = &get(&ts, "deployment", "web")["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(spec["progressDeadlineSeconds"], 600);
    assert_eq!(
        spec["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    );
    let template = &spec["template"]["spec"];
    assert_eq!(template["restartPolicy"], "Always");
    assert_eq!(
        template.get("enableServiceLinks"),
        None,
        "pods' own default"
    );
    assert_eq!(template["containers"][0]["imagePullPolicy"], "IfNotPresent");

    ts.kubectl_ok(&[
        "create",
        "cronjob",
        "c1",
        "--image=busybox",
        "--schedule=@hourly",
    ]);
    let spec = &get(&ts, "cronjob", "c1")["spec"];
    assert_eq!(
        (
            spec["concurrencyPolicy"].clone(),
            spec["suspend"].clone(),
            spec["successfulJobsHistoryLimit"].clone(),
            spec["failedJobsHistoryLimit"].clone()
        ),
        (json!("Allow"), json!(false), json!(3), json!(1))
    );
    assert_eq!(
        spec["jobTemplate"]["spec"]["template"]["spec"]["dnsPolicy"],
        "ClusterFirst"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_132_services_get_a_cluster_ip_of_their_own_that_updates_keep() {
    let ts = start().await;
    ts.kubectl_ok(&["create", "service", "clusterip", "s1", "--tcp=80:8080"]);
    ts.kubectl_ok(&["create", "service", "clusterip", "s2", "--tcp=81"]);
    ts.kubectl_ok(&["create", "service", "nodeport", "n1", "--tcp=82:8082"]);
    ts.kubectl_ok(&[
        "create",
        "service",
        "clusterip",
        "headless",
        "--clusterip=None",
    ]);
    ts.kubectl_ok(&[
        "create",
        "service",
        "externalname",
        "ext",
        "--external-name=example.com",
    ]);
    let s1 = get(&ts, "service", "s1");
    let ip = s1["spec"]["clusterIP"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(ip.starts_with("10.96."), "{s1}");
    assert_eq!(s1["spec"]["clusterIPs"], json!([ip]));
    assert_eq!(s1["spec"]["ipFamilies"], json!(["IPv4"]));
    assert_eq!(s1["spec"]["ipFamilyPolicy"], "SingleStack");
    assert_eq!(s1["spec"]["sessionAffinity"], "None");
    assert_eq!(s1["spec"]["internalTrafficPolicy"], "Cluster");
    assert_eq!(s1["status"], json!({"loadBalancer": {}}));
    let s2 = get(&ts, "service", "s2");
    assert_ne!(s2["spec"]["clusterIP"], s1["spec"]["clusterIP"]);
    assert_eq!(s2["spec"]["ports"][0]["targetPort"], 81);
    let n1 = get(&ts, "service", "n1");
    let node_port = n1["spec"]["ports"][0]["nodePort"].as_u64().unwrap_or(0);
    assert!((30000..=32767).contains(&node_port), "{n1}");
    assert_eq!(n1["spec"]["externalTrafficPolicy"], "Cluster");
    assert_eq!(get(&ts, "service", "headless")["spec"]["clusterIP"], "None");
    let ext = get(&ts, "service", "ext");
    assert_eq!(ext["spec"].get("clusterIP"), None, "{ext}");
    assert_eq!(ext["spec"].get("ipFamilies"), None, "{ext}");

    // `kubectl get svc` shows them as a real cluster does.
    let table = ts.kubectl_ok(&["get", "service", "s1", "n1", "--no-headers"]);
    assert!(table.contains(&format!("ClusterIP   {ip}")), "{table}");
    assert!(table.contains(&format!("82:{node_port}/TCP")), "{table}");

    // A whole-object update without the allocated values keeps them.
    let mut replaced = s1.clone();
    for field in ["clusterIP", "clusterIPs"] {
        replaced["spec"]
            .as_object_mut()
            .map(|spec| spec.remove(field));
    }
    replaced["spec"]["selector"] = json!({"app": "other"});
    let (code, updated) = ts
        .raw(
            "PUT",
            "/api/v1/namespaces/default/services/s1",
            Some("application/json"),
            &replaced.to_string(),
        )
        .await;
    assert_eq!(code, 200, "{updated}");
    assert_eq!(updated["spec"]["clusterIP"], json!(ip));
    assert_eq!(updated["spec"]["selector"], json!({"app": "other"}));
    let mut replaced = n1.clone();
    replaced["spec"]["ports"][0]
        .as_object_mut()
        .map(|port| port.remove("nodePort"));
    let (code, updated) = ts
        .raw(
            "PUT",
            "/api/v1/namespaces/default/services/n1",
            Some("application/json"),
            &replaced.to_string(),
        )
        .await;
    assert_eq!(code, 200, "{updated}");
    assert_eq!(updated["spec"]["ports"][0]["nodePort"], json!(node_port));

    // A service made a NodePort one gets its node port then, and keeps its IP.
    ts.kubectl_ok(&[
        "patch",
        "service",
        "s2",
        "-p",
        r#"{"spec":{"type":"NodePort"}}"#,
    ]);
    let made = get(&ts, "service", "s2");
    let second = made["spec"]["ports"][0]["nodePort"].as_u64().unwrap_or(0);
    assert!(
        (30000..=32767).contains(&second) && second != node_port,
        "{made}"
    );
    assert_eq!(made["spec"]["clusterIP"], s2["spec"]["clusterIP"]);
}
