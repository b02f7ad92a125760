//! Diffs between essences, in kopf's format: `(op, field, old, new)` items.

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffOp {
    Add,
    Change,
    Remove,
}

/// One change: `field` is the key path (empty = the root); `None` = absent.
#[derive(Clone, Debug, PartialEq)]
pub struct DiffItem {
    pub op: DiffOp,
    pub field: Vec<String>,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// An ordered list of changes (added keys, removed keys, then common keys, recursively).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diff(pub Vec<DiffItem>);

/// kopf's diff of two essences: dicts recurse (added keys, removed keys, then common keys);
/// lists and scalars compare whole; `None` (or JSON null) is absence.
pub fn diff(old: Option<&Value>, new: Option<&Value>) -> Diff {
    let mut items = Vec::new();
    diff_into(
        &mut items,
        old.filter(|v| !v.is_null()),
        new.filter(|v| !v.is_null()),
        &mut Vec::new(),
    );
    Diff(items)
}

fn diff_into(
    items: &mut Vec<DiffItem>,
    old: Option<&Value>,
    new: Option<&Value>,
    path: &mut Vec<String>,
) {
    let item = |op, old: Option<&Value>, new: Option<&Value>, path: &[String]| DiffItem {
        op,
        field: path.to_vec(),
        old: old.cloned(),
        new: new.cloned(),
    };
    match (old, new) {
        (a, b) if a == b => {}
        (None, b) => items.push(item(DiffOp::Add, None, b, path)),
        (a, None) => items.push(item(DiffOp::Remove, a, None, path)),
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            for (key, value) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                path.push(key.clone());
                diff_into(items, None, Some(value).filter(|v| !v.is_null()), path);
                path.pop();
            }
            for (key, value) in a.iter().filter(|(k, _)| !b.contains_key(*k)) {
                path.push(key.clone());
                diff_into(items, Some(value).filter(|v| !v.is_null()), None, path);
                path.pop();
            }
            for (key, value) in a.iter() {
                if let Some(other) = b.get(key) {
                    path.push(key.clone());
                    diff_into(
                        items,
                        Some(value).filter(|v| !v.is_null()),
                        Some(other).filter(|v| !v.is_null()),
                        path,
                    );
                    path.pop();
                }
            }
        }
        (a, b) => items.push(item(DiffOp::Change, a, b, path)),
    }
}

impl DiffOp {
    pub fn as_str(self) -> &'static str {
        match self {
            DiffOp::Add => "add",
            DiffOp::Change => "change",
            DiffOp::Remove => "remove",
        }
    }
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn items(&self) -> &[DiffItem] {
        &self.0
    }

    /// The diff re-based to a field (`spec.field` → paths relative to it), as kopf's `reduce`.
    pub fn reduce(&self, field: &[String]) -> Diff {
        let mut items = Vec::new();
        for item in &self.0 {
            if field.is_empty() {
                items.push(item.clone());
            } else if item.field.len() >= field.len() && item.field[..field.len()] == *field {
                items.push(DiffItem {
                    field: item.field[field.len()..].to_vec(),
                    ..item.clone()
                });
            } else if field.len() > item.field.len() && field[..item.field.len()] == *item.field {
                let tail = &field[item.field.len()..];
                let resolve = |v: &Option<Value>| {
                    v.as_ref().map(|v| {
                        crate::structs::body::lookup(v, tail.iter().map(String::as_str)).clone()
                    })
                };
                let (old, new) = (resolve(&item.old), resolve(&item.new));
                items.extend(diff(old.as_ref(), new.as_ref()).0);
            }
        }
        Diff(items)
    }
}

/// Python's repr of the tuple of tuples: `(('add', ('spec', 'x'), None, 1),)`.
impl std::fmt::Display for Diff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let items: Vec<String> = self
            .0
            .iter()
            .map(|item| {
                let field = tuple_repr(
                    item.field
                        .iter()
                        .map(|k| crate::structs::repr::python_repr(&Value::String(k.clone())))
                        .collect(),
                );
                let value = |v: &Option<Value>| {
                    v.as_ref()
                        .map_or("None".to_string(), crate::structs::repr::python_repr)
                };
                format!(
                    "('{}', {}, {}, {})",
                    item.op.as_str(),
                    field,
                    value(&item.old),
                    value(&item.new)
                )
            })
            .collect();
        f.write_str(&tuple_repr(items))
    }
}

fn tuple_repr(items: Vec<String>) -> String {
    match items.len() {
        0 => "()".to_string(),
        1 => format!("({},)", items[0]),
        _ => format!("({})", items.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diffs_are_kopfs() {
        let old = json!({"spec": {"field": "a"}});
        let new = json!({"spec": {"field": "b", "other": 1}});
        let d = diff(Some(&old), Some(&new));
        assert_eq!(
            d.to_string(),
            "(('add', ('spec', 'other'), None, 1), ('change', ('spec', 'field'), 'a', 'b'))"
        );
        let field = vec!["spec".to_string(), "field".to_string()];
        assert_eq!(d.reduce(&field).to_string(), "(('change', (), 'a', 'b'),)");
        assert_eq!(
            diff(None, Some(&json!("x"))).to_string(),
            "(('add', (), None, 'x'),)"
        );
        assert!(diff(Some(&old), Some(&old)).is_empty());
        let created = diff(None, Some(&json!({"spec": {"field": "value"}})));
        assert_eq!(
            created.reduce(&field).to_string(),
            "(('add', (), None, 'value'),)"
        );
    }
}
