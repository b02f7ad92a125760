//! Decoding of the protobuf bodies kubectl's generators send (API-04): `kubectl create
//! namespace|configmap|secret|serviceaccount|token` post `application/vnd.kubernetes.protobuf`
//! and never retry with JSON; so do `kubectl auth can-i|whoami` with their reviews. Workloads,
//! services and RBAC are decoded by schema in `protobuf_kinds`; other kinds are refused
//! with 415.

use crate::protobuf_wire::{Wire, fields, insert_entry, object_meta, text};
use serde_json::{Map, Value, json};

/// A message of string fields (repeated ones as lists), by field number.
fn strings(bytes: &[u8], names: &[(u64, &str)]) -> Option<Value> {
    let mut out = Map::new();
    for (field, wire) in fields(bytes)? {
        let (Some((_, name)), Wire::Bytes(b)) = (names.iter().find(|(f, _)| *f == field), wire)
        else {
            continue;
        };
        let value = json!(text(b)?);
        match out.get_mut(*name) {
            Some(Value::Array(items)) => items.push(value),
            _ if *name == "groups" => drop(out.insert((*name).into(), json!([value]))),
            _ => drop(out.insert((*name).into(), value)),
        }
    }
    Some(Value::Object(out))
}

const RESOURCE_ATTRIBUTES: [(u64, &str); 7] = [
    (1, "namespace"),
    (2, "verb"),
    (3, "group"),
    (4, "version"),
    (5, "resource"),
    (6, "subresource"),
    (7, "name"),
];
const NON_RESOURCE_ATTRIBUTES: [(u64, &str); 2] = [(1, "path"), (2, "verb")];

/// The access and identity reviews `kubectl auth can-i|whoami` send as protobuf: their
/// metadata and spec (attributes, user and groups, namespace); `None` for other kinds.
fn review(api_version: &str, kind: &str, raw: &[u8]) -> Option<Option<Value>> {
    let access = matches!(
        kind,
        "SelfSubjectAccessReview" | "SubjectAccessReview" | "LocalSubjectAccessReview"
    );
    let known = (api_version == "authorization.k8s.io/v1"
        && (access || kind == "SelfSubjectRulesReview"))
        || (api_version == "authentication.k8s.io/v1" && kind == "SelfSubjectReview");
    if !known {
        return None;
    }
    let decode = || -> Option<Value> {
        let mut object = Map::new();
        object.insert("apiVersion".into(), json!(api_version));
        object.insert("kind".into(), json!(kind));
        for (field, wire) in fields(raw)? {
            let Wire::Bytes(b) = wire else { continue };
            match field {
                1 => drop(object.insert("metadata".into(), object_meta(b)?)),
                2 if access => {
                    let mut spec = strings(b, &[(3, "user"), (4, "groups"), (6, "uid")])?;
                    for (f, w) in fields(b)? {
                        let (1 | 2, Wire::Bytes(attributes)) = (f, w) else {
                            continue;
                        };
                        let (key, names) = if f == 1 {
                            ("resourceAttributes", &RESOURCE_ATTRIBUTES[..])
                        } else {
                            ("nonResourceAttributes", &NON_RESOURCE_ATTRIBUTES[..])
                        };
                        spec[key] = strings(attributes, names)?;
                    }
                    object.insert("spec".into(), spec);
                }
                2 => drop(object.insert("spec".into(), strings(b, &[(1, "namespace")])?)),
                _ => {}
            }
        }
        Some(Value::Object(object))
    };
    Some(decode())
}

/// A TokenRequest (`kubectl create token`): its spec's audiences and expirationSeconds.
fn token_request(raw: &[u8]) -> Option<Value> {
    let mut spec = Map::new();
    for (field, wire) in fields(raw)? {
        let (2, Wire::Bytes(b)) = (field, wire) else {
            continue;
        };
        let mut audiences = Vec::new();
        for (f, w) in fields(b)? {
            match (f, w) {
                (1, Wire::Bytes(audience)) => audiences.push(json!(text(audience)?)),
                (4, Wire::Varint(seconds)) => {
                    spec.insert("expirationSeconds".into(), json!(seconds));
                }
                _ => {}
            }
        }
        spec.insert("audiences".into(), json!(audiences));
    }
    Some(json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}))
}

