//! Python's `repr()` of JSON values, as kopf's log lines print bodies, diffs and patches.

use serde_json::Value;

/// `{'a': 1, 'b': [True, None, 'x']}` — Python's repr of the value as kopf would hold it.
pub fn python_repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, value);
    out
}

/// Python's `str()` of the value: a string as it is, anything else as its repr (what
/// `f"{value}"` prints in kopf's examples).
pub fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

/// [`python_str`] of a value that may be absent (`None`).
pub fn python_str_or_none(value: Option<&Value>) -> String {
    value.map_or_else(|| "None".into(), python_str)
}

fn write_repr(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => out.push_str(&number_repr(n)),
        Value::String(s) => out.push_str(&str_repr(s)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&str_repr(key));
                out.push_str(": ");
                write_repr(out, item);
            }
            out.push('}');
        }
    }
}

fn number_repr(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    float_repr(f)
}

/// Python's float repr: shortest round-trip digits, `.0` for integral values,
/// exponent form (`1e+16`) from 1e16 up and below 1e-4.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e16).contains(&abs) {
        let formatted = format!("{f:e}"); // e.g. 1e16, 1.5e-5
        let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0);
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    let text = format!("{f}");
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

/// Python's str repr: single quotes unless the text has `'` and no `"`.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (0x80..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn str_is_the_text_of_a_string_and_the_repr_of_the_rest() {
        assert_eq!(python_str(&json!("value")), "value");
        assert_eq!(python_str(&json!({"a": [1, true]})), "{'a': [1, True]}");
        assert_eq!(python_str_or_none(None), "None");
        assert_eq!(python_str_or_none(Some(&json!(null))), "None");
        assert_eq!(python_str_or_none(Some(&json!(2.5))), "2.5");
    }

    #[test]
    fn values_print_as_python_prints_them() {
        assert_eq!(
            python_repr(&json!({"a": 1, "b": [true, null, "x"], "c": 1.5})),
            "{'a': 1, 'b': [True, None, 'x'], 'c': 1.5}"
        );
        assert_eq!(python_repr(&json!("it's")), "\"it's\"");
        assert_eq!(python_repr(&json!("a'b\"c")), "'a\\'b\"c'");
        assert_eq!(python_repr(&json!("{\"spec\":{}}\n")), "'{\"spec\":{}}\\n'");
        assert_eq!(float_repr(1.0), "1.0");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(0.00001), "1e-05");
        assert_eq!(float_repr(0.990535), "0.990535");
    }
}
