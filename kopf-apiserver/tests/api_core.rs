//! Conformance: transport, discovery, CRUD, resourceVersion, lists (API-01..56, 70..73, 120).

use k8s_openapi::api::core::v1::ConfigMap;
use kopf_test_support::*;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::{Value, json};

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"a": "1"}})).unwrap()
}

#[tokio::test]
async fn api_01_https_requires_the_bearer_token() {
    let ts = start().await;
    assert!(ts.server.url().starts_with("https://127.0.0.1:"));
    // The kube client (with the token) works.
    let version = ts.client.apiserver_version().await.unwrap();
    assert_eq!(version.major, "1");
    // A client without the token gets 401 with a Status body.
    let mut kubeconfig = kube::config::Kubeconfig::from_yaml(&ts.server.kubeconfig()).unwrap();
    kubeconfig.auth_infos[0].auth_info.as_mut().unwrap().token = None;
    let anonymous = kube::Client::try_from(config_from(kubeconfig).await).unwrap();
    let err = Api::<ConfigMap>::namespaced(anonymous, "default")
        .list(&ListParams::default())
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 401);
            assert_eq!(status.reason, "Unauthorized");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn api_01_plain_http_mode_needs_no_credentials() {
    let ts = start_http().await;
    assert!(ts.server.url().starts_with("http://"));
    assert!(ts.server.token().is_none());
    let client =
        kube::Client::try_from(kube::Config::new(ts.server.url().parse().unwrap())).unwrap();
    let list = Api::<ConfigMap>::namespaced(client, "default")
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(list.items.is_empty());
}

#[tokio::test]
async fn api_02_json_is_the_default_representation() {
    let ts = start().await;
    let request = http::Request::get("/api/v1/namespaces")
        .body(Vec::new())
        .unwrap();
    let response = ts
        .client
        .send(request.map(kube::client::Body::from))
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/json");
}

#[tokio::test]
async fn api_04_protobuf_bodies_get_415() {
    let ts = start().await;
    let (code, body) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/vnd.kubernetes.protobuf"),
            "k8s\0",
        )
        .await;
    assert_eq!(code, 415);
    assert_eq!(body["reason"], "UnsupportedMediaType");
}

#[tokio::test]
async fn api_05_unknown_paths_are_404_not_found() {
    let ts = start().await;
    for path in [
        "/apis/nope.dev/v1",
        "/apis/nope.dev",
        "/api/v1/nopes",
        "/apis/apps/v9/deployments",
        "/nothing",
    ] {
        let (code, body) = ts.raw("GET", path, None, "").await;
        assert_eq!(code, 404, "{path}");
        assert_eq!(body["kind"], "Status");
        assert_eq!(body["reason"], "NotFound");
        assert_eq!(
            body["message"],
            "the server could not find the requested resource"
        );
    }
}

#[tokio::test]
async fn api_06_dry_run_persists_nothing() {
    let ts = start().await;
    let rv = ts.server.control().resource_version();
    let (code, body) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps?dryRun=All",
            Some("application/json"),
            r#"{"metadata":{"name":"dry"}}"#,
        )
        .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["metadata"]["name"], "dry");
    assert_eq!(ts.server.control().resource_version(), rv);
    let (code, _) = ts
        .raw("GET", "/api/v1/namespaces/default/configmaps/dry", None, "")
        .await;
    assert_eq!(code, 404);

    // A dry-run patch answers with the patched object and stores nothing either.
    let (code, _) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            r#"{"metadata":{"name":"wet"},"data":{"a":"1"}}"#,
        )
        .await;
    assert_eq!(code, 201);
    let rv = ts.server.control().resource_version();
    let (code, body) = ts
        .raw(
            "PATCH",
            "/api/v1/namespaces/default/configmaps/wet?dryRun=All&fieldManager=m",
            Some("application/merge-patch+json"),
            r#"{"data":{"a":"2"}}"#,
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["a"], "2");
    assert_eq!(ts.server.control().resource_version(), rv);
    let (_, stored) = ts
        .raw("GET", "/api/v1/namespaces/default/configmaps/wet", None, "")
        .await;
    assert_eq!(stored["data"]["a"], "1");
}

