//! Rule API-124: lists and gets answer a `meta.k8s.io/v1` Table when the client asks for
//! one (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): a CRD's printer columns
//! after `Name` (priority > 0 only with `-o wide`), kube-apiserver's pod columns, `Age` as
//! kubectl prints ages; `includeObject` honoured. kubectl prints them.

use kopf_test_support::{kubectl_command, start};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

const GIZMO_CRD: &str = r#"{
  "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
  "metadata": {"name": "gizmos.example.com"},
  "spec": {"group": "example.com", "scope": "Namespaced",
    "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo", "shortNames": ["gz"]},
    "versions": [{"name": "v1", "served": true, "storage": true,
      "additionalPrinterColumns": [
        {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
        {"name": "Replicas", "type": "integer", "jsonPath": ".status.replicas", "priority": 1},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}],
      "schema": {"openAPIV3Schema": {"type": "object", "properties": {
        "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}}"#;

fn header(output: &str) -> Vec<String> {
    output
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_124_tables_for_kubectl_get() {
    let ts = start().await;
    kopf_test_support::create_crd_from(&ts, GIZMO_CRD).await;
    let gizmo = json!({"apiVersion": "example.com/v1", "kind": "Gizmo",
        "metadata": {"name": "g1"}, "spec": {"size": 7}});
    let (code, body) = ts
        .raw(
            "POST",
            "/apis/example.com/v1/namespaces/default/gizmos",
            Some("application/json"),
            &gizmo.to_string(),
        )
        .await;
    assert_eq!(code, 201, "{body}");

    let out = ts.kubectl_ok(&["get", "gz"]);
    assert_eq!(header(&out), ["NAME", "SIZE", "AGE"], "{out}");
    let row: Vec<&str> = out
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(&row[..2], ["g1", "7"], "{out}");
    assert!(row[2].ends_with('s'), "an age in seconds: {out}");
    let wide = ts.kubectl_ok(&["get", "gz", "-o", "wide"]);
    assert_eq!(header(&wide), ["NAME", "SIZE", "REPLICAS", "AGE"], "{wide}");

    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1", "namespace": "default"},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]}});
    let file = ts.write_file("pod.json", &pod.to_string());
    ts.kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);
    let pods = ts.kubectl_ok(&["get", "pods"]);
    assert_eq!(
        header(&pods),
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        "{pods}"
    );
    let row: Vec<&str> = pods
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(&row[..4], ["p1", "0/1", "Pending", "0"], "{pods}");

    let (code, table) = ts
        .raw_accept(
            "/api/v1/namespaces/default/pods?includeObject=None",
            "application/json;as=Table;v=v1;g=meta.k8s.io",
        )
        .await;
    assert_eq!(code, 200, "{table}");
    assert_eq!(table["kind"], "Table");
    assert!(table["rows"][0].get("object").is_none(), "{table}");
    // `kubectl get -w`: the watch's events are Tables too, one row each, one header.
    let mut child = kubectl_command(&ts.kubeconfig, &ts.dir)
        .args(["get", "gz", "-w"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> String {
        tokio::time::timeout(Duration::from_secs(15), rx.recv())
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    }
    assert_eq!(header(&next(&mut rx).await), ["NAME", "SIZE", "AGE"]);
    assert!(next(&mut rx).await.starts_with("g1 "));
    let second = json!({"apiVersion": "example.com/v1", "kind": "Gizmo",
        "metadata": {"name": "g2"}, "spec": {"size": 3}});
    ts.raw(
        "POST",
        "/apis/example.com/v1/namespaces/default/gizmos",
        Some("application/json"),
        &second.to_string(),
    )
    .await;
    let row = next(&mut rx).await;
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cells[..2], ["g2", "3"], "{row}");
    child.kill().unwrap();
    let _ = child.wait();

    // Plain JSON when a Table is not asked for.
    let (_, list) = ts
        .raw("GET", "/api/v1/namespaces/default/pods", None, "")
        .await;
    assert_eq!(list["kind"], "PodList");
}

/// API-124: the other built-in kinds print kube-apiserver's columns (and `-o wide` its
/// priority-1 ones).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_124_builtin_kinds_print_kube_apiserver_columns() {
    let ts = kopf_test_support::start().await;
    let objects = ts.write_file(
        "objects.yaml",
        r#"apiVersion: v1
kind: Secret
metadata: {name: s1, namespace: default}
type: Opaque
data: {a: YQ==}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {selector: {app: web}, ports: [{port: 80, protocol: TCP}], clusterIP: 10.0.0.10}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa1, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb1, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r1}
subjects: [{kind: ServiceAccount, name: sa1, namespace: default}]
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: l1, namespace: default}
spec: {holderIdentity: me}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: q1, namespace: default}
spec: {hard: {pods: "10"}}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs1, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: j1, namespace: default}
spec:
  template:
    spec: {containers: [{name: c, image: busybox}], restartPolicy: Never}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: c1, namespace: default}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec: {containers: [{name: c, image: busybox}], restartPolicy: OnFailure}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: pdb1, namespace: default}
spec: {minAvailable: 1, selector: {matchLabels: {app: x}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i1, namespace: default}
spec:
  rules:
  - host: foo.com
    http:
      paths:
      - {path: /bar, pathType: Exact, backend: {service: {name: svc1, port: {number: 8080}}}}
"#,
    );
    ts.kubectl_ok(&["apply", "-f", objects.to_str().unwrap()]);
    let rows = |args: &[&str]| -> Vec<Vec<String>> {
        ts.kubectl_ok(args)
            .lines()
            .map(|l| {
                l.split("   ")
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .collect()
    };
    let header = |args: &[&str]| rows(args)[0].join(" | ");
    assert_eq!(header(&["get", "secrets"]), "NAME | TYPE | DATA | AGE");
    assert_eq!(rows(&["get", "secrets"])[1][..3], ["s1", "Opaque", "1"]);
    assert_eq!(
        header(&["get", "services", "-o", "wide"]),
        "NAME | TYPE | CLUSTER-IP | EXTERNAL-IP | PORT(S) | AGE | SELECTOR"
    );
    let web = &rows(&["get", "services", "-o", "wide"])[1];
    assert_eq!(
        web[..5],
        ["web", "ClusterIP", "10.0.0.10", "<none>", "80/TCP"]
    );
    assert_eq!(web[6], "app=web");
    assert_eq!(header(&["get", "serviceaccounts"]), "NAME | SECRETS | AGE");
    assert_eq!(
        header(&["get", "rolebindings", "-o", "wide"]),
        "NAME | ROLE | AGE | USERS | GROUPS | SERVICEACCOUNTS"
    );
    assert!(
        ts.kubectl_ok(&["get", "rolebindings", "-o", "wide"])
            .contains("default/sa1")
    );
    assert_eq!(header(&["get", "leases"]), "NAME | HOLDER | AGE");
    assert_eq!(rows(&["get", "leases"])[1][..2], ["l1", "me"]);
    assert_eq!(header(&["get", "quota"]), "NAME | AGE | REQUEST | LIMIT");
    assert_eq!(
        header(&["get", "priorityclasses"]),
        "NAME | VALUE | GLOBAL-DEFAULT | AGE | PREEMPTIONPOLICY"
    );
    let high = &rows(&["get", "priorityclasses"])[1];
    assert_eq!(high[..3], ["high", "1000", "false"]);
    assert_eq!(high[4], "PreemptLowerPriority");
    assert_eq!(
        header(&["get", "jobs"]),
        "NAME | STATUS | COMPLETIONS | DURATION | AGE"
    );
    assert_eq!(rows(&["get", "jobs"])[1][..3], ["j1", "Running", "0/1"]);
    assert_eq!(
        header(&["get", "cronjobs"]),
        "NAME | SCHEDULE | TIMEZONE | SUSPEND | ACTIVE | LAST SCHEDULE | AGE"
    );
    assert_eq!(
        rows(&["get", "cronjobs"])[1][..6],
        ["c1", "*/5 * * * *", "<none>", "False", "0", "<none>"]
    );
    assert_eq!(
        header(&["get", "pdb"]),
        "NAME | MIN AVAILABLE | MAX UNAVAILABLE | ALLOWED DISRUPTIONS | AGE"
    );
    assert_eq!(rows(&["get", "pdb"])[1][..4], ["pdb1", "1", "N/A", "0"]);
    assert_eq!(
        header(&["get", "ingresses"]),
        "NAME | CLASS | HOSTS | ADDRESS | PORTS | AGE"
    );
    assert_eq!(
        rows(&["get", "ingresses"])[1][..3],
        ["i1", "<none>", "foo.com"]
    );
    assert_eq!(
        header(&["get", "replicasets", "-o", "wide"]),
        "NAME | DESIRED | CURRENT | READY | AGE | CONTAINERS | IMAGES | SELECTOR"
    );
}

/// Events print kube-apiserver's columns, and `-o wide` adds its five wide ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_124_events_print_kube_apiservers_wide_columns() {
    let ts = start().await;
    let event = json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "web.1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default",
                           "fieldPath": "spec.containers{web}"},
        "reason": "Started", "message": "Started container web ", "type": "Normal",
        "source": {"component": "kubelet", "host": "node-1"}, "count": 3,
        "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z"});
    let (code, body) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/events",
            Some("application/json"),
            &event.to_string(),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let plain = ts.kubectl_ok(&["get", "events"]);
    assert_eq!(
        columns(&plain),
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        "{plain}"
    );
    let wide = ts.kubectl_ok(&["get", "events", "-o", "wide"]);
    assert_eq!(
        columns(&wide),
        [
            "LAST SEEN",
            "TYPE",
            "REASON",
            "OBJECT",
            "SUBOBJECT",
            "SOURCE",
            "MESSAGE",
            "FIRST SEEN",
            "COUNT",
            "NAME"
        ],
        "{wide}"
    );
    let row = wide.lines().nth(1).unwrap_or_default();
    for cell in [
        "Normal",
        "Started",
        "pod/web",
        "spec.containers{web}",
        "kubelet, node-1",
        "Started container web",
        "3",
        "web.1",
    ] {
        assert!(row.contains(cell), "{cell} is not in: {row}");
    }
}

/// A header's column names, which may have spaces in them (`LAST SEEN`).
fn columns(output: &str) -> Vec<String> {
    output
        .lines()
        .next()
        .unwrap_or_default()
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}
