//! A custom object's values checked against its CRD's structural schema (OpenAPI v3), as
//! kube-apiserver reports them (API-128): types, enums, required fields, numeric bounds,
//! string lengths and patterns, item and property counts. `x-kubernetes-validations`
//! (CEL rules) are not evaluated. On updates, an invalid value that did not change is let
//! through (validation ratcheting, on by default since Kubernetes 1.30).

use super::FieldError;
use serde_json::Value;

/// Every value of `object` that its schema refuses; the root's `apiVersion`, `kind` and
/// `metadata` are the server's to check, not the schema's.
pub fn validate(object: &Value, schema: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    validate_at(object, schema, "", &mut errors);
    errors
}

/// The errors of an update that are about values the update changed (or added).
pub fn ratchet(errors: Vec<FieldError>, old: &Value, new: &Value) -> Vec<FieldError> {
    errors
        .into_iter()
        .filter(|e| {
            let before = lookup(old, &e.field);
            before.is_none() || before != lookup(new, &e.field)
        })
        .collect()
}

/// The value at a field path as errors name it: `spec.items[2].name`.
fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let mut current = value;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, indices) = match part.find('[') {
            Some(at) => (&part[..at], &part[at..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            current = current.get(key)?;
        }
        for index in indices.split(['[', ']']).filter(|i| !i.is_empty()) {
            current = current.get(index.parse::<usize>().ok()?)?;
        }
    }
    Some(current)
}

fn type_matches(value: &Value, ty: &str) -> bool {
    match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => true,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::Null => "null",
    }
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A value of another type than the schema's (`actual` is how Kubernetes names it).
fn type_invalid(path: &str, actual: &str, expected: &str) -> FieldError {
    FieldError::new(
        path,
        "FieldValueTypeInvalid",
        format!(
            "Invalid value: \"{actual}\": {path} in body must be of type {expected}: \"{actual}\""
        ),
    )
}

/// `Invalid value: <value>: <detail>`, with the value as Kubernetes prints it.
fn invalid(path: &str, value: &Value, detail: String) -> FieldError {
    let shown = match value {
        Value::Object(_) => "\"object\"".to_string(),
        Value::Array(_) => "\"array\"".to_string(),
        other => other.to_string(),
    };
    FieldError::new(
        path,
        "FieldValueInvalid",
        format!("Invalid value: {shown}: {detail}"),
    )
}

fn validate_at(value: &Value, schema: &Value, path: &str, errors: &mut Vec<FieldError>) {
    let int_or_string = schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true);
    let ty = schema.get("type").and_then(Value::as_str);
    if value.is_null() {
        if schema.get("nullable").and_then(Value::as_bool) != Some(true)
            && let Some(ty) = ty
        {
            errors.push(type_invalid(path, "null", ty));
        }
        return;
    }
    if int_or_string && !(value.is_string() || value.is_i64() || value.is_u64()) {
        errors.push(type_invalid(path, type_name(value), "integer,string"));
        return;
    }
    if let Some(ty) = ty
        && !int_or_string
        && !type_matches(value, ty)
    {
        errors.push(type_invalid(path, type_name(value), ty));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
        errors.push(FieldError::new(
            path,
            "FieldValueNotSupported",
            format!(
                "Unsupported value: {value}: supported values: {}",
                list.join(", ")
            ),
        ));
    }
    match value {
        Value::Number(number) => check_number(number.as_f64(), value, schema, path, errors),
        Value::String(text) => check_string(text, value, schema, path, errors),
        Value::Object(map) => {
            check_count(map.len(), value, schema, path, "properties", errors);
            for required in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !map.contains_key(required) {
                    errors.push(FieldError::new(
                        &child(path, required),
                        "FieldValueRequired",
                        "Required value".into(),
                    ));
                }
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (key, item) in map {
                if path.is_empty() && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                if let Some(item_schema) = properties.and_then(|p| p.get(key)).or(additional) {
                    validate_at(item, item_schema, &child(path, key), errors);
                }
            }
        }
        Value::Array(items) => {
            check_count(items.len(), value, schema, path, "items", errors);
            if schema.get("uniqueItems").and_then(Value::as_bool) == Some(true)
                && items
                    .iter()
                    .enumerate()
                    .any(|(i, item)| items[..i].contains(item))
            {
                errors.push(invalid(
                    path,
                    value,
                    format!("{path} in body shouldn't contain duplicates"),
                ));
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    validate_at(item, item_schema, &format!("{path}[{i}]"), errors);
                }
            }
        }
        _ => {}
    }
}

