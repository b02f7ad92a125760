//! A small HTTPS admission webhook for the admission tests: it records every
//! `AdmissionReview` it receives and answers by path.
//!
//! - `/validate`: denies (403, "forbidden is forbidden") objects with `data.forbidden`,
//!   allows others with the warning "checked by the test webhook";
//! - `/mutate-a`, `/mutate-b`: add `data.a` / `data.b` = "set" (a JSON Patch);
//! - `/allow`: allows; `/slow`: allows after 3 s; `/garbage`: answers 200 with non-JSON.

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use kopf_apiserver::tls;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One review the webhook received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub request: Value,
}

/// A running test webhook.
pub struct Hook {
    /// `https://ADDRESS:PORT` (append a path).
    pub base: String,
    /// Base64 of the PEM of the CA that signed its certificate.
    pub ca_bundle: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hook {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hook {
    /// Starts one on `ip` (its certificate is for 127.0.0.1, ::1 and localhost).
    pub async fn start(ip: &str) -> Hook {
        let material = tls::load_or_generate(None).expect("TLS material");
        let listener = tokio::net::TcpListener::bind((ip, 0))
            .await
            .expect("bind the webhook");
        let port = listener.local_addr().expect("an address").port();
        let acceptor = tokio_rustls::TlsAcceptor::from(material.server_config.clone());
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let recorder = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (acceptor, recorder) = (acceptor.clone(), recorder.clone());
                tokio::spawn(async move {
                    // Clients that distrust the certificate end here, as they should.
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = service_fn(move |request| answer(recorder.clone(), request));
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
        Hook {
            base: format!("https://{ip}:{port}"),
            ca_bundle: base64::engine::general_purpose::STANDARD.encode(&material.ca_pem),
            seen,
            task,
        }
    }

    /// The reviews received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The requests received at `path` for the object `name`.
    pub fn requests(&self, path: &str, name: &str) -> Vec<Value> {
        self.seen()
            .into_iter()
            .filter(|s| s.path == path && s.request["name"] == name)
            .map(|s| s.request)
            .collect()
    }

    /// A `clientConfig` for `path` on this webhook.
    pub fn client_config(&self, path: &str) -> Value {
        json!({"url": format!("{}{path}", self.base), "caBundle": self.ca_bundle})
    }
}

fn allowed(uid: &Value) -> Value {
    json!({"uid": uid, "allowed": true})
}

/// A patch that sets `data.KEY` = "set" (adding `data` when missing).
fn set_data(request: &Value, key: &str) -> Value {
    let mut data = request
        .pointer("/object/data")
        .cloned()
        .unwrap_or(json!({}));
    data[key] = json!("set");
    let patch = json!([{"op": "add", "path": "/data", "value": data}]);
    json!({
        "uid": request["uid"], "allowed": true, "patchType": "JSONPatch",
        "patch": base64::engine::general_purpose::STANDARD.encode(patch.to_string()),
    })
}

async fn answer(
    seen: Arc<Mutex<Vec<Seen>>>,
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_string();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let review: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let review_request = review["request"].clone();
    if let Ok(mut seen) = seen.lock() {
        seen.push(Seen {
            path: path.clone(),
            request: review_request.clone(),
        });
    }
    let uid = &review_request["uid"];
    let response = match path.as_str() {
        "/validate" if review_request.pointer("/object/data/forbidden").is_some() => {
            json!({"uid": uid, "allowed": false,
                   "status": {"code": 403, "message": "forbidden is forbidden"}})
        }
        "/validate" => json!({"uid": uid, "allowed": true,
                              "warnings": ["checked by the test webhook"]}),
        "/mutate-a" => set_data(&review_request, "a"),
        "/mutate-b" => set_data(&review_request, "b"),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            allowed(uid)
        }
        "/garbage" => {
            return Ok(hyper::Response::new(Full::new(Bytes::from_static(
                b"<html>not a review</html>",
            ))));
        }
        _ => allowed(uid),
    };
    let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                        "response": response});
    Ok(hyper::Response::new(Full::new(Bytes::from(
        review.to_string(),
    ))))
}
