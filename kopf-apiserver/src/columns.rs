//! Table columns: the building blocks, and kube-apiserver's columns for the built-in
//! kinds this server serves (its printers), with the `-o wide` ones at priority 1.

use serde_json::{Value, json};
use std::borrow::Cow;

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
pub(crate) fn age(timestamp: Option<&str>) -> Value {
    let Some(then) = timestamp.and_then(|t| t.parse::<jiff::Timestamp>().ok()) else {
        return json!("<unknown>");
    };
    let seconds = jiff::Timestamp::now().duration_since(then).as_secs();
    json!(human_duration(seconds))
}

/// A simple JSONPath (`.spec.size`, `.status.items[0].name`): the value there, if any.
pub(crate) fn at<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
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
pub(crate) struct Column {
    pub(crate) name: Cow<'static, str>,
    pub(crate) kind: &'static str,
    pub(crate) format: &'static str,
    pub(crate) priority: u8,
    pub(crate) cell: Box<dyn Fn(&Value) -> Value + Send + Sync>,
}

pub(crate) fn column(
    name: impl Into<Cow<'static, str>>,
    kind: &'static str,
    priority: u8,
    cell: impl Fn(&Value) -> Value + Send + Sync + 'static,
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

pub(crate) fn name_column() -> Column {
    column("Name", "string", 0, |o| o["metadata"]["name"].clone())
}

pub(crate) fn age_column() -> Column {
    column("Age", "string", 0, |o| {
        age(o["metadata"]["creationTimestamp"].as_str())
    })
}

/// A string cell: the text, or empty.
fn text_of(value: &Value) -> Value {
    json!(value.as_str().unwrap_or_default())
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
    let mut columns = vec![
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
    ];
    columns.extend(workload_wide());
    columns
}

/// The template's containers' `key`s, comma-separated (the wide `Containers`/`Images`).
fn template_containers(o: &Value, key: &str) -> Value {
    let values: Vec<&str> = o
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .map(|c| c.iter().filter_map(|c| c[key].as_str()).collect())
        .unwrap_or_default();
    json!(values.join(","))
}

/// A label map as `k=v,k2=v2`; `<none>` when empty (kube's `Selector`).
fn label_map(map: Option<&Value>) -> Value {
    let pairs: Vec<String> = map
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    if pairs.is_empty() {
        json!("<none>")
    } else {
        json!(pairs.join(","))
    }
}

fn int_at(o: &Value, pointer: &str) -> i64 {
    o.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// `Created At` of the kinds kube prints with the default columns (RBAC roles, CRDs).
/// A quota's `resource: used/hard` pairs from its status, by resource name: the `limits.*`
/// ones (`limits` true) or the others, as kube-apiserver's Request and Limit columns.
fn quota_usage(o: &Value, limits: bool) -> Value {
    let Some(hard) = o["status"]["hard"].as_object() else {
        return json!("");
    };
    let mut names: Vec<&String> = hard
        .keys()
        .filter(|name| name.starts_with("limits.") == limits)
        .collect();
    names.sort();
    let quantity = |v: Option<&Value>| match v {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "0".into(),
    };
    let pairs: Vec<String> = names
        .into_iter()
        .map(|name| {
            let used = quantity(o["status"]["used"].get(name));
            format!("{name}: {used}/{}", quantity(hard.get(name)))
        })
        .collect();
    json!(pairs.join(", "))
}

fn created_at_column() -> Column {
    column("Created At", "date", 0, |o| {
        o["metadata"]["creationTimestamp"].clone()
    })
}

fn service_columns() -> Vec<Column> {
    vec![
        name_column(),
        column("Type", "string", 0, |o| {
            json!(o["spec"]["type"].as_str().unwrap_or("ClusterIP"))
        }),
        column("Cluster-IP", "string", 0, |o| {
            text_or_none(o.pointer("/spec/clusterIP"))
        }),
        column("External-IP", "string", 0, |o| {
            let external: Vec<&str> = o["spec"]["externalIPs"]
                .as_array()
                .map(|ips| ips.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match (o["spec"]["type"].as_str(), external.is_empty()) {
                (_, false) => json!(external.join(",")),
                (Some("LoadBalancer"), true) => json!("<pending>"),
                _ => json!("<none>"),
            }
        }),
        column("Port(s)", "string", 0, |o| {
            let ports: Vec<String> = o["spec"]["ports"]
                .as_array()
                .map(|ports| {
                    ports
                        .iter()
                        .map(|p| {
                            let protocol = p["protocol"].as_str().unwrap_or("TCP");
                            match p["nodePort"].as_i64() {
                                Some(node) => format!("{}:{node}/{protocol}", int_at(p, "/port")),
                                None => format!("{}/{protocol}", int_at(p, "/port")),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            if ports.is_empty() {
                json!("<none>")
            } else {
                json!(ports.join(","))
            }
        }),
        age_column(),
        column("Selector", "string", 1, |o| {
            label_map(o.pointer("/spec/selector"))
        }),
    ]
}

fn binding_columns() -> Vec<Column> {
    let subjects = |o: &Value, kind: &'static str| -> Value {
        let names: Vec<String> = o["subjects"]
            .as_array()
            .map(|s| {
                s.iter()
                    .filter(|s| s["kind"] == kind)
                    .map(|s| match (kind, s["namespace"].as_str()) {
                        ("ServiceAccount", Some(ns)) => {
                            format!("{ns}/{}", s["name"].as_str().unwrap_or_default())
                        }
                        _ => s["name"].as_str().unwrap_or_default().to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!(names.join(", "))
    };
    vec![
        name_column(),
        column("Role", "string", 0, |o| {
            json!(format!(
                "{}/{}",
                o["roleRef"]["kind"].as_str().unwrap_or_default(),
                o["roleRef"]["name"].as_str().unwrap_or_default()
            ))
        }),
        age_column(),
        column("Users", "string", 1, move |o| subjects(o, "User")),
        column("Groups", "string", 1, move |o| subjects(o, "Group")),
        column("ServiceAccounts", "string", 1, move |o| {
            subjects(o, "ServiceAccount")
        }),
    ]
}

fn workload_wide() -> [Column; 3] {
    [
        column("Containers", "string", 1, |o| {
            template_containers(o, "name")
        }),
        column("Images", "string", 1, |o| template_containers(o, "image")),
        column("Selector", "string", 1, |o| {
            label_map(o.pointer("/spec/selector/matchLabels"))
        }),
    ]
}

/// kube-apiserver's columns for a built-in kind; `Name` and `Age` for the others.
pub(crate) fn builtin_columns(group: &str, plural: &str) -> Vec<Column> {
    match (group, plural) {
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
            column("Subobject", "string", 1, |o| {
                text_of(&o["involvedObject"]["fieldPath"])
            }),
            column("Source", "string", 1, |o| {
                let first = |a: &Value, b: &Value| {
                    a.as_str()
                        .filter(|s| !s.is_empty())
                        .or(b.as_str())
                        .unwrap_or_default()
                        .to_string()
                };
                let component = first(&o["source"]["component"], &o["reportingComponent"]);
                let instance = first(&o["source"]["host"], &o["reportingInstance"]);
                json!(match instance.is_empty() {
                    true => component,
                    false => format!("{component}, {instance}"),
                })
            }),
            column("Message", "string", 0, |o| {
                json!(o["message"].as_str().unwrap_or_default().trim())
            }),
            column("First Seen", "string", 1, |o| {
                age(o["firstTimestamp"]
                    .as_str()
                    .or(o["eventTime"].as_str())
                    .or(o["metadata"]["creationTimestamp"].as_str()))
            }),
            column("Count", "string", 1, |o| {
                let count = o["series"]["count"]
                    .as_i64()
                    .or(o["count"].as_i64())
                    .filter(|c| *c > 0)
                    .unwrap_or(1);
                json!(count)
            }),
            column("Name", "string", 1, |o| o["metadata"]["name"].clone()),
        ],
        ("", "secrets") => vec![
            name_column(),
            column("Type", "string", 0, |o| {
                json!(o["type"].as_str().unwrap_or("Opaque"))
            }),
            column("Data", "integer", 0, |o| {
                json!(o["data"].as_object().map_or(0, |m| m.len()))
            }),
            age_column(),
        ],
        ("", "services") => service_columns(),
        ("", "serviceaccounts") => vec![
            name_column(),
            column("Secrets", "integer", 0, |o| {
                json!(o["secrets"].as_array().map_or(0, Vec::len))
            }),
            age_column(),
        ],
        ("", "persistentvolumeclaims") => vec![
            name_column(),
            column("Status", "string", 0, |o| {
                json!(o["status"]["phase"].as_str().unwrap_or("Pending"))
            }),
            column("Volume", "string", 0, |o| {
                json!(o["spec"]["volumeName"].as_str().unwrap_or_default())
            }),
            column("Capacity", "string", 0, |o| {
                json!(
                    o["status"]["capacity"]["storage"]
                        .as_str()
                        .unwrap_or_default()
                )
            }),
            column("Access Modes", "string", 0, |o| {
                let short = |m: &str| {
                    match m {
                        "ReadWriteOnce" => "RWO",
                        "ReadOnlyMany" => "ROX",
                        "ReadWriteMany" => "RWX",
                        "ReadWriteOncePod" => "RWOP",
                        other => other,
                    }
                    .to_string()
                };
                let modes: Vec<String> = o["status"]["accessModes"]
                    .as_array()
                    .map(|m| m.iter().filter_map(Value::as_str).map(short).collect())
                    .unwrap_or_default();
                json!(modes.join(","))
            }),
            column("StorageClass", "string", 0, |o| {
                json!(o["spec"]["storageClassName"].as_str().unwrap_or_default())
            }),
            column("VolumeAttributesClass", "string", 0, |o| {
                text_or_none(o.pointer("/spec/volumeAttributesClassName"))
            }),
            age_column(),
            column("VolumeMode", "string", 1, |o| {
                json!(o["spec"]["volumeMode"].as_str().unwrap_or("Filesystem"))
            }),
        ],
        ("apps", "replicasets") => {
            let mut columns = vec![
                name_column(),
                column("Desired", "integer", 0, |o| {
                    json!(o["spec"]["replicas"].as_i64().unwrap_or(1))
                }),
                column("Current", "integer", 0, |o| {
                    json!(int_at(o, "/status/replicas"))
                }),
                column("Ready", "integer", 0, |o| {
                    json!(int_at(o, "/status/readyReplicas"))
                }),
                age_column(),
            ];
            columns.extend(workload_wide());
            columns
        }
        ("apps", "statefulsets") => {
            let mut columns = vec![
                name_column(),
                column("Ready", "string", 0, |o| {
                    let desired = o["spec"]["replicas"].as_i64().unwrap_or(1);
                    json!(format!("{}/{desired}", int_at(o, "/status/readyReplicas")))
                }),
                age_column(),
            ];
            columns.extend(workload_wide().into_iter().take(2));
            columns
        }
        ("apps", "daemonsets") => {
            let mut columns = vec![
                name_column(),
                column("Desired", "integer", 0, |o| {
                    json!(int_at(o, "/status/desiredNumberScheduled"))
                }),
                column("Current", "integer", 0, |o| {
                    json!(int_at(o, "/status/currentNumberScheduled"))
                }),
                column("Ready", "integer", 0, |o| {
                    json!(int_at(o, "/status/numberReady"))
                }),
                column("Up-to-date", "integer", 0, |o| {
                    json!(int_at(o, "/status/updatedNumberScheduled"))
                }),
                column("Available", "integer", 0, |o| {
                    json!(int_at(o, "/status/numberAvailable"))
                }),
                column("Node Selector", "string", 0, |o| {
                    label_map(o.pointer("/spec/template/spec/nodeSelector"))
                }),
                age_column(),
            ];
            columns.extend(workload_wide());
            columns
        }
        ("batch", "jobs") => {
            let mut columns = vec![
                name_column(),
                column("Status", "string", 0, |o| {
                    let has = |kind: &str| {
                        o["status"]["conditions"].as_array().is_some_and(|c| {
                            c.iter().any(|c| c["type"] == kind && c["status"] == "True")
                        })
                    };
                    let status = if has("Complete") {
                        "Complete"
                    } else if has("Failed") {
                        "Failed"
                    } else if o["spec"]["suspend"] == true {
                        "Suspended"
                    } else {
                        "Running"
                    };
                    json!(status)
                }),
                column("Completions", "string", 0, |o| {
                    let completions = o["spec"]["completions"].as_i64().unwrap_or(1);
                    json!(format!("{}/{completions}", int_at(o, "/status/succeeded")))
                }),
                column("Duration", "string", 0, |o| {
                    let at = |key: &str| {
                        o["status"][key]
                            .as_str()
                            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    };
                    match at("startTime") {
                        Some(start) => {
                            let end = at("completionTime").unwrap_or_else(jiff::Timestamp::now);
                            json!(crate::columns::human_duration(
                                end.duration_since(start).as_secs()
                            ))
                        }
                        None => json!(""),
                    }
                }),
                age_column(),
            ];
            columns.extend(workload_wide());
            columns
        }
        ("batch", "cronjobs") => vec![
            name_column(),
            column("Schedule", "string", 0, |o| o["spec"]["schedule"].clone()),
            column("Timezone", "string", 0, |o| {
                text_or_none(o.pointer("/spec/timeZone"))
            }),
            column("Suspend", "string", 0, |o| {
                json!(if o["spec"]["suspend"] == true {
                    "True"
                } else {
                    "False"
                })
            }),
            column("Active", "integer", 0, |o| {
                json!(o["status"]["active"].as_array().map_or(0, Vec::len))
            }),
            column(
                "Last Schedule",
                "string",
                0,
                |o| match o["status"]["lastScheduleTime"].as_str() {
                    Some(time) => age(Some(time)),
                    None => json!("<none>"),
                },
            ),
            age_column(),
        ],
        ("policy", "poddisruptionbudgets") => {
            let budget = |key: &'static str| {
                move |o: &Value| match &o["spec"][key] {
                    Value::Null => json!("N/A"),
                    Value::String(text) => json!(text),
                    other => json!(other.to_string()),
                }
            };
            vec![
                name_column(),
                column("Min Available", "string", 0, budget("minAvailable")),
                column("Max Unavailable", "string", 0, budget("maxUnavailable")),
                column("Allowed Disruptions", "integer", 0, |o| {
                    json!(int_at(o, "/status/disruptionsAllowed"))
                }),
                age_column(),
            ]
        }
        ("networking.k8s.io", "ingresses") => vec![
            name_column(),
            column("Class", "string", 0, |o| {
                text_or_none(o.pointer("/spec/ingressClassName"))
            }),
            column("Hosts", "string", 0, |o| {
                let hosts: Vec<&str> = o["spec"]["rules"]
                    .as_array()
                    .map(|rules| rules.iter().filter_map(|r| r["host"].as_str()).collect())
                    .unwrap_or_default();
                json!(if hosts.is_empty() {
                    "*".to_string()
                } else {
                    hosts.join(",")
                })
            }),
            column("Address", "string", 0, |o| {
                let addresses: Vec<&str> = o["status"]["loadBalancer"]["ingress"]
                    .as_array()
                    .map(|i| {
                        i.iter()
                            .filter_map(|i| i["ip"].as_str().or(i["hostname"].as_str()))
                            .collect()
                    })
                    .unwrap_or_default();
                json!(addresses.join(","))
            }),
            column("Ports", "string", 0, |o| {
                let tls = o["spec"]["tls"].as_array().is_some_and(|t| !t.is_empty());
                json!(if tls { "80, 443" } else { "80" })
            }),
            age_column(),
        ],
        ("coordination.k8s.io", "leases") => vec![
            name_column(),
            column("Holder", "string", 0, |o| {
                json!(o["spec"]["holderIdentity"].as_str().unwrap_or_default())
            }),
            age_column(),
        ],
        ("", "resourcequotas") => vec![
            name_column(),
            age_column(),
            column("Request", "string", 0, |o| quota_usage(o, false)),
            column("Limit", "string", 0, |o| quota_usage(o, true)),
        ],
        ("scheduling.k8s.io", "priorityclasses") => vec![
            name_column(),
            column("Value", "integer", 0, |o| json!(int_at(o, "/value"))),
            column("Global-Default", "boolean", 0, |o| {
                json!(o["globalDefault"].as_bool().unwrap_or(false))
            }),
            age_column(),
            column("PreemptionPolicy", "string", 0, |o| {
                json!(
                    o["preemptionPolicy"]
                        .as_str()
                        .unwrap_or("PreemptLowerPriority")
                )
            }),
        ],
        ("rbac.authorization.k8s.io", "roles" | "clusterroles")
        | ("apiextensions.k8s.io", "customresourcedefinitions") => {
            vec![name_column(), created_at_column()]
        }
        ("rbac.authorization.k8s.io", "rolebindings" | "clusterrolebindings") => binding_columns(),
        _ => vec![name_column(), age_column()],
    }
}
