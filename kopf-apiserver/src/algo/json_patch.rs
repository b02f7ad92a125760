//! RFC 6902 JSON patch, applied atomically on a copy.

use serde_json::Value;

/// Why a JSON patch could not be applied; each maps to an HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum JsonPatchError {
    /// Undecodable patch document (→ 400).
    #[error("malformed JSON patch: {0}")]
    Malformed(String),
    /// More than 10000 operations (→ 413).
    #[error("the allowed maximum operations in a JSON patch is 10000")]
    TooManyOperations,
    /// An operation failed, including a `test` mismatch (→ 422).
    #[error("{0}")]
    Failed(String),
}

const MAX_OPERATIONS: usize = 10000;

fn parse_pointer(path: &str) -> Result<Vec<String>, JsonPatchError> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(JsonPatchError::Failed(format!(
            "invalid JSON pointer: {path:?}"
        )));
    };
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn array_index(token: &str, len: usize, allow_end: bool) -> Result<usize, JsonPatchError> {
    if allow_end && token == "-" {
        return Ok(len);
    }
    let bad = || JsonPatchError::Failed(format!("invalid array index: {token:?}"));
    if token.is_empty()
        || (token.len() > 1 && token.starts_with('0'))
        || !token.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let idx: usize = token.parse().map_err(|_| bad())?;
    let limit = if allow_end {
        len
    } else {
        len.saturating_sub(1)
    };
    if idx > limit || (!allow_end && len == 0) {
        return Err(JsonPatchError::Failed(format!("index out of range: {idx}")));
    }
    Ok(idx)
}

fn get_mut<'a>(root: &'a mut Value, tokens: &[String]) -> Result<&'a mut Value, JsonPatchError> {
    let mut cur = root;
    for t in tokens {
        cur = match cur {
            Value::Object(m) => m
                .get_mut(t)
                .ok_or_else(|| JsonPatchError::Failed(format!("missing key: {t:?}")))?,
            Value::Array(a) => {
                let i = array_index(t, a.len(), false)?;
                &mut a[i]
            }
            _ => {
                return Err(JsonPatchError::Failed(format!(
                    "cannot traverse into a scalar at {t:?}"
                )));
            }
        };
    }
    Ok(cur)
}

fn get(root: &Value, path: &str) -> Result<Value, JsonPatchError> {
    let tokens = parse_pointer(path)?;
    let mut copy = root.clone();
    Ok(get_mut(&mut copy, &tokens)?.clone())
}

fn add(root: &mut Value, path: &str, value: Value) -> Result<(), JsonPatchError> {
    let tokens = parse_pointer(path)?;
    let Some((last, parent)) = tokens.split_last() else {
        *root = value;
        return Ok(());
    };
    match get_mut(root, parent)? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
        }
        Value::Array(a) => {
            let i = array_index(last, a.len(), true)?;
            a.insert(i, value);
        }
        _ => {
            return Err(JsonPatchError::Failed(format!(
                "cannot add to a scalar at {path:?}"
            )));
        }
    }
    Ok(())
}

fn remove(root: &mut Value, path: &str) -> Result<Value, JsonPatchError> {
    let tokens = parse_pointer(path)?;
    let Some((last, parent)) = tokens.split_last() else {
        return Err(JsonPatchError::Failed("cannot remove the root".into()));
    };
    match get_mut(root, parent)? {
        Value::Object(m) => m
            .shift_remove(last)
            .ok_or_else(|| JsonPatchError::Failed(format!("missing key: {last:?}"))),
        Value::Array(a) => {
            let i = array_index(last, a.len(), false)?;
            Ok(a.remove(i))
        }
        _ => Err(JsonPatchError::Failed(format!(
            "cannot remove from a scalar at {path:?}"
        ))),
    }
}

/// kube-apiserver's `test` (evanphx/json-patch): a `null` (or absent) value passes against
/// a member that is missing from an existing parent — kube-rs's finalizer helper tests
/// `/metadata/finalizers` against `null` this way before adding the first finalizer.
fn test(doc: &Value, path: &str, expected: Option<&Value>) -> Result<(), JsonPatchError> {
    let expected = expected.unwrap_or(&Value::Null);
    let failed = || JsonPatchError::Failed(format!("testing value {path} failed"));
    match get(doc, path) {
        Ok(actual) if &actual == expected => Ok(()),
        Ok(_) => Err(failed()),
        Err(missing) => {
            let tokens = parse_pointer(path)?;
            let parent_exists = match tokens.split_last() {
                Some((_, parent)) => get_mut(&mut doc.clone(), parent).is_ok(),
                None => true,
            };
            match (parent_exists, expected.is_null()) {
                (true, true) => Ok(()),
                (true, false) => Err(failed()),
                (false, _) => Err(missing),
            }
        }
    }
}

fn str_field<'a>(op: &'a Value, name: &str) -> Result<&'a str, JsonPatchError> {
    op.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| JsonPatchError::Malformed(format!("operation lacks a string {name:?}")))
}

