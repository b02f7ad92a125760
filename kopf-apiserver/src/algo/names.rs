//! Object-name and metadata validation in Kubernetes wording (API-31, API-32, API-37).

use super::FieldError;
use rand::Rng;
use serde_json::Value;

const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const QUALIFIED_NAME_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const TOTAL_ANNOTATION_SIZE: usize = 256 * 1024;

fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

fn is_qualified_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// Validate an object name as a DNS-1123 subdomain.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.len() > 253 {
        return Err("must be no more than 253 characters".into());
    }
    if !is_dns1123_subdomain(name) {
        return Err(DNS1123_SUBDOMAIN_MSG.into());
    }
    Ok(())
}

fn qualified_name_errors(key: &str) -> Vec<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let mut errs = Vec::new();
    if let Some(p) = prefix {
        if p.is_empty() {
            errs.push("prefix part must be non-empty".to_string());
        } else if !is_dns1123_subdomain(p) {
            errs.push(format!("prefix part {DNS1123_SUBDOMAIN_MSG}"));
        }
    }
    if name.len() > 63 {
        errs.push("name part must be no more than 63 characters".to_string());
    } else if name.contains('/') || !is_qualified_part(name) {
        errs.push(QUALIFIED_NAME_MSG.to_string());
    }
    errs
}

/// Validate `metadata` (name, namespace, labels, annotations); returns all problems found.
pub fn validate_metadata(metadata: &Value, namespaced: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name = metadata
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let generate = metadata
        .get("generateName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name.is_empty() && generate.is_empty() {
        errors.push(FieldError::new(
            "metadata.name",
            "FieldValueRequired",
            "Required value: name or generateName is required".into(),
        ));
    } else if !name.is_empty()
        && let Err(msg) = validate_name(name)
    {
        errors.push(FieldError::new(
            "metadata.name",
            "FieldValueInvalid",
            format!("Invalid value: \"{name}\": {msg}"),
        ));
    }
    let namespace = metadata
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if namespaced && !namespace.is_empty() && !is_dns1123_label(namespace) {
        errors.push(FieldError::new(
            "metadata.namespace",
            "FieldValueInvalid",
            format!("Invalid value: \"{namespace}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"),
        ));
    }
    if let Some(labels) = metadata.get("labels").and_then(Value::as_object) {
        for (k, v) in labels {
            for msg in qualified_name_errors(k) {
                errors.push(FieldError::new(
                    "metadata.labels",
                    "FieldValueInvalid",
                    format!("Invalid value: \"{k}\": {msg}"),
                ));
            }
            let v = v.as_str().unwrap_or_default();
            if v.len() > 63 {
                errors.push(FieldError::new(
                    &format!("metadata.labels.{k}"),
                    "FieldValueInvalid",
                    format!("Invalid value: \"{v}\": must be no more than 63 characters"),
                ));
            } else if !v.is_empty() && !is_qualified_part(v) {
                errors.push(FieldError::new(
                    &format!("metadata.labels.{k}"),
                    "FieldValueInvalid",
                    format!("Invalid value: \"{v}\": {LABEL_VALUE_MSG}"),
                ));
            }
        }
    }
    if let Some(annotations) = metadata.get("annotations").and_then(Value::as_object) {
        let mut total = 0usize;
        for (k, v) in annotations {
            for msg in qualified_name_errors(&k.to_lowercase()) {
                errors.push(FieldError::new(
                    "metadata.annotations",
                    "FieldValueInvalid",
                    format!("Invalid value: \"{k}\": {msg}"),
                ));
            }
            total += k.len() + v.as_str().map_or(0, str::len);
        }
        if total > TOTAL_ANNOTATION_SIZE {
            errors.push(FieldError::new(
                "metadata.annotations",
                "FieldValueTooLong",
                format!("Too long: may not be more than {TOTAL_ANNOTATION_SIZE} bytes"),
            ));
        }
    }
    errors
}

/// Five random characters for `generateName`, from the alphabet Kubernetes uses.
pub fn generate_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names() {
        assert!(validate_name("my-name.example").is_ok());
        assert!(validate_name("My").is_err());
        assert!(validate_name("-a").is_err());
        assert!(validate_name(&"a".repeat(254)).is_err());
    }

    #[test]
    fn metadata() {
        assert!(
            validate_metadata(&json!({"name": "x", "labels": {"a.io/b": "c"}}), true).is_empty()
        );
        let errs = validate_metadata(&json!({"labels": {"bad key!": "x", "ok": "-bad"}}), true);
        assert_eq!(errs.len(), 3);
        assert_eq!(errs[0].reason, "FieldValueRequired");
        let big = "x".repeat(300 * 1024);
        let errs = validate_metadata(&json!({"name": "x", "annotations": {"a": big}}), false);
        assert_eq!(errs[0].reason, "FieldValueTooLong");
    }

    #[test]
    fn suffix() {
        let s = generate_suffix();
        assert_eq!(s.len(), 5);
        assert!(s.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
    }
}