/// `minimum`/`maximum` (exclusive when `exclusiveMinimum`/`exclusiveMaximum` say so) and
/// `multipleOf`.
fn check_number(
    number: Option<f64>,
    value: &Value,
    schema: &Value,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    let Some(number) = number else { return };
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    let exclusive = |key: &str| schema.get(key).and_then(Value::as_bool) == Some(true);
    if let Some(min) = bound("minimum") {
        if exclusive("exclusiveMinimum") && number <= min {
            errors.push(invalid(
                path,
                value,
                format!("{path} in body should be greater than {min}"),
            ));
        } else if number < min {
            errors.push(invalid(
                path,
                value,
                format!("{path} in body should be greater than or equal to {min}"),
            ));
        }
    }
    if let Some(max) = bound("maximum") {
        if exclusive("exclusiveMaximum") && number >= max {
            errors.push(invalid(
                path,
                value,
                format!("{path} in body should be less than {max}"),
            ));
        } else if number > max {
            errors.push(invalid(
                path,
                value,
                format!("{path} in body should be less than or equal to {max}"),
            ));
        }
    }
    if let Some(factor) = bound("multipleOf").filter(|f| *f > 0.0)
        && (number / factor).fract().abs() > f64::EPSILON
    {
        errors.push(invalid(
            path,
            value,
            format!("{path} in body should be a multiple of {factor}"),
        ));
    }
}

/// `minLength`/`maxLength` (in characters) and `pattern`.
fn check_string(
    text: &str,
    value: &Value,
    schema: &Value,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    let length = text.chars().count();
    let limit = |key: &str| schema.get(key).and_then(Value::as_u64);
    if let Some(max) = limit("maxLength")
        && length as u64 > max
    {
        let unit = if max == 1 { "byte" } else { "bytes" };
        errors.push(FieldError::new(
            path,
            "FieldValueTooLong",
            format!("Too long: may not be more than {max} {unit}"),
        ));
    }
    if let Some(min) = limit("minLength")
        && (length as u64) < min
    {
        errors.push(invalid(
            path,
            value,
            format!("{path} in body should be at least {min} chars long"),
        ));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        // A pattern this engine cannot compile is not held against the object.
        if let Some(regex) = compiled(pattern)
            && !regex.is_match(text)
        {
            errors.push(invalid(
                path,
                value,
                format!("{path} in body should match '{pattern}'"),
            ));
        }
    }
}

/// A schema's pattern, compiled once: every write of the kind checks it again.
fn compiled(pattern: &str) -> Option<regex::Regex> {
    type Cache = std::collections::HashMap<String, Option<regex::Regex>>;
    static PATTERNS: std::sync::OnceLock<std::sync::Mutex<Cache>> = std::sync::OnceLock::new();
    let mut patterns = PATTERNS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    patterns
        .entry(pattern.to_string())
        .or_insert_with(|| regex::Regex::new(pattern).ok())
        .clone()
}

/// `minItems`/`maxItems` (`what` = "items") or `minProperties`/`maxProperties`.
fn check_count(
    count: usize,
    value: &Value,
    schema: &Value,
    path: &str,
    what: &str,
    errors: &mut Vec<FieldError>,
) {
    let (min_key, max_key) = match what {
        "items" => ("minItems", "maxItems"),
        _ => ("minProperties", "maxProperties"),
    };
    let limit = |key: &str| schema.get(key).and_then(Value::as_u64);
    if let Some(max) = limit(max_key)
        && count as u64 > max
    {
        errors.push(match what {
            "items" => FieldError::new(
                path,
                "FieldValueTooMany",
                format!("Too many: {count}: must have at most {max} items"),
            ),
            _ => invalid(
                path,
                value,
                format!("{path} in body should have at most {max} properties"),
            ),
        });
    }
    if let Some(min) = limit(min_key)
        && (count as u64) < min
    {
        errors.push(invalid(
            path,
            value,
            format!("{path} in body should have at least {min} {what}"),
        ));
    }
}

/// Where a CRD version's schema is not structural, as kube-apiserver reports it: every
/// node has a type (the root an object), but for those with `x-kubernetes-int-or-string`
/// or `x-kubernetes-preserve-unknown-fields`. `path` is the schema's own field path.
pub fn structural_errors(schema: &Value, path: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match schema.get("type").and_then(Value::as_str) {
        None | Some("") => errors.push(FieldError::new(
            &format!("{path}.type"),
            "FieldValueRequired",
            "Required value: must not be empty at the root".into(),
        )),
        Some("object") => {}
        Some(other) => errors.push(FieldError::new(
            &format!("{path}.type"),
            "FieldValueInvalid",
            format!("Invalid value: \"{other}\": must be object at the root"),
        )),
    }
    structural_children(schema, path, &mut errors);
    errors
}

