//! HTTP responses in the API server's shapes: JSON bodies and Status errors (with
//! `Retry-After` when the error has one).

use crate::status::ApiError;
use crate::watch::BoxError;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Response;
use serde_json::Value;
use std::convert::Infallible;

/// The body of every response: whole JSON documents and streamed watch lines alike.
pub type RespBody = http_body_util::combinators::BoxBody<Bytes, BoxError>;

pub fn full(bytes: impl Into<Bytes>) -> RespBody {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

pub fn json_response(code: u16, body: Vec<u8>) -> Response<RespBody> {
    let mut response = Response::new(full(body));
    *response.status_mut() = http::StatusCode::from_u16(code).unwrap_or(http::StatusCode::OK);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

pub fn value_response(code: u16, value: &Value) -> Response<RespBody> {
    json_response(code, serde_json::to_vec(value).unwrap_or_default())
}

pub fn error_response(err: &ApiError) -> Response<RespBody> {
    let mut response = value_response(err.code, &err.to_status());
    if let Some(seconds) = err.retry_after
        && let Ok(value) = http::HeaderValue::from_str(&seconds.to_string())
    {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, value);
    }
    with_warnings(response, &err.warnings)
}

/// `Warning: 299 - "text"` headers (RFC 7234 warn-text, as kube-apiserver sends them;
/// kubectl prints each as `Warning: text`).
pub fn with_warnings(mut response: Response<RespBody>, warnings: &[String]) -> Response<RespBody> {
    for warning in warnings {
        let mut text = String::with_capacity(warning.len() + 10);
        text.push_str("299 - \"");
        for c in warning.chars() {
            match c {
                '"' | '\\' => {
                    text.push('\\');
                    text.push(c);
                }
                c if c.is_control() => text.push(' '),
                c => text.push(c),
            }
        }
        text.push('"');
        if let Ok(value) = http::HeaderValue::from_bytes(text.as_bytes()) {
            response.headers_mut().append(http::header::WARNING, value);
        }
    }
    response
}
