//! kopf's conventions for its annotations: how a record's name becomes an annotation key
//! under a prefix ("V2" keys, plus the older "V1" keys where they differ), the suffix
//! that keeps ReplicaSets apart from their Deployments, and the `kopf-managed` marker that
//! makes a non-kopf prefix recognisable to other kopf-based operators.

use base64::Engine;
use blake2::digest::{Update, VariableOutput};
use serde_json::Value;

/// The longest name part of an annotation key that Kubernetes accepts.
const MAX_NAME: usize = 63;
/// The marker's name under a prefix.
pub const MARKER: &str = "kopf-managed";

/// The annotation keys of a record, in kopf's order: the V2 key, then the V1 key if
/// different (and wanted). With a body, the name is marked as kopf marks it for
/// ReplicaSets owned by Deployments (whose annotations Kubernetes overwrites).
pub fn make_keys(prefix: &str, v1: bool, name: &str, body: Option<&Value>) -> Vec<String> {
    let name = match body {
        Some(body) => mark_name(name, body),
        None => name.to_string(),
    };
    let v2_key = v2_key(prefix, &name);
    let mut keys = vec![v2_key];
    if v1 {
        let v1_key = v1_key(prefix, &name);
        if v1_key != keys[0] {
            keys.push(v1_key);
        }
    }
    keys
}

fn mark_name(name: &str, body: &Value) -> String {
    let replica_set = body.get("kind").and_then(Value::as_str) == Some("ReplicaSet");
    let of_deployment = body
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|owners| {
            owners
                .iter()
                .any(|o| o.get("kind").and_then(Value::as_str) == Some("Deployment"))
        });
    if replica_set && of_deployment {
        format!("{name}-ofDRS")
    } else {
        name.to_string()
    }
}

/// A name with the characters that annotation keys do not allow replaced.
fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '/' => '.',
            '<' | '>' => '_',
            c => c,
        })
        .collect()
}

fn with_prefix(prefix: &str) -> String {
    if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    }
}

/// The V2 key: `prefix/` + the safe name, its name part cut to 63 characters with a hash
/// of the original name when the name is longer than that.
pub fn v2_key(prefix: &str, name: &str) -> String {
    let suffix = if name.chars().count() > MAX_NAME {
        hash_suffix(name)
    } else {
        String::new()
    };
    let limit = MAX_NAME.saturating_sub(suffix.chars().count());
    let cut: String = safe_name(name).chars().take(limit).collect();
    format!("{}{cut}{suffix}", with_prefix(prefix))
}

/// The V1 key: the whole key (prefix included) cut to 63 characters, with a hash of the
/// safe name when cut. A prefix too long for that cuts from the name's end, as Python's
/// negative slices do.
pub fn v1_key(prefix: &str, name: &str) -> String {
    let prefix = with_prefix(prefix);
    let safe = safe_name(name);
    let prefix_len = prefix.chars().count() as isize;
    let safe_len = safe.chars().count() as isize;
    let suffix = if safe_len <= MAX_NAME as isize - prefix_len {
        String::new()
    } else {
        hash_suffix(&safe)
    };
    let stop = MAX_NAME as isize - prefix_len - suffix.chars().count() as isize;
    let stop = if stop < 0 {
        (safe_len + stop).max(0)
    } else {
        stop.min(safe_len)
    };
    let cut: String = safe.chars().take(stop as usize).collect();
    format!("{prefix}{cut}{suffix}")
}

/// `-` + base64 (altchars `-.`) of a 4-byte blake2b digest, trailing `=-.` stripped.
fn hash_suffix(key: &str) -> String {
    let mut digest = [0u8; 4];
    let hashed = blake2::Blake2bVar::new(4).is_ok_and(|mut hasher| {
        hasher.update(key.as_bytes());
        hasher.finalize_variable(&mut digest).is_ok()
    });
    if !hashed {
        return String::new();
    }
    let alphabet = base64::alphabet::Alphabet::new(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.",
    )
    .unwrap_or(base64::alphabet::STANDARD);
    let engine =
        base64::engine::GeneralPurpose::new(&alphabet, base64::engine::general_purpose::PAD);
    format!("-{}", engine.encode(digest))
        .trim_end_matches(['=', '-', '.'])
        .to_string()
}