fn structural_children(schema: &Value, path: &str, errors: &mut Vec<FieldError>) {
    let typed = |node: &Value| {
        node.get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.is_empty())
            || node
                .get("x-kubernetes-int-or-string")
                .and_then(Value::as_bool)
                == Some(true)
            || node
                .get("x-kubernetes-preserve-unknown-fields")
                .and_then(Value::as_bool)
                == Some(true)
    };
    let mut check = |node: &Value, at: String, what: &str| {
        if !typed(node) {
            errors.push(FieldError::new(
                &format!("{at}.type"),
                "FieldValueRequired",
                format!("Required value: must not be empty for specified {what}"),
            ));
        }
        structural_children(node, &at, errors);
    };
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (key, node) in properties {
            check(node, format!("{path}.properties[{key}]"), "object fields");
        }
    }
    if let Some(node) = schema.get("additionalProperties").filter(|a| a.is_object()) {
        check(
            node,
            format!("{path}.additionalProperties"),
            "object fields",
        );
    }
    if let Some(node) = schema.get("items").filter(|i| i.is_object()) {
        check(node, format!("{path}.items"), "array items");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "replicas": {"type": "integer", "minimum": 0, "maximum": 10},
            "ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": true, "multipleOf": 0.5},
            "color": {"type": "string", "enum": ["red", "green"]},
            "name": {"type": "string", "minLength": 3, "maxLength": 5, "pattern": "^[a-z]+$"},
            "port": {"x-kubernetes-int-or-string": true},
            "tags": {"type": "array", "maxItems": 2, "minItems": 1, "uniqueItems": true,
                     "items": {"type": "string"}},
            "labels": {"type": "object", "maxProperties": 1,
                       "additionalProperties": {"type": "string"}}
        }}}})
    }

    fn messages(object: Value) -> Vec<String> {
        validate(&object, &schema())
            .into_iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect()
    }

    #[test]
    fn bounds_lengths_patterns_and_counts_are_reported_as_kubernetes_does() {
        assert_eq!(
            messages(json!({"spec": {"replicas": -1, "ratio": 0, "name": "AB", "tags": []}})),
            [
                "spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0",
                "spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0",
                "spec.name: Invalid value: \"AB\": spec.name in body should be at least 3 chars long",
                "spec.name: Invalid value: \"AB\": spec.name in body should match '^[a-z]+$'",
                "spec.tags: Invalid value: \"array\": spec.tags in body should have at least 1 items",
            ]
        );
        assert_eq!(
            messages(
                json!({"spec": {"replicas": 11, "ratio": 0.7, "name": "abcdef",
                                     "tags": ["a", "a", "b"], "labels": {"a": "1", "b": "2"}}})
            ),
            [
                "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10",
                "spec.ratio: Invalid value: 0.7: spec.ratio in body should be a multiple of 0.5",
                "spec.name: Too long: may not be more than 5 bytes",
                "spec.tags: Too many: 3: must have at most 2 items",
                "spec.tags: Invalid value: \"array\": spec.tags in body shouldn't contain duplicates",
                "spec.labels: Invalid value: \"object\": spec.labels in body should have at most 1 properties",
            ]
        );
    }

    #[test]
    fn types_enums_and_int_or_string() {
        assert_eq!(
            messages(json!({"spec": {"replicas": "three", "color": "pink", "port": 1.5}})),
            [
                "spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"",
                "spec.color: Unsupported value: \"pink\": supported values: \"red\", \"green\"",
                "spec.port: Invalid value: \"number\": spec.port in body must be of type integer,string: \"number\"",
            ]
        );
        assert!(
            messages(json!({"spec": {"port": "http", "replicas": 3, "ratio": 1.5}})).is_empty()
        );
    }

    #[test]
    fn schemas_without_types_are_not_structural() {
        let root = "spec.versions[0].schema.openAPIV3Schema";
        let errors: Vec<String> = structural_errors(
            &json!({"properties": {"spec": {"properties": {"n": {"type": "integer"}}},
                    "free": {"x-kubernetes-preserve-unknown-fields": true},
                    "list": {"type": "array", "items": {}}}}),
            root,
        )
        .into_iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
        assert_eq!(
            errors,
            [
                format!("{root}.type: Required value: must not be empty at the root"),
                format!(
                    "{root}.properties[spec].type: Required value: must not be empty for specified object fields"
                ),
                format!(
                    "{root}.properties[list].items.type: Required value: must not be empty for specified array items"
                ),
            ]
        );
        assert!(structural_errors(&schema(), root).is_empty());
    }

    #[test]
    fn an_update_is_refused_only_for_the_values_it_changed() {
        let old = json!({"spec": {"replicas": -1, "tags": ["a"]}});
        let new = json!({"spec": {"replicas": -1, "tags": ["a"], "color": "pink"}});
        let errors = ratchet(validate(&new, &schema()), &old, &new);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "spec.color");
        let newer = json!({"spec": {"replicas": -2, "tags": ["a"]}});
        assert_eq!(
            ratchet(validate(&newer, &schema()), &old, &newer)[0].field,
            "spec.replicas"
        );
        assert_eq!(
            lookup(&json!({"a": [{"b": [0, 7]}]}), "a[0].b[1]"),
            Some(&json!(7))
        );
    }
}
