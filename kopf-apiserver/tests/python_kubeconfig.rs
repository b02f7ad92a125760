//! Python kopf 1.45.2 accepts the kubeconfig the server writes: its kubeconfig login reads
//! the server, CA and token, and its SSL context (with strict X.509 verification) trusts
//! the generated CA in a real HTTPS request to a TLS endpoint using the server config.

use kopf_apiserver::{kubeconfig, tls};
use kopf_test_support::{python_with_kopf, scratch_dir};
use std::path::Path;
use std::process::Command;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves HTTPS on a loopback port: `/version` with the right bearer token gets 200, else 401.
async fn serve_once(
    material: &tls::TlsMaterial,
    token: String,
) -> (u16, tokio::task::JoinHandle<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tokio_rustls::TlsAcceptor::from(material.server_config.clone());
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut stream = acceptor.accept(tcp).await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the client closed early");
            request.extend_from_slice(&buf[..n]);
        }
        let request = String::from_utf8_lossy(&request).into_owned();
        let authorized = request.lines().any(|line| {
            line.to_ascii_lowercase().starts_with("authorization:")
                && line.ends_with(&format!("Bearer {token}"))
        });
        let (status, body) = if authorized {
            (
                "200 OK",
                r#"{"major":"1","minor":"32","gitVersion":"v1.32.0"}"#,
            )
        } else {
            ("401 Unauthorized", r#"{"kind":"Status","code":401}"#)
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes()).await.unwrap();
        stream.shutdown().await.unwrap();
        request
    });
    (port, task)
}

fn probe(python: &Path, kubeconfig_path: &Path) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/kubeconfig_probe.py");
    // `-I`: the script's directory (with operator.py) must not shadow the stdlib `operator`.
    let output = Command::new(python)
        .arg("-I")
        .arg(script)
        .env("KUBECONFIG", kubeconfig_path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the probe failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kopf_trusts_the_generated_ca_and_sends_the_token() {
    let python = python_with_kopf();
    let dir = scratch_dir("python-kubeconfig-https");
    let material = tls::load_or_generate(None).unwrap();
    let token = tls::load_or_generate_token(None).unwrap();
    let (port, server) = serve_once(&material, token.clone()).await;
    let url = format!("https://127.0.0.1:{port}");
    let path = dir.join("kubeconfig");
    kubeconfig::write(
        &path,
        &kubeconfig::render(&url, Some(&material.ca_pem), Some(&token)),
    )
    .unwrap();

    let result = tokio::task::spawn_blocking(move || probe(&python, &path))
        .await
        .unwrap();
    assert_eq!(result["server"], url.as_str());
    assert_eq!(result["token"], token.as_str());
    assert_eq!(result["has_ca"], true);
    assert_eq!(result["namespace"], "default");
    assert_eq!(result["status"], 200, "{result}");
    assert_eq!(result["body"]["major"], "1");
    let request = server.await.unwrap();
    assert!(
        request.starts_with("GET /version HTTP/1.1\r\n"),
        "{request}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn kopf_reads_the_plain_http_variant_without_credentials() {
    let python = python_with_kopf();
    let dir = scratch_dir("python-kubeconfig-http");
    let path = dir.join("kubeconfig");
    kubeconfig::write(&path, &kubeconfig::render("http://127.0.0.1:1", None, None)).unwrap();
    let result = probe(&python, &path);
    assert_eq!(result["server"], "http://127.0.0.1:1");
    assert_eq!(result["token"], serde_json::Value::Null);
    assert_eq!(result["has_ca"], false);
    std::fs::remove_dir_all(&dir).unwrap();
}