/// Adds `<prefix>/kopf-managed: "yes"` to the patch's annotations for a prefix that is
/// not kopf's (`kopf.…`), unless the object or the patch already has it.
pub fn store_marker(prefix: &str, body: &Value, patch: &mut Value) {
    if prefix.is_empty() || prefix.starts_with("kopf.") {
        return;
    }
    let marker = format!("{prefix}/{MARKER}");
    let on = |value: &Value| {
        value
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .is_some_and(|a| a.contains_key(&marker))
    };
    if !on(body) && !on(patch) {
        let path = ["metadata", "annotations", marker.as_str()];
        super::fields::ensure(patch, &path, Value::from("yes"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_kopfs_v2_then_v1_keys() {
        let kopf = "kopf.zalando.org";
        assert_eq!(
            make_keys(kopf, true, "field_fn/spec.field", None),
            ["kopf.zalando.org/field_fn.spec.field"]
        );
        assert_eq!(
            make_keys("my-op.example.com", true, "create<fn>", None),
            ["my-op.example.com/create_fn_"]
        );
        // Byte-exact against kopf 1.45.2's `make_keys` (V2 first, then V1).
        let long = "parent_handler_with_a_very_long_name/child_handler_with_another_long_name_x";
        assert_eq!(
            make_keys(kopf, true, long, None),
            [
                "kopf.zalando.org/parent_handler_with_a_very_long_name.child_handler_with_-J2PY8w",
                "kopf.zalando.org/parent_handler_with_a_very_long_name.ch-3.njeA",
            ]
        );
        assert_eq!(make_keys(kopf, false, long, None).len(), 1);
        let medium = "a_handler_id_of_fifty_characters_for_the_v1_limit_";
        assert_eq!(
            make_keys("my-op.example.com", true, medium, None),
            [
                "my-op.example.com/a_handler_id_of_fifty_characters_for_the_v1_limit_",
                "my-op.example.com/a_handler_id_of_fifty_characters_for_t-Bk51Ww",
            ]
        );
        assert_eq!(make_keys("", true, "x/y", None), ["x.y"]);
        // A prefix too long for V1 keys: Python's negative slice leaves only the hash.
        let prefix = format!("{}.example.com", "x".repeat(70));
        assert_eq!(
            make_keys(&prefix, true, "ab", None),
            [format!("{prefix}/ab"), format!("{prefix}/-OuiXpw")]
        );
    }

    #[test]
    fn replica_sets_of_deployments_get_their_own_keys() {
        let rs = json!({"kind": "ReplicaSet", "metadata": {"ownerReferences": [{"kind": "Deployment"}]}});
        assert_eq!(
            make_keys("kopf.zalando.org", true, "touch-dummy", Some(&rs)),
            ["kopf.zalando.org/touch-dummy-ofDRS"]
        );
        let pod = json!({"kind": "Pod", "metadata": {"ownerReferences": [{"kind": "Deployment"}]}});
        assert_eq!(
            make_keys("kopf.zalando.org", true, "touch-dummy", Some(&pod)),
            ["kopf.zalando.org/touch-dummy"]
        );
    }

    #[test]
    fn only_foreign_prefixes_are_marked_once() {
        let body = json!({"metadata": {}});
        let mut patch = json!({});
        store_marker("kopf.zalando.org", &body, &mut patch);
        store_marker("kopf.example.com", &body, &mut patch);
        assert_eq!(patch, json!({}));
        store_marker("my-op.example.com", &body, &mut patch);
        store_marker("my-op.example.com", &body, &mut patch);
        assert_eq!(
            patch,
            json!({"metadata": {"annotations": {"my-op.example.com/kopf-managed": "yes"}}})
        );
        let marked = json!({"metadata": {"annotations": {"my-op.example.com/kopf-managed": "x"}}});
        let mut patch = json!({});
        store_marker("my-op.example.com", &marked, &mut patch);
        assert_eq!(patch, json!({}));
    }
}