/// Decodes a `k8s\0`-enveloped Namespace, ConfigMap, Secret or ServiceAccount (its
/// metadata) into its JSON form;
/// `Err` says why not (the caller answers 415).
pub fn decode(body: &[u8]) -> Result<Value, String> {
    let malformed = || "malformed protobuf body".to_string();
    let envelope = body.strip_prefix(b"k8s\0").ok_or_else(malformed)?;
    let mut api_version = String::new();
    let mut kind = String::new();
    let mut raw: &[u8] = &[];
    for (field, wire) in fields(envelope).ok_or_else(malformed)? {
        match (field, wire) {
            (1, Wire::Bytes(type_meta)) => {
                for (f, w) in fields(type_meta).ok_or_else(malformed)? {
                    match (f, w) {
                        (1, Wire::Bytes(b)) => api_version = text(b).ok_or_else(malformed)?,
                        (2, Wire::Bytes(b)) => kind = text(b).ok_or_else(malformed)?,
                        _ => {}
                    }
                }
            }
            (2, Wire::Bytes(b)) => raw = b,
            _ => {}
        }
    }
    if let Some(review) = review(&api_version, &kind, raw) {
        return review.ok_or_else(malformed);
    }
    if api_version == "authentication.k8s.io/v1" && kind == "TokenRequest" {
        return token_request(raw).ok_or_else(malformed);
    }
    if let Some(object) = crate::protobuf_kinds::decode(&api_version, &kind, raw) {
        return object;
    }
    let known = matches!(
        kind.as_str(),
        "Namespace" | "ConfigMap" | "Secret" | "ServiceAccount"
    );
    if api_version != "v1" || !known {
        return Err(format!(
            "protobuf is not supported for {api_version} {kind}"
        ));
    }
    let mut object = Map::new();
    object.insert("apiVersion".into(), json!(api_version));
    object.insert("kind".into(), json!(kind));
    for (field, wire) in fields(raw).ok_or_else(malformed)? {
        let Wire::Bytes(b) = wire else {
            if let (4 | 5, Wire::Varint(v)) = (field, &wire)
                && kind != "Namespace"
                && ((kind == "ConfigMap" && field == 4) || (kind == "Secret" && field == 5))
            {
                object.insert("immutable".into(), json!(*v != 0));
            }
            continue;
        };
        let ok = match (kind.as_str(), field) {
            (_, 1) => object_meta(b).map(|meta| drop(object.insert("metadata".into(), meta))),
            ("ConfigMap", 2) => insert_entry(&mut object, "data", b, false),
            ("ConfigMap", 3) => insert_entry(&mut object, "binaryData", b, true),
            ("Secret", 2) => insert_entry(&mut object, "data", b, true),
            ("Secret", 3) => text(b).map(|t| drop(object.insert("type".into(), json!(t)))),
            ("Secret", 4) => insert_entry(&mut object, "stringData", b, false),
            ("Namespace", 2) => {
                let mut finalizers = Vec::new();
                for (f, w) in fields(b).ok_or_else(malformed)? {
                    if let (1, Wire::Bytes(name)) = (f, w) {
                        finalizers.push(json!(text(name).ok_or_else(malformed)?));
                    }
                }
                if !finalizers.is_empty() {
                    object.insert("spec".into(), json!({"finalizers": finalizers}));
                }
                Some(())
            }
            _ => Some(()),
        };
        ok.ok_or_else(malformed)?;
    }
    Ok(Value::Object(object))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_kubectl_sends_for_a_configmap() {
        let body: &[u8] = &[
            107, 56, 115, 0, 10, 15, 10, 2, 118, 49, 18, 9, 67, 111, 110, 102, 105, 103, 77, 97,
            112, 18, 39, 10, 29, 10, 6, 103, 101, 110, 45, 99, 109, 18, 0, 26, 7, 100, 101, 102,
            97, 117, 108, 116, 34, 0, 42, 0, 50, 0, 56, 0, 66, 0, 18, 6, 10, 1, 97, 18, 1, 98, 26,
            0, 34, 0,
        ];
        let object = decode(body).unwrap();
        assert_eq!(object["kind"], "ConfigMap");
        assert_eq!(object["metadata"]["name"], "gen-cm");
        assert_eq!(object["metadata"]["namespace"], "default");
        assert_eq!(object["data"], json!({"a": "b"}));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for body in [&b"k8s\0\xff\xff\xff"[..], b"", b"k8s\0\x0a\x50", b"nope"] {
            assert!(decode(body).is_err());
        }
    }
}
