//! Tables (`meta.k8s.io/v1` `Table`) for clients that ask for them — kubectl asks with
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`: a CRD's printer columns (`Name`
//! first; `Age` when it declares none), kube-apiserver's columns for pods, deployments,
//! config maps, namespaces and events, and `Name`/`Age` for the other kinds. Columns of a
//! priority above 0 are what `-o wide` adds.

use crate::registry::Resource;
use serde_json::{Value, json};
use std::borrow::Cow;

/// Whether the client asked for a Table.
pub fn wanted(accept: &str) -> bool {
    accept
        .split(',')
        .any(|part| part.contains("as=Table") && part.contains("g=meta.k8s.io"))
}

/// Seconds as kubectl shows ages: `45s`, `3m20s`, `5h`, `2d3h`, `1y`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    let seconds = seconds.max(0);
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = hours / 24;
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{days}d"),
            h => format!("{days}d{h}h"),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{days}d");
    }
    let years = days / 365;
    if hours < 24 * 365 * 8 {
        return match days % 365 {
            0 => format!("{years}y"),
            d => format!("{years}y{d}d"),
        };
    }
    format!("{years}y")
}

/// The age of a timestamp, now.
fn age(timestamp: Option<&str>) -> Value {
    let Some(then) = timestamp.and_then(|t| t.parse::<jiff::Timestamp>().ok()) else {
        return json!("<unknown>");
    };
    let seconds = jiff::Timestamp::now().duration_since(then).as_secs();
    json!(human_duration(seconds))
}

/// A simple JSONPath (`.spec.size`, `.status.items[0].name`): the value there, if any.
fn at<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let mut here = object;
    for part in path.trim_start_matches('.').split('.') {
        let (key, index) = match part.split_once('[') {
            Some((key, rest)) => (key, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        if !key.is_empty() {
            here = here.get(key)?;
        }
        if let Some(index) = index {
            here = here.get(index)?;
        }
    }
    Some(here)
}

/// One column: its definition and how a row's cell is computed.
struct Column {
    name: Cow<'static, str>,
    kind: &'static str,
    format: &'static str,
    priority: u8,
    cell: Box<dyn Fn(&Value) -> Value>,
}

fn column(
    name: impl Into<Cow<'static, str>>,
    kind: &'static str,
    priority: u8,
    cell: impl Fn(&Value) -> Value + 'static,
) -> Column {
    let name = name.into();
    let format = if name == "Name" { "name" } else { "" };
    Column {
        name,
        kind,
        format,
        priority,
        cell: Box::new(cell),
    }
}

fn name_column() -> Column {
    column("Name", "string", 0, |o| o["metadata"]["name"].clone())
}

fn age_column() -> Column {
    column("Age", "string", 0, |o| {
        age(o["metadata"]["creationTimestamp"].as_str())
    })
}

fn text_or_none(value: Option<&Value>) -> Value {
    match value.and_then(Value::as_str) {
        Some(text) if !text.is_empty() => json!(text),
        _ => json!("<none>"),
    }
}

/// kube-apiserver's pod columns (phase and container states simplified).
fn pod_columns() -> Vec<Column> {
    let statuses = |o: &Value| -> Vec<Value> {
        o["status"]["containerStatuses"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    vec![
        name_column(),
        column("Ready", "string", 0, move |o| {
            let total = o["spec"]["containers"].as_array().map_or(0, Vec::len);
            let ready = statuses(o)
                .iter()
                .filter(|s| s["ready"] == json!(true))
                .count();
            json!(format!("{ready}/{total}"))
        }),
        column("Status", "string", 0, move |o| {
            let waiting = statuses(o)
                .iter()
                .find_map(|s| s["state"]["waiting"]["reason"].as_str().map(str::to_string));
            let phase = o["status"]["phase"].as_str().unwrap_or("Pending");
            let reason = o["status"]["reason"].as_str();
            json!(waiting.as_deref().or(reason).unwrap_or(phase))
        }),
        column("Restarts", "string", 0, move |o| {
            let restarts: i64 = statuses(o)
                .iter()
                .filter_map(|s| s["restartCount"].as_i64())
                .sum();
            json!(restarts.to_string())
        }),
        age_column(),
        column("IP", "string", 1, |o| {
            text_or_none(o.pointer("/status/podIP"))
        }),
        column("Node", "string", 1, |o| {
            text_or_none(o.pointer("/spec/nodeName"))
        }),
        column("Nominated Node", "string", 1, |o| {
            text_or_none(o.pointer("/status/nominatedNodeName"))
        }),
        column("Readiness Gates", "string", 1, |_| json!("<none>")),
    ]
}

fn deployment_columns() -> Vec<Column> {
    let count = |o: &Value, key: &str| o["status"][key].as_i64().unwrap_or(0);
    vec![
        name_column(),
        column("Ready", "string", 0, move |o| {
            let desired = o["spec"]["replicas"].as_i64().unwrap_or(1);
            json!(format!("{}/{desired}", count(o, "readyReplicas")))
        }),
        column("Up-to-date", "integer", 0, move |o| {
            json!(count(o, "updatedReplicas"))
        }),
        column("Available", "integer", 0, move |o| {
            json!(count(o, "availableReplicas"))
        }),
        age_column(),
        column("Containers", "string", 1, |o| {
            let names = o
                .pointer("/spec/template/spec/containers")
                .and_then(Value::as_array)
                .map(|c| {
                    c.iter()
                        .filter_map(|c| c["name"].as_str())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            json!(names.join(","))
        }),
        column("Images", "string", 1, |o| {
            let images = o
                .pointer("/spec/template/spec/containers")
                .and_then(Value::as_array)
                .map(|c| {
                    c.iter()
                        .filter_map(|c| c["image"].as_str())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            json!(images.join(","))
        }),
        column("Selector", "string", 1, |o| {
            let labels = o
                .pointer("/spec/selector/matchLabels")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            json!(labels.join(","))
        }),
    ]
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
    match (resource.group.as_str(), resource.plural.as_str()) {
        ("", "pods") => pod_columns(),
        ("apps", "deployments") => deployment_columns(),
        ("", "configmaps") => vec![
            name_column(),
            column("Data", "integer", 0, |o| {
                let count = |key: &str| o[key].as_object().map_or(0, |m| m.len());
                json!(count("data") + count("binaryData"))
            }),
            age_column(),
        ],
        ("", "namespaces") => vec![
            name_column(),
            column("Status", "string", 0, |o| {
                json!(o["status"]["phase"].as_str().unwrap_or("Active"))
            }),
            age_column(),
        ],
        ("", "events") => vec![
            column("Last Seen", "string", 0, |o| {
                age(o["lastTimestamp"]
                    .as_str()
                    .or(o["eventTime"].as_str())
                    .or(o["metadata"]["creationTimestamp"].as_str()))
            }),
            column("Type", "string", 0, |o| o["type"].clone()),
            column("Reason", "string", 0, |o| o["reason"].clone()),
            column("Object", "string", 0, |o| {
                let kind = o["involvedObject"]["kind"].as_str().unwrap_or_default();
                let name = o["involvedObject"]["name"].as_str().unwrap_or_default();
                json!(format!("{}/{name}", kind.to_ascii_lowercase()))
            }),
            column("Message", "string", 0, |o| o["message"].clone()),
        ],
        _ => vec![name_column(), age_column()],
    }
}

/// The Table of `objects`; `include_object` is kube's `includeObject` (`None`,
/// `Metadata` — the default — or `Object`).
pub fn table(
    resource: &Resource,
    objects: &[&Value],
    list_metadata: Value,
    include_object: Option<&str>,
) -> Value {
    let columns = columns_of(resource);
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
