//! Tables (`meta.k8s.io/v1` `Table`) for clients that ask for them — kubectl asks with
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`: a CRD's printer columns (`Name`
//! first; `Age` when it declares none), kube-apiserver's columns for pods, deployments,
//! config maps, namespaces and events, and `Name`/`Age` for the other kinds. Columns of a
//! priority above 0 are what `-o wide` adds.

use crate::columns::{Column, age, age_column, at, builtin_columns, column, name_column};
use crate::registry::Resource;
use serde_json::{Value, json};

#[cfg(test)]
use crate::columns::human_duration;

/// Whether the client asked for a Table.
pub fn wanted(accept: &str) -> bool {
    accept
        .split(',')
        .any(|part| part.contains("as=Table") && part.contains("g=meta.k8s.io"))
}

fn columns_of(resource: &Resource) -> Vec<Column> {
    if resource.custom {
        let mut columns = vec![name_column()];
        for printer in &resource.printer_columns {
            let path = printer["jsonPath"].as_str().unwrap_or_default().to_string();
            let kind = match printer["type"].as_str() {
                Some("integer") => "integer",
                Some("number") => "number",
                Some("boolean") => "boolean",
                Some("date") => "date",
                _ => "string",
            };
            let name = printer["name"].as_str().unwrap_or("?").to_string();
            let priority = printer["priority"].as_u64().unwrap_or(0).min(255) as u8;
            columns.push(column(name, kind, priority, move |o| match at(o, &path) {
                Some(value) if kind == "date" => age(value.as_str()),
                Some(value) => value.clone(),
                None => Value::Null,
            }));
        }
        if resource.printer_columns.is_empty() {
            columns.push(age_column());
        }
        return columns;
    }
    builtin_columns(&resource.group, &resource.plural)
}

/// The Table of `objects`; `include_object` is kube's `includeObject` (`None`,
/// `Metadata` — the default — or `Object`).
pub fn table(
    resource: &Resource,
    objects: &[&Value],
    list_metadata: Value,
    include_object: Option<&str>,
) -> Value {
    render(columns_of(resource), objects, list_metadata, include_object)
}

/// The Table of a `Scale` (`kubectl get deployment web --subresource=scale`): kube-apiserver's
/// `Name`, `Desired` and `Available`.
pub fn scale_table(scale: &Value, include_object: Option<&str>) -> Value {
    let columns = vec![
        name_column(),
        column("Desired", "integer", 0, |o| o["spec"]["replicas"].clone()),
        column("Available", "integer", 0, |o| {
            o["status"]["replicas"].clone()
        }),
    ];
    let metadata = json!({"resourceVersion": scale["metadata"]["resourceVersion"]});
    render(columns, &[scale], metadata, include_object)
}

fn render(
    columns: Vec<Column>,
    objects: &[&Value],
    list_metadata: Value,
    include_object: Option<&str>,
) -> Value {
    let definitions: Vec<Value> = columns
        .iter()
        .map(|c| {
            json!({"name": c.name, "type": c.kind, "format": c.format,
                   "description": "", "priority": c.priority})
        })
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let cells: Vec<Value> = columns.iter().map(|c| (c.cell)(object)).collect();
            let mut row = json!({"cells": cells});
            match include_object {
                Some("None") => {}
                Some("Object") => row["object"] = (*object).clone(),
                _ => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": object["metadata"].clone(),
                    });
                }
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_metadata,
        "columnDefinitions": definitions,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_kubectl_prints_them() {
        let cases = [
            (5, "5s"),
            (119, "119s"),
            (200, "3m20s"),
            (600, "10m"),
            (3 * 3600, "3h"),
            (5 * 3600 + 120, "5h2m"),
            (30 * 3600, "30h"),
            (3 * 86400 + 3600, "3d1h"),
            (40 * 86400, "40d"),
            (3 * 365 * 86400, "3y"),
        ];
        for (seconds, shown) in cases {
            assert_eq!(human_duration(seconds), shown, "{seconds}");
        }
        assert!(wanted(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        ));
        assert!(!wanted("application/json"));
    }
}