#[tokio::test]
async fn api_10_api_versions() {
    let ts = start().await;
    let (code, body) = ts.raw("GET", "/api", None, "").await;
    assert_eq!(code, 200);
    assert_eq!(body["kind"], "APIVersions");
    assert_eq!(body["versions"], json!(["v1"]));
    assert_eq!(
        body["serverAddressByClientCIDRs"][0]["serverAddress"],
        ts.server.addr().to_string()
    );
}

#[tokio::test]
async fn api_11_api_group_list() {
    let ts = start().await;
    let (code, body) = ts.raw("GET", "/apis", None, "").await;
    assert_eq!(code, 200);
    assert_eq!(body["kind"], "APIGroupList");
    let groups = body["groups"].as_array().unwrap();
    let coordination = groups
        .iter()
        .find(|g| g["name"] == "coordination.k8s.io")
        .unwrap();
    assert_eq!(
        coordination["preferredVersion"]["groupVersion"],
        "coordination.k8s.io/v1"
    );
    assert_eq!(coordination["versions"][0]["version"], "v1");
    assert!(groups.iter().any(|g| g["name"] == "apiextensions.k8s.io"));
}

#[tokio::test]
async fn api_12_resource_lists_with_status_rows() {
    let ts = start().await;
    let (_, core) = ts.raw("GET", "/api/v1", None, "").await;
    assert_eq!(core["groupVersion"], "v1");
    let rows = core["resources"].as_array().unwrap();
    let cm = rows.iter().find(|r| r["name"] == "configmaps").unwrap();
    assert_eq!(cm["namespaced"], true);
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["singularName"], "configmap");
    assert!(cm["verbs"].as_array().unwrap().contains(&json!("watch")));
    create_crd(&ts).await;
    let (_, gv) = ts.raw("GET", "/apis/kopf.dev/v1", None, "").await;
    assert_eq!(gv["groupVersion"], "kopf.dev/v1");
    let status = gv["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "kopfexamples/status")
        .unwrap();
    assert_eq!(status["verbs"], json!(["get", "patch", "update"]));
    let main = gv["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "kopfexamples")
        .unwrap();
    assert_eq!(main["shortNames"], json!(["kex"]));
}

#[tokio::test]
async fn api_14_discovery_is_updated_before_the_crd_is_observable() {
    let ts = start().await;
    let (code, _) = ts.raw("GET", "/apis/kopf.dev/v1", None, "").await;
    assert_eq!(code, 404);
    create_crd(&ts).await;
    let (code, _) = ts.raw("GET", "/apis/kopf.dev/v1", None, "").await;
    assert_eq!(code, 200);
    let (code, _) = ts
        .raw(
            "GET",
            "/apis/kopf.dev/v1/namespaces/default/kopfexamples",
            None,
            "",
        )
        .await;
    assert_eq!(code, 200);
    let (_, groups) = ts.raw("GET", "/apis", None, "").await;
    assert!(
        groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "kopf.dev")
    );
}

#[tokio::test]
async fn api_15_version() {
    let ts = start().await;
    let (code, body) = ts.raw("GET", "/version?timeout=5s", None, "").await;
    assert_eq!(code, 200);
    assert_eq!(body["major"], "1");
    assert_eq!(body["minor"], "32");
}

