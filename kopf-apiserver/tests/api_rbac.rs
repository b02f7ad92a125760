//! RBAC enforcement (opt-in, `ServerConfig::rbac`): a service account's token from
//! `kubectl create token` is authorized by the Roles, ClusterRoles and bindings stored in
//! the cluster, denials are kube-apiserver's 403 message, `kubectl auth can-i` answers per
//! those rules, and the admin token keeps full access. All through kubectl.

use kopf_apiserver::ServerConfig;
use kopf_test_support::{TestServer, start_with};
use std::process::Output;

const RBAC: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: configmap-editor, namespace: default}
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get, list, watch, create]
  - apiGroups: [""]
    resources: [secrets]
    resourceNames: [allowed]
    verbs: [get]
  - apiGroups: [""]
    resources: [pods/status]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: robot-edits-configmaps, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: configmap-editor}
subjects:
  - {kind: ServiceAccount, name: robot, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: namespace-reader}
rules:
  - apiGroups: [""]
    resources: [namespaces]
    verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: robot-reads-namespaces}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: namespace-reader}
subjects:
  - {kind: ServiceAccount, name: robot, namespace: default}
"#;

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// kubectl as the service account (`--token`), expecting success.
fn as_robot_ok(ts: &TestServer, token: &str, args: &[&str]) -> String {
    let output = as_robot(ts, token, args);
    assert!(output.status.success(), "{args:?}: {}", text(&output));
    text(&output)
}

fn as_robot(ts: &TestServer, token: &str, args: &[&str]) -> Output {
    let mut all = vec!["--token", token];
    all.extend_from_slice(args);
    ts.kubectl(&all)
}

/// kubectl as the service account, expecting kube-apiserver's 403 with `message`.
fn as_robot_forbidden(ts: &TestServer, token: &str, args: &[&str], message: &str) {
    let output = as_robot(ts, token, args);
    assert!(!output.status.success(), "{args:?} was allowed");
    let expected = format!("Error from server (Forbidden): {message}");
    assert!(
        text(&output).contains(&expected),
        "{args:?}: expected {expected:?}, got: {}",
        text(&output)
    );
}

