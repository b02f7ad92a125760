//! Service account tokens: `POST …/serviceaccounts/NAME/token` (a TokenRequest, what
//! `kubectl create token NAME` sends) issues a random bearer token that this server
//! remembers for that service account until it expires. Requests bearing it are that
//! service account's, and RBAC (when on) decides what they may do.
//!
//! Tokens are kept in memory only: a restarted server forgets them (clients ask again), as
//! the signing keys of a real cluster's tokens are not something a local cluster needs.

use super::rules::User;
use crate::status::ApiError;
use crate::store::State;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// The lifetime asked for when a TokenRequest names none (as kube-apiserver's default).
const DEFAULT_SECONDS: u64 = 3600;
/// Shortest lifetime granted (kube-apiserver refuses less than 10 minutes).
const MIN_SECONDS: u64 = 600;

/// The issued tokens: token → (service account, expiry).
#[derive(Debug, Default)]
pub struct Tokens {
    issued: Mutex<HashMap<String, (User, SystemTime)>>,
}

impl Tokens {
    fn issue(&self, user: User, lifetime: Duration) -> (String, SystemTime) {
        let bytes: [u8; 32] = rand::random();
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let token = format!("kopf-sa.{token}");
        let expires = SystemTime::now() + lifetime;
        let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        // Forget the expired ones while here: the map stays as small as the live tokens.
        let now = SystemTime::now();
        issued.retain(|_, (_, until)| *until > now);
        issued.insert(token.clone(), (user, expires));
        (token, expires)
    }

    /// The service account of a live token.
    pub fn user_of(&self, token: &str) -> Option<User> {
        let issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        let (user, until) = issued.get(token)?;
        (*until > SystemTime::now()).then(|| user.clone())
    }
}

/// Answers a TokenRequest for `namespace/name` (the service account must exist).
pub fn request(
    state: &State,
    tokens: &Tokens,
    namespace: &str,
    name: &str,
    mut body: Value,
) -> Result<Value, ApiError> {
    if state.get("/serviceaccounts", namespace, name).is_none() {
        return Err(ApiError::not_found(
            "serviceaccounts",
            "",
            "serviceaccounts",
            name,
        ));
    }
    let seconds = body
        .pointer("/spec/expirationSeconds")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_SECONDS)
        .max(MIN_SECONDS);
    let user = User::ServiceAccount {
        namespace: namespace.to_string(),
        name: name.to_string(),
    };
    let (token, expires) = tokens.issue(user, Duration::from_secs(seconds));
    let expires = jiff::Timestamp::try_from(expires)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    let Some(map) = body.as_object_mut() else {
        return Err(ApiError::bad_request("a TokenRequest is an object"));
    };
    map.insert("apiVersion".into(), json!("authentication.k8s.io/v1"));
    map.insert("kind".into(), json!("TokenRequest"));
    map.insert(
        "metadata".into(),
        json!({"name": name, "namespace": namespace, "creationTimestamp": crate::ops::now()}),
    );
    let spec = map.entry("spec").or_insert_with(|| json!({}));
    if let Some(spec) = spec.as_object_mut() {
        spec.insert("expirationSeconds".into(), json!(seconds));
        spec.entry("audiences").or_insert_with(|| json!([]));
    }
    map.insert(
        "status".into(),
        json!({"token": token, "expirationTimestamp": expires}),
    );
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_name_their_service_account_until_they_expire() {
        let tokens = Tokens::default();
        let robot = User::ServiceAccount {
            namespace: "ns".into(),
            name: "robot".into(),
        };
        let (live, _) = tokens.issue(robot.clone(), Duration::from_secs(60));
        let (expired, _) = tokens.issue(robot.clone(), Duration::ZERO);
        assert_eq!(tokens.user_of(&live), Some(robot));
        assert_eq!(tokens.user_of(&expired), None);
        assert_eq!(tokens.user_of("made-up"), None);
    }
}