#[tokio::test]
async fn api_30_create_returns_201_with_system_fields() {
    let ts = start().await;
    let (code, body) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            r#"{"metadata":{"name":"x"},"data":{"a":"b"}}"#,
        )
        .await;
    assert_eq!(code, 201);
    assert_eq!(body["apiVersion"], "v1");
    assert_eq!(body["kind"], "ConfigMap");
    assert_eq!(body["metadata"]["namespace"], "default");
    assert_eq!(body["metadata"]["generation"], 1);
    assert_eq!(body["metadata"]["uid"].as_str().unwrap().len(), 36);
    let ts_text = body["metadata"]["creationTimestamp"].as_str().unwrap();
    assert!(ts_text.ends_with('Z') && ts_text.len() == 20, "{ts_text}");
    assert!(
        body["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
}

#[tokio::test]
async fn api_31_generate_name() {
    let ts = start().await;
    let (code, body) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/events",
            Some("application/json"),
            r#"{"metadata":{"generateName":"kopf-event-"},"reason":"r"}"#,
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let name = body["metadata"]["name"].as_str().unwrap();
    let suffix = name.strip_prefix("kopf-event-").unwrap();
    assert_eq!(suffix.len(), 5);
    assert!(
        suffix
            .chars()
            .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c))
    );
}

#[tokio::test]
async fn api_32_name_is_required() {
    let ts = start().await;
    let (code, body) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            r#"{"metadata":{}}"#,
        )
        .await;
    assert_eq!(code, 422);
    assert_eq!(body["reason"], "Invalid");
    assert_eq!(body["details"]["causes"][0]["field"], "metadata.name");
    assert_eq!(
        body["details"]["causes"][0]["message"],
        "Required value: name or generateName is required"
    );
}

#[tokio::test]
async fn api_33_existing_name_is_409_already_exists() {
    let ts = start().await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    api.create(&PostParams::default(), &cm("x")).await.unwrap();
    match api
        .create(&PostParams::default(), &cm("x"))
        .await
        .unwrap_err()
    {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 409);
            assert_eq!(status.reason, "AlreadyExists");
            assert_eq!(status.message, "configmaps \"x\" already exists");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn api_34_namespace_comes_from_the_url() {
    let ts = start().await;
    let (code, body) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            r#"{"metadata":{"name":"x","namespace":"other"}}"#,
        )
        .await;
    assert_eq!(code, 400);
    assert_eq!(
        body["message"],
        "the namespace of the provided object does not match the namespace sent on the request"
    );
    let (code, body) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/missing/configmaps",
            Some("application/json"),
            r#"{"metadata":{"name":"x"}}"#,
        )
        .await;
    assert_eq!(code, 404);
    assert_eq!(body["message"], "namespaces \"missing\" not found");
}

#[tokio::test]
async fn api_36_client_set_system_fields_are_overwritten() {
    let ts = start().await;
    let (code, body) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            r#"{"metadata":{"name":"x","uid":"u","generation":7,"creationTimestamp":"2000-01-01T00:00:00Z"}}"#,
        )
        .await;
    assert_eq!(code, 201);
    assert_ne!(body["metadata"]["uid"], "u");
    assert_eq!(body["metadata"]["generation"], 1);
    assert_ne!(
        body["metadata"]["creationTimestamp"],
        "2000-01-01T00:00:00Z"
    );
    let (code, _) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            r#"{"metadata":{"name":"y","resourceVersion":"5"}}"#,
        )
        .await;
    assert_eq!(code, 400);
}

#[tokio::test]
async fn api_37_names_must_be_dns_subdomains() {
    let ts = start().await;
    let (code, body) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            r#"{"metadata":{"name":"Bad_Name"}}"#,
        )
        .await;
    assert_eq!(code, 422);
    assert_eq!(body["details"]["causes"][0]["field"], "metadata.name");
}

#[tokio::test]
async fn api_38_empty_metadata_collections_are_removed() {
    let ts = start().await;
    let (_, body) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            r#"{"metadata":{"name":"x","labels":{},"annotations":{"a":"b"},"finalizers":[]}}"#,
        )
        .await;
    assert!(body["metadata"].get("labels").is_none());
    assert!(body["metadata"].get("finalizers").is_none());
    let (_, body) = ts
        .raw(
            "PATCH",
            "/api/v1/namespaces/default/configmaps/x",
            Some("application/merge-patch+json"),
            r#"{"metadata":{"annotations":{"a":null}}}"#,
        )
        .await;
    assert!(body["metadata"].get("annotations").is_none(), "{body}");
}