/// Apply the operations in `ops` (a JSON array) to a copy of `target`; all or nothing.
pub fn apply(target: &Value, ops: &Value) -> Result<Value, JsonPatchError> {
    let Value::Array(ops) = ops else {
        return Err(JsonPatchError::Malformed(
            "a JSON patch must be an array".into(),
        ));
    };
    if ops.len() > MAX_OPERATIONS {
        return Err(JsonPatchError::TooManyOperations);
    }
    let mut doc = target.clone();
    for op in ops {
        if !op.is_object() {
            return Err(JsonPatchError::Malformed(
                "each operation must be an object".into(),
            ));
        }
        let kind = str_field(op, "op")?;
        let path = str_field(op, "path")?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| JsonPatchError::Malformed(format!("{kind} lacks a value")))
        };
        match kind {
            "add" => add(&mut doc, path, value()?)?,
            "remove" => {
                remove(&mut doc, path)?;
            }
            "replace" => {
                let v = value()?;
                let slot = get_mut(&mut doc, &parse_pointer(path)?)?;
                *slot = v;
            }
            "move" => {
                let from = str_field(op, "from")?;
                if path.starts_with(&format!("{from}/")) {
                    return Err(JsonPatchError::Failed(
                        "cannot move a value into its own child".into(),
                    ));
                }
                let v = remove(&mut doc, from)?;
                add(&mut doc, path, v)?;
            }
            "copy" => {
                let v = get(&doc, str_field(op, "from")?)?;
                add(&mut doc, path, v)?;
            }
            "test" => test(&doc, path, op.get("value"))?,
            other => {
                return Err(JsonPatchError::Malformed(format!(
                    "unknown operation {other:?}"
                )));
            }
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations() {
        let doc = json!({"a": {"b": [1, 2]}, "x/y": 1, "t~": 2});
        let out = apply(
            &doc,
            &json!([
                {"op": "add", "path": "/a/b/-", "value": 3},
                {"op": "add", "path": "/a/b/0", "value": 0},
                {"op": "replace", "path": "/x~1y", "value": 5},
                {"op": "remove", "path": "/t~0"},
                {"op": "copy", "from": "/a/b", "path": "/c"},
                {"op": "move", "from": "/c", "path": "/d"},
                {"op": "test", "path": "/d/3", "value": 3}
            ]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"a": {"b": [0, 1, 2, 3]}, "x/y": 5, "d": [0, 1, 2, 3]})
        );
    }

    #[test]
    fn failures() {
        let doc = json!({"a": 1});
        assert!(matches!(
            apply(&doc, &json!([{"op": "test", "path": "/a", "value": 2}])),
            Err(JsonPatchError::Failed(_))
        ));
        assert!(matches!(
            apply(&doc, &json!([{"op": "remove", "path": "/b"}])),
            Err(JsonPatchError::Failed(_))
        ));
        assert!(matches!(
            apply(&doc, &json!({"op": "x"})),
            Err(JsonPatchError::Malformed(_))
        ));
        assert!(matches!(
            apply(&doc, &json!([{"op": "zap", "path": "/a"}])),
            Err(JsonPatchError::Malformed(_))
        ));
        let many: Vec<Value> = (0..10001)
            .map(|_| json!({"op": "test", "path": "/a", "value": 1}))
            .collect();
        assert!(matches!(
            apply(&doc, &Value::Array(many)),
            Err(JsonPatchError::TooManyOperations)
        ));
    }

    #[test]
    fn a_null_test_passes_against_a_missing_member_as_kube_apiserver_does() {
        let doc = json!({"metadata": {"name": "x"}});
        // kube-rs's finalizer helper: test for no finalizers, then add the first one.
        let out = apply(
            &doc,
            &json!([
                {"op": "test", "path": "/metadata/finalizers", "value": null},
                {"op": "add", "path": "/metadata/finalizers", "value": ["f"]}
            ]),
        )
        .unwrap();
        assert_eq!(out, json!({"metadata": {"name": "x", "finalizers": ["f"]}}));
        // No value at all is a null value.
        assert!(apply(&doc, &json!([{"op": "test", "path": "/metadata/absent"}])).is_ok());
        // A non-null value against a missing member fails; a missing parent is an error.
        assert!(matches!(
            apply(
                &doc,
                &json!([{"op": "test", "path": "/metadata/absent", "value": 1}])
            ),
            Err(JsonPatchError::Failed(_))
        ));
        assert!(
            apply(
                &doc,
                &json!([{"op": "test", "path": "/nowhere/x", "value": null}])
            )
            .is_err()
        );
        // An existing member is compared, null or not.
        let with_null = json!({"a": null});
        assert!(
            apply(
                &with_null,
                &json!([{"op": "test", "path": "/a", "value": null}])
            )
            .is_ok()
        );
        assert!(
            apply(
                &with_null,
                &json!([{"op": "test", "path": "/a", "value": 1}])
            )
            .is_err()
        );
    }
}