/// `kubectl auth can-i …` as the service account: `yes` or `no`.
fn can_i(ts: &TestServer, token: &str, args: &[&str]) -> String {
    let mut all = vec!["auth", "can-i"];
    all.extend_from_slice(args);
    String::from_utf8_lossy(&as_robot(ts, token, &all).stdout)
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_accounts_get_what_their_roles_allow_and_403_otherwise() {
    let ts = start_with(ServerConfig {
        rbac: true,
        ..ServerConfig::in_memory()
    })
    .await;
    ts.kubectl_ok(&["create", "serviceaccount", "robot", "-n", "default"]);
    let manifest = ts.write_file("rbac.yaml", RBAC);
    ts.kubectl_ok(&["apply", "-f", manifest.to_str().unwrap()]);
    ts.kubectl_ok(&["create", "secret", "generic", "allowed", "-n", "default"]);
    let token = ts.kubectl_ok(&["create", "token", "robot", "-n", "default"]);
    let token = token.trim();
    assert!(!token.is_empty());

    let user = "User \"system:serviceaccount:default:robot\"";
    // Allowed by the Role (in its namespace) and the ClusterRole (everywhere).
    as_robot_ok(
        &ts,
        token,
        &[
            "create",
            "configmap",
            "c1",
            "-n",
            "default",
            "--from-literal=a=b",
        ],
    );
    let listed = as_robot_ok(
        &ts,
        token,
        &["get", "configmaps", "-n", "default", "-o", "name"],
    );
    assert!(listed.contains("configmap/c1"), "{listed}");
    as_robot_ok(&ts, token, &["get", "namespaces"]);
    as_robot_ok(&ts, token, &["get", "secret", "allowed", "-n", "default"]);
    let whoami = as_robot_ok(&ts, token, &["auth", "whoami"]);
    assert!(
        whoami.contains("system:serviceaccount:default:robot"),
        "{whoami}"
    );

    // Denied: another verb, another resource, another name, another namespace, cluster scope.
    as_robot_forbidden(
        &ts,
        token,
        &["delete", "configmap", "c1", "-n", "default"],
        &format!(
            "configmaps \"c1\" is forbidden: {user} cannot delete resource \"configmaps\" in API group \"\" in the namespace \"default\""
        ),
    );
    as_robot_forbidden(
        &ts,
        token,
        &["get", "secrets", "-n", "default"],
        &format!(
            "secrets is forbidden: {user} cannot list resource \"secrets\" in API group \"\" in the namespace \"default\""
        ),
    );
    ts.kubectl_ok(&["create", "secret", "generic", "other", "-n", "default"]);
    as_robot_forbidden(
        &ts,
        token,
        &["get", "secret", "other", "-n", "default"],
        &format!(
            "secrets \"other\" is forbidden: {user} cannot get resource \"secrets\" in API group \"\" in the namespace \"default\""
        ),
    );
    as_robot_forbidden(
        &ts,
        token,
        &["get", "configmaps", "-n", "kube-system"],
        &format!(
            "configmaps is forbidden: {user} cannot list resource \"configmaps\" in API group \"\" in the namespace \"kube-system\""
        ),
    );
    as_robot_forbidden(
        &ts,
        token,
        &["get", "deployments.apps", "--all-namespaces"],
        &format!(
            "deployments.apps is forbidden: {user} cannot list resource \"deployments\" in API group \"apps\" at the cluster scope"
        ),
    );

    // `kubectl auth can-i` answers by the same rules.
    assert_eq!(
        can_i(&ts, token, &["create", "configmaps", "-n", "default"]),
        "yes"
    );
    assert_eq!(
        can_i(&ts, token, &["delete", "configmaps", "-n", "default"]),
        "no"
    );
    assert_eq!(
        can_i(&ts, token, &["list", "configmaps", "-n", "kube-system"]),
        "no"
    );
    assert_eq!(can_i(&ts, token, &["list", "namespaces"]), "yes");
    assert_eq!(
        can_i(&ts, token, &["get", "secrets/allowed", "-n", "default"]),
        "yes"
    );
    assert_eq!(
        can_i(&ts, token, &["get", "secrets/other", "-n", "default"]),
        "no"
    );
    assert_eq!(
        can_i(
            &ts,
            token,
            &["get", "pods", "--subresource=status", "-n", "default"]
        ),
        "yes"
    );
    assert_eq!(can_i(&ts, token, &["get", "pods", "-n", "default"]), "no");

    // The admin token keeps full access; a token nobody issued is not let in.
    ts.kubectl_ok(&["delete", "configmap", "c1", "-n", "default"]);
    assert_eq!(
        ts.kubectl_ok(&["auth", "can-i", "delete", "secrets", "-n", "kube-system"])
            .trim(),
        "yes"
    );
    let output = as_robot(&ts, "made-up", &["get", "configmaps", "-n", "default"]);
    assert!(!output.status.success());
    assert!(text(&output).contains("Unauthorized"), "{}", text(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_rbac_a_service_account_token_is_accepted_and_allowed_everything() {
    let ts = start_with(ServerConfig::in_memory()).await;
    ts.kubectl_ok(&["create", "serviceaccount", "robot", "-n", "default"]);
    let token = ts.kubectl_ok(&["create", "token", "robot", "-n", "default"]);
    as_robot_ok(&ts, token.trim(), &["get", "secrets", "-n", "kube-system"]);
    assert_eq!(can_i(&ts, token.trim(), &["delete", "nodes"]), "yes");
    let missing = ts.kubectl(&["create", "token", "nobody", "-n", "default"]);
    assert!(!missing.status.success());
    assert!(
        text(&missing).contains("serviceaccounts \"nobody\" not found"),
        "{}",
        text(&missing)
    );
}

/// API-130: impersonation (`kubectl --as`, `--as-group`): the admin acts as a service
/// account or any user and group, and RBAC judges the impersonated user; `auth whoami`
/// and `auth can-i` answer for them; a restricted caller needs the `impersonate` verb.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_130_impersonated_users_are_authorized_as_themselves() {
    let ts = start_with(ServerConfig {
        rbac: true,
        ..ServerConfig::in_memory()
    })
    .await;
    ts.kubectl_ok(&["create", "serviceaccount", "robot", "-n", "default"]);
    let manifest = ts.write_file("rbac.yaml", RBAC);
    ts.kubectl_ok(&["apply", "-f", manifest.to_str().unwrap()]);
    ts.kubectl_ok(&[
        "create",
        "role",
        "pod-reader",
        "--verb=get,list",
        "--resource=pods",
    ]);
    ts.kubectl_ok(&[
        "create",
        "rolebinding",
        "devs-read-pods",
        "--role=pod-reader",
        "--group=dev",
    ]);
    let robot = "system:serviceaccount:default:robot";

    let whoami = ts.kubectl_ok(&[
        "auth",
        "whoami",
        "--as=jane",
        "--as-group=dev",
        "-o",
        "json",
    ]);
    let review: serde_json::Value = serde_json::from_str(&whoami).expect("JSON");
    assert_eq!(
        review["status"]["userInfo"],
        serde_json::json!({"username": "jane", "groups": ["dev", "system:authenticated"]})
    );
    let can = |args: &[&str]| {
        let mut all = vec!["auth", "can-i"];
        all.extend_from_slice(args);
        String::from_utf8_lossy(&ts.kubectl(&all).stdout)
            .trim()
            .to_string()
    };
    assert_eq!(can(&["list", "pods", "--as=jane", "--as-group=dev"]), "yes");
    assert_eq!(can(&["list", "pods", "--as=jane"]), "no");
    assert_eq!(can(&["create", "pods", &format!("--as={robot}")]), "no");
    assert_eq!(
        can(&["create", "configmaps", &format!("--as={robot}")]),
        "yes"
    );

    let denied = ts.kubectl(&["get", "secrets", &format!("--as={robot}")]);
    assert!(!denied.status.success());
    assert!(
        text(&denied).contains(&format!(
            "Error from server (Forbidden): secrets is forbidden: User \"{robot}\" cannot list resource \"secrets\" in API group \"\" in the namespace \"default\""
        )),
        "{}",
        text(&denied)
    );
    ts.kubectl_ok(&["get", "pods", "--as=jane", "--as-group=dev"]);

    // The service account itself may not impersonate anyone.
    let token = ts.kubectl_ok(&["create", "token", "robot", "-n", "default"]);
    as_robot_forbidden(
        &ts,
        token.trim(),
        &["get", "configmaps", "--as=jane"],
        &format!(
            "users \"jane\" is forbidden: User \"{robot}\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
        ),
    );
}