#[tokio::test]
async fn api_40_every_write_bumps_the_global_version() {
    let ts = start().await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    let a = api.create(&PostParams::default(), &cm("a")).await.unwrap();
    let b = api.create(&PostParams::default(), &cm("b")).await.unwrap();
    let rv = |c: &ConfigMap| {
        c.metadata
            .resource_version
            .clone()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert!(rv(&b) > rv(&a));
    assert_eq!(ts.server.control().resource_version(), rv(&b));
    let patched = api
        .patch(
            "a",
            &Default::default(),
            &kube::api::Patch::Merge(json!({"data": {"a": "2"}})),
        )
        .await
        .unwrap();
    assert!(rv(&patched) > rv(&b));
    let got = api.get("a").await.unwrap();
    assert_eq!(rv(&got), rv(&patched));
}

#[tokio::test]
async fn api_41_no_op_writes_do_not_bump_the_version() {
    let ts = start().await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    let created = api.create(&PostParams::default(), &cm("a")).await.unwrap();
    let before = ts.server.control().resource_version();
    let patched = api
        .patch(
            "a",
            &Default::default(),
            &kube::api::Patch::Merge(json!({"data": {"a": "1"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        patched.metadata.resource_version,
        created.metadata.resource_version
    );
    assert_eq!(ts.server.control().resource_version(), before);
}

#[tokio::test]
async fn api_42_list_version_covers_its_items() {
    let ts = start().await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    let list = api.list(&ListParams::default()).await.unwrap();
    let list_rv: u64 = list.metadata.resource_version.unwrap().parse().unwrap();
    for item in list.items {
        assert!(
            item.metadata
                .resource_version
                .unwrap()
                .parse::<u64>()
                .unwrap()
                <= list_rv
        );
    }
}

#[tokio::test]
async fn api_50_missing_object_is_404() {
    let ts = start().await;
    let (code, body) = ts
        .raw("GET", "/api/v1/namespaces/default/configmaps/x", None, "")
        .await;
    assert_eq!(code, 404);
    assert_eq!(body["message"], "configmaps \"x\" not found");
    assert_eq!(
        body["details"],
        json!({"name": "x", "group": "", "kind": "configmaps"})
    );
}

#[tokio::test]
async fn api_51_list_shape() {
    let ts = start().await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    for name in ["b", "a"] {
        api.create(&PostParams::default(), &cm(name)).await.unwrap();
    }
    let (code, body) = ts
        .raw("GET", "/api/v1/namespaces/default/configmaps", None, "")
        .await;
    assert_eq!(code, 200);
    assert_eq!(body["kind"], "ConfigMapList");
    assert_eq!(body["apiVersion"], "v1");
    assert!(body["metadata"]["resourceVersion"].is_string());
    let names: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"]);
}

#[tokio::test]
async fn api_53_paging_with_continue() {
    let ts = start().await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    for i in 0..5 {
        api.create(&PostParams::default(), &cm(&format!("c{i}")))
            .await
            .unwrap();
    }
    let first = api.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let token = first.metadata.continue_.clone().unwrap();
    let second = api
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(
        second.metadata.resource_version,
        first.metadata.resource_version
    );
    let token = second.metadata.continue_.clone().unwrap();
    let third = api
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(third.items.len(), 1);
    assert!(third.metadata.continue_.as_deref().unwrap_or("").is_empty());
    let (code, _) = ts
        .raw(
            "GET",
            "/api/v1/namespaces/default/configmaps?limit=2&continue=garbage!",
            None,
            "",
        )
        .await;
    assert_eq!(code, 400);
}

#[tokio::test]
async fn api_54_label_selectors() {
    let ts = start().await;
    for (name, env) in [("a", "prod"), ("b", "dev"), ("c", "")] {
        let labels = if env.is_empty() {
            json!({})
        } else {
            json!({"env": env})
        };
        let (code, _) = ts
            .raw(
                "POST",
                "/api/v1/namespaces/default/configmaps",
                Some("application/json"),
                &json!({"metadata": {"name": name, "labels": labels}}).to_string(),
            )
            .await;
        assert_eq!(code, 201);
    }
    let names = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    for (selector, expected) in [
        ("env%3Dprod", vec!["a"]),
        ("env%3D%3Dprod", vec!["a"]),
        ("env!%3Dprod", vec!["b", "c"]),
        ("env%20in%20(prod,dev)", vec!["a", "b"]),
        ("env%20notin%20(prod)", vec!["b", "c"]),
        ("env", vec!["a", "b"]),
        ("!env", vec!["c"]),
    ] {
        let (code, body) = ts
            .raw(
                "GET",
                &format!("/api/v1/namespaces/default/configmaps?labelSelector={selector}"),
                None,
                "",
            )
            .await;
        assert_eq!(code, 200, "{selector}: {body}");
        assert_eq!(names(&body), expected, "{selector}");
    }
}

#[tokio::test]
async fn api_55_field_selectors() {
    let ts = start().await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    api.create(&PostParams::default(), &cm("b")).await.unwrap();
    let list = api
        .list(&ListParams::default().fields("metadata.name=b"))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    let (code, body) = ts
        .raw(
            "GET",
            "/api/v1/namespaces/default/configmaps?fieldSelector=data.a%3D1",
            None,
            "",
        )
        .await;
    assert_eq!(code, 400);
    assert_eq!(body["message"], "field label not supported: data.a");
    let (code, body) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/events",
            Some("application/json"),
            r#"{"metadata":{"name":"e"},"involvedObject":{"kind":"Pod","name":"p"}}"#,
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let (_, body) = ts
        .raw(
            "GET",
            "/api/v1/events?fieldSelector=involvedObject.name%3Dp,involvedObject.kind%3DPod",
            None,
            "",
        )
        .await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn api_56_all_namespaces_and_cluster_scope() {
    let ts = start().await;
    for ns in ["default", "kube-system"] {
        Api::<ConfigMap>::namespaced(ts.client.clone(), ns)
            .create(&PostParams::default(), &cm("x"))
            .await
            .unwrap();
    }
    let all = Api::<ConfigMap>::all(ts.client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(all.items.len(), 2);
    let (code, _) = ts
        .raw("GET", "/api/v1/namespaces/default/namespaces", None, "")
        .await;
    assert_eq!(code, 404);
    let (code, body) = ts.raw("GET", "/api/v1/namespaces/default", None, "").await;
    assert_eq!(code, 200);
    assert_eq!(body["kind"], "Namespace");
    assert_eq!(body["status"]["phase"], "Active");
}

#[tokio::test]
async fn api_70_custom_resources_need_a_version_to_put() {
    let ts = start().await;
    create_crd(&ts).await;
    let path = "/apis/kopf.dev/v1/namespaces/default/kopfexamples";
    let (code, _) = ts
        .raw(
            "POST",
            path,
            Some("application/json"),
            r#"{"metadata":{"name":"k"},"spec":{"a":1}}"#,
        )
        .await;
    assert_eq!(code, 201);
    let (code, body) = ts
        .raw(
            "PUT",
            &format!("{path}/k"),
            Some("application/json"),
            r#"{"metadata":{"name":"k"},"spec":{"a":2}}"#,
        )
        .await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["details"]["causes"][0]["message"],
        "Invalid value: 0x0: must be specified for an update"
    );
    // Built-ins allow it.
    let (code, _) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            r#"{"metadata":{"name":"c"}}"#,
        )
        .await;
    assert_eq!(code, 201);
    let (code, body) = ts
        .raw(
            "PUT",
            "/api/v1/namespaces/default/configmaps/c",
            Some("application/json"),
            r#"{"metadata":{"name":"c"},"data":{"x":"y"}}"#,
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(body["data"]["x"], "y");
}

#[tokio::test]
async fn api_71_stale_version_is_409_conflict() {
    let ts = start().await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    let created = api.create(&PostParams::default(), &cm("x")).await.unwrap();
    let mut updated = created.clone();
    updated.data = Some([("a".to_string(), "2".to_string())].into());
    api.replace("x", &PostParams::default(), &updated)
        .await
        .unwrap();
    match api
        .replace("x", &PostParams::default(), &updated)
        .await
        .unwrap_err()
    {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 409);
            assert_eq!(status.reason, "Conflict");
            assert_eq!(
                status.message,
                "Operation cannot be fulfilled on configmaps \"x\": the object has been modified; please apply your changes to the latest version and try again"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn api_72_put_of_missing_or_renamed() {
    let ts = start().await;
    let (code, _) = ts
        .raw(
            "PUT",
            "/api/v1/namespaces/default/configmaps/x",
            Some("application/json"),
            r#"{"metadata":{"name":"x"}}"#,
        )
        .await;
    assert_eq!(code, 404);
    ts.raw(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        Some("application/json"),
        r#"{"metadata":{"name":"x"}}"#,
    )
    .await;
    let (code, body) = ts
        .raw(
            "PUT",
            "/api/v1/namespaces/default/configmaps/x",
            Some("application/json"),
            r#"{"metadata":{"name":"y"}}"#,
        )
        .await;
    assert_eq!(code, 400);
    assert_eq!(
        body["message"],
        "the name of the object (y) does not match the name on the URL (x)"
    );
}

#[tokio::test]
async fn api_73_system_fields_are_immutable() {
    let ts = start().await;
    let (_, created) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            r#"{"metadata":{"name":"x"}}"#,
        )
        .await;
    let body = json!({"metadata": {"name": "x", "creationTimestamp": "2000-01-01T00:00:00Z", "generation": 9}, "data": {"a": "b"}});
    let (code, updated) = ts
        .raw(
            "PUT",
            "/api/v1/namespaces/default/configmaps/x",
            Some("application/json"),
            &body.to_string(),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(
        updated["metadata"]["creationTimestamp"],
        created["metadata"]["creationTimestamp"]
    );
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
    assert_eq!(updated["metadata"]["generation"], 2);
    let body = json!({"metadata": {"name": "x", "uid": "other"}});
    let (code, _) = ts
        .raw(
            "PUT",
            "/api/v1/namespaces/default/configmaps/x",
            Some("application/json"),
            &body.to_string(),
        )
        .await;
    assert_eq!(code, 422);
}

#[tokio::test]
async fn api_104_delete_without_finalizers_returns_status() {
    let ts = start().await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    let created = api.create(&PostParams::default(), &cm("x")).await.unwrap();
    let (code, body) = ts
        .raw(
            "DELETE",
            "/api/v1/namespaces/default/configmaps/x",
            Some("application/json"),
            r#"{"propagationPolicy":"Background"}"#,
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["status"], "Success");
    assert_eq!(body["details"]["uid"], json!(created.metadata.uid.unwrap()));
    assert_eq!(body["details"]["kind"], "configmaps");
    let err = api.delete("x", &DeleteParams::default()).await.unwrap_err();
    assert!(matches!(err, kube::Error::Api(s) if s.code == 404));
}

#[tokio::test]
async fn api_120_errors_are_status_objects() {
    let ts = start().await;
    let (code, body) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            "{not json",
        )
        .await;
    assert_eq!(code, 400);
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["apiVersion"], "v1");
    assert_eq!(body["status"], "Failure");
    assert_eq!(body["reason"], "BadRequest");
    assert_eq!(body["code"], 400);
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let ts = start_with(kopf_apiserver::ServerConfig {
        max_body_bytes: 1000,
        ..kopf_apiserver::ServerConfig::in_memory()
    })
    .await;
    let big = json!({"metadata": {"name": "x"}, "data": {"a": "x".repeat(2000)}}).to_string();
    let (code, body) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            &big,
        )
        .await;
    assert_eq!(code, 413);
    assert_eq!(body["reason"], "RequestEntityTooLarge");
}

#[tokio::test]
async fn api_20_21_openapi_v3_index_and_documents() {
    let ts = start().await;
    let (code, index) = ts.raw("GET", "/openapi/v3", None, "").await;
    assert_eq!(code, 200);
    let core_url = index["paths"]["api/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(core_url.starts_with("/openapi/v3/api/v1?hash="));
    assert!(index["paths"].get("apis/kopf.dev/v1").is_none());
    create_crd(&ts).await;
    let (_, index) = ts.raw("GET", "/openapi/v3", None, "").await;
    let url = index["paths"]["apis/kopf.dev/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, doc) = ts.raw("GET", &url, None, "").await;
    assert_eq!(code, 200);
    assert_eq!(doc["openapi"], "3.0.0");
    let patch =
        &doc["paths"]["/apis/kopf.dev/v1/namespaces/{namespace}/kopfexamples/{name}"]["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"],
        json!({"group": "kopf.dev", "version": "v1", "kind": "KopfExample"})
    );
    assert!(
        patch["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "fieldValidation")
    );
    let (code, _) = ts
        .raw("GET", "/openapi/v3/apis/nope.dev/v1", None, "")
        .await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn api_52_resource_version_parameters_on_reads() {
    let ts = start().await;
    let api = Api::<ConfigMap>::namespaced(ts.client.clone(), "default");
    api.create(&PostParams::default(), &cm("a")).await.unwrap();
    let rv = ts.server.control().resource_version();
    for query in [
        "resourceVersion=0",
        &format!("resourceVersion={rv}&resourceVersionMatch=NotOlderThan"),
        "",
    ] {
        let (code, body) = ts
            .raw(
                "GET",
                &format!("/api/v1/namespaces/default/configmaps?{query}"),
                None,
                "",
            )
            .await;
        assert_eq!(code, 200, "{query}");
        assert_eq!(body["items"].as_array().unwrap().len(), 1);
        let (code, body) = ts
            .raw(
                "GET",
                &format!("/api/v1/namespaces/default/configmaps/a?{query}"),
                None,
                "",
            )
            .await;
        assert_eq!(code, 200, "{query}");
        assert_eq!(body["metadata"]["name"], "a");
    }
}

#[tokio::test]
async fn api_105_delete_options_and_preconditions() {
    let ts = start().await;
    let (_, created) = ts
        .raw(
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json"),
            r#"{"metadata":{"name":"x"}}"#,
        )
        .await;
    let wrong =
        json!({"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "nope"}});
    let (code, body) = ts
        .raw(
            "DELETE",
            "/api/v1/namespaces/default/configmaps/x",
            Some("application/json"),
            &wrong.to_string(),
        )
        .await;
    assert_eq!(code, 409, "{body}");
    let stale = json!({"preconditions": {"resourceVersion": "1"}});
    let (code, _) = ts
        .raw(
            "DELETE",
            "/api/v1/namespaces/default/configmaps/x",
            Some("application/json"),
            &stale.to_string(),
        )
        .await;
    assert_eq!(code, 409);
    let right = json!({"propagationPolicy": "Background", "preconditions": {"uid": created["metadata"]["uid"], "resourceVersion": created["metadata"]["resourceVersion"]}});
    let (code, body) = ts
        .raw(
            "DELETE",
            "/api/v1/namespaces/default/configmaps/x",
            Some("application/json"),
            &right.to_string(),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(body["status"], "Success");
}
