//! Tables (`meta.k8s.io/v1` `Table`) for clients that ask for them — kubectl asks with
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`: a CRD's printer columns (`Name`
//! first; `Age` when it declares none), kube-apiserver's columns for pods, deployments,
//! config maps, namespaces and events, and `Name`/`Age` for the other kinds. Columns of a
//! priority above 0 are what `-o wide` adds.

use crate::columns::{Column, age, age_column, at, builtin_columns, column, name_column};
use crate::registry::Resource;
use bytes::Bytes;
use serde::Serialize;
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
    Renderer::new(resource).table(objects, list_metadata, include_object)
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
    Renderer::of(columns).table(&[scale], metadata, include_object)
}

/// A resource's columns and their definitions, worked out once: a Table watch renders
/// every event with the same ones.
pub struct Renderer {
    columns: Vec<Column>,
    definitions: Value,
    /// `definitions` as JSON, for the event lines written without a `Value` in between.
    definitions_json: Vec<u8>,
}

/// One row: the cells, and the object as `includeObject` asks (`Metadata` by default).
#[derive(Serialize)]
struct Row<'a> {
    cells: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<RowObject<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum RowObject<'a> {
    Whole(&'a Value),
    Partial {
        kind: &'static str,
        #[serde(rename = "apiVersion")]
        api_version: &'static str,
        metadata: &'a Value,
    },
}

impl Renderer {
    pub fn new(resource: &Resource) -> Self {
        Self::of(columns_of(resource))
    }

    fn of(columns: Vec<Column>) -> Self {
        let definitions: Value = columns
            .iter()
            .map(|c| {
                json!({"name": c.name, "type": c.kind, "format": c.format,
                       "description": "", "priority": c.priority})
            })
            .collect();
        Renderer {
            definitions_json: definitions.to_string().into_bytes(),
            columns,
            definitions,
        }
    }

    fn row<'a>(&self, object: &'a Value, include_object: Option<&str>) -> Row<'a> {
        let cells = self.columns.iter().map(|c| (c.cell)(object)).collect();
        let object = match include_object {
            Some("None") => None,
            Some("Object") => Some(RowObject::Whole(object)),
            _ => Some(RowObject::Partial {
                kind: "PartialObjectMetadata",
                api_version: "meta.k8s.io/v1",
                metadata: &object["metadata"],
            }),
        };
        Row { cells, object }
    }

    pub fn table(
        &self,
        objects: &[&Value],
        list_metadata: Value,
        include_object: Option<&str>,
    ) -> Value {
        let rows: Vec<Value> = objects
            .iter()
            .map(|object| json!(self.row(object, include_object)))
            .collect();
        json!({
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": list_metadata,
            "columnDefinitions": self.definitions.clone(),
            "rows": rows,
        })
    }

    /// A watch event whose object is the one-row Table of `object`, written straight to its
    /// line (as [`crate::store::event_line`] would write [`Renderer::table`]'s `Value`).
    pub fn event_line(&self, kind: &str, object: &Value, include_object: Option<&str>) -> Bytes {
        let mut line = Vec::with_capacity(512);
        line.extend_from_slice(b"{\"type\":\"");
        line.extend_from_slice(kind.as_bytes());
        line.extend_from_slice(
            b"\",\"object\":{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":",
        );
        let metadata = json!({"resourceVersion": object["metadata"]["resourceVersion"]});
        // Serialising values and derived structs into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut line, &metadata);
        line.extend_from_slice(b",\"columnDefinitions\":");
        line.extend_from_slice(&self.definitions_json);
        line.extend_from_slice(b",\"rows\":[");
        let _ = serde_json::to_writer(&mut line, &self.row(object, include_object));
        line.extend_from_slice(b"]}}\n");
        Bytes::from(line)
    }
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

    /// A watch's Table event, written without a `Value`, is what the `Value` would give.
    #[test]
    fn table_event_lines_are_the_tables_serialised() {
        let registry = crate::registry::Registry::with_builtins();
        let Some(pods) = registry.find("", "v1", "pods") else {
            panic!("pods are built in");
        };
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default", "resourceVersion": "7",
                         "creationTimestamp": "2026-01-01T00:00:00Z", "labels": {"a": "b"}},
            "status": {"phase": "Running"}});
        let renderer = Renderer::new(&pods);
        for include in [None, Some("None"), Some("Metadata"), Some("Object")] {
            let metadata = json!({"resourceVersion": "7"});
            let table = renderer.table(&[&pod], metadata, include);
            let expected = crate::store::event_line("MODIFIED", &table);
            let line = renderer.event_line("MODIFIED", &pod, include);
            assert_eq!(
                std::str::from_utf8(&line).ok(),
                std::str::from_utf8(&expected).ok(),
                "{include:?}"
            );
        }
    }
}
