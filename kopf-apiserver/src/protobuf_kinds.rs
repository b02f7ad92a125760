//! The protobuf bodies of kubectl's generators for workloads, services, RBAC and the rest
//! (`kubectl create deployment|job|cronjob|service|role|rolebinding|clusterrole|
//! clusterrolebinding|quota|priorityclass|poddisruptionbudget|ingress`, `expose`),
//! decoded by schema: each message is a table of Kubernetes' field numbers (as in its
//! `generated.proto`), names and types. kubectl sends every field, mostly empty: a field the
//! table does not know is accepted only when it holds nothing but defaults, so no request is
//! silently stored with a part missing.
//!
//! Why tables and not a crate of Kubernetes' protobuf types: the one there is, `k8s-pb`
//! (0.9, prost messages generated from the same `.proto` files), has no JSON mapping —
//! no serde, no reflection, and its README says it is not usable yet — so decoding with it
//! would still need a hand-written conversion per message to the JSON that is stored, and
//! kubectl 1.32 does not fall back to JSON when a protobuf body is refused (checked: it
//! fails with the 415's message).

use crate::protobuf_wire::{Wire, fields, object_meta, text};
use serde_json::{Map, Value, json};

#[derive(Clone, Copy)]
enum Kind {
    Str,
    /// An `int32` that JSON leaves out when 0 (Go's `omitempty`).
    Int,
    /// An `*int32`: present whenever kubectl set it, 0 included (`replicas`).
    Num,
    Bool,
    Meta,
    Msg(&'static [Field]),
    /// A message whose fields JSON puts into the enclosing object (Go's inline struct).
    Inline(&'static [Field]),
    /// `map<string, string>`.
    Labels,
    /// `map<string, Quantity>` (resource lists).
    Quantities,
    IntOrString,
}

#[derive(Clone, Copy)]
struct Field {
    number: u64,
    name: &'static str,
    kind: Kind,
    repeated: bool,
}

const fn one(number: u64, name: &'static str, kind: Kind) -> Field {
    Field {
        number,
        name,
        kind,
        repeated: false,
    }
}

const fn many(number: u64, name: &'static str, kind: Kind) -> Field {
    Field {
        number,
        name,
        kind,
        repeated: true,
    }
}

use Kind::{Bool, Inline, Int, IntOrString, Labels, Meta, Msg, Num, Quantities, Str};

const REQUIREMENT: &[Field] = &[
    one(1, "key", Str),
    one(2, "operator", Str),
    many(3, "values", Str),
];
const SELECTOR: &[Field] = &[
    one(1, "matchLabels", Labels),
    many(2, "matchExpressions", Msg(REQUIREMENT)),
];
const CONTAINER_PORT: &[Field] = &[
    one(1, "name", Str),
    one(2, "hostPort", Int),
    one(3, "containerPort", Int),
    one(4, "protocol", Str),
    one(5, "hostIP", Str),
];
const ENV_VAR: &[Field] = &[one(1, "name", Str), one(2, "value", Str)];
const RESOURCES: &[Field] = &[one(1, "limits", Quantities), one(2, "requests", Quantities)];
const CONTAINER: &[Field] = &[
    one(1, "name", Str),
    one(2, "image", Str),
    many(3, "command", Str),
    many(4, "args", Str),
    one(5, "workingDir", Str),
    many(6, "ports", Msg(CONTAINER_PORT)),
    many(7, "env", Msg(ENV_VAR)),
    one(8, "resources", Msg(RESOURCES)),
    one(14, "imagePullPolicy", Str),
    one(16, "stdin", Bool),
    one(18, "tty", Bool),
];
const POD_SPEC: &[Field] = &[
    many(2, "containers", Msg(CONTAINER)),
    one(3, "restartPolicy", Str),
    one(4, "terminationGracePeriodSeconds", Num),
    one(6, "dnsPolicy", Str),
    one(7, "nodeSelector", Labels),
    one(8, "serviceAccountName", Str),
    many(20, "initContainers", Msg(CONTAINER)),
];
const POD_TEMPLATE: &[Field] = &[one(1, "metadata", Meta), one(2, "spec", Msg(POD_SPEC))];
const STRATEGY: &[Field] = &[one(1, "type", Str)];
const DEPLOYMENT_SPEC: &[Field] = &[
    one(1, "replicas", Num),
    one(2, "selector", Msg(SELECTOR)),
    one(3, "template", Msg(POD_TEMPLATE)),
    one(4, "strategy", Msg(STRATEGY)),
    one(5, "minReadySeconds", Int),
    one(6, "revisionHistoryLimit", Num),
    one(7, "paused", Bool),
    one(9, "progressDeadlineSeconds", Num),
];
const SERVICE_PORT: &[Field] = &[
    one(1, "name", Str),
    one(2, "protocol", Str),
    one(3, "port", Int),
    one(4, "targetPort", IntOrString),
    one(5, "nodePort", Int),
];
const SERVICE_SPEC: &[Field] = &[
    many(1, "ports", Msg(SERVICE_PORT)),
    one(2, "selector", Labels),
    one(3, "clusterIP", Str),
    one(4, "type", Str),
    many(5, "externalIPs", Str),
    one(7, "sessionAffinity", Str),
    one(10, "externalName", Str),
];
const POLICY_RULE: &[Field] = &[
    many(1, "verbs", Str),
    many(2, "apiGroups", Str),
    many(3, "resources", Str),
    many(4, "resourceNames", Str),
    many(5, "nonResourceURLs", Str),
];
const AGGREGATION: &[Field] = &[many(1, "clusterRoleSelectors", Msg(SELECTOR))];
const SUBJECT: &[Field] = &[
    one(1, "kind", Str),
    one(2, "apiGroup", Str),
    one(3, "name", Str),
    one(4, "namespace", Str),
];
const ROLE_REF: &[Field] = &[
    one(1, "apiGroup", Str),
    one(2, "kind", Str),
    one(3, "name", Str),
];

const JOB_SPEC: &[Field] = &[
    one(1, "parallelism", Num),
    one(2, "completions", Num),
    one(3, "activeDeadlineSeconds", Num),
    one(4, "selector", Msg(SELECTOR)),
    one(6, "template", Msg(POD_TEMPLATE)),
    one(7, "backoffLimit", Num),
    one(8, "ttlSecondsAfterFinished", Num),
    one(10, "suspend", Bool),
];
const JOB_TEMPLATE: &[Field] = &[one(1, "metadata", Meta), one(2, "spec", Msg(JOB_SPEC))];
const CRON_JOB_SPEC: &[Field] = &[
    one(1, "schedule", Str),
    one(2, "startingDeadlineSeconds", Num),
    one(3, "concurrencyPolicy", Str),
    one(4, "suspend", Bool),
    one(5, "jobTemplate", Msg(JOB_TEMPLATE)),
    one(6, "successfulJobsHistoryLimit", Num),
    one(7, "failedJobsHistoryLimit", Num),
    one(8, "timeZone", Str),
];
const QUOTA_SPEC: &[Field] = &[one(1, "hard", Quantities), many(2, "scopes", Str)];
const PDB_SPEC: &[Field] = &[
    one(1, "minAvailable", IntOrString),
    one(2, "selector", Msg(SELECTOR)),
    one(3, "maxUnavailable", IntOrString),
    one(4, "unhealthyPodEvictionPolicy", Str),
];
const BACKEND_PORT: &[Field] = &[one(1, "name", Str), one(2, "number", Int)];
const SERVICE_BACKEND: &[Field] = &[one(1, "name", Str), one(2, "port", Msg(BACKEND_PORT))];
const INGRESS_BACKEND: &[Field] = &[one(4, "service", Msg(SERVICE_BACKEND))];
const HTTP_PATH: &[Field] = &[
    one(1, "path", Str),
    one(2, "backend", Msg(INGRESS_BACKEND)),
    one(3, "pathType", Str),
];
const HTTP_RULE: &[Field] = &[many(1, "paths", Msg(HTTP_PATH))];
const RULE_VALUE: &[Field] = &[one(1, "http", Msg(HTTP_RULE))];
const INGRESS_RULE: &[Field] = &[
    one(1, "host", Str),
    one(2, "ingressRuleValue", Inline(RULE_VALUE)),
];
const INGRESS_TLS: &[Field] = &[many(1, "hosts", Str), one(2, "secretName", Str)];
const INGRESS_SPEC: &[Field] = &[
    one(1, "defaultBackend", Msg(INGRESS_BACKEND)),
    many(2, "tls", Msg(INGRESS_TLS)),
    many(3, "rules", Msg(INGRESS_RULE)),
    one(4, "ingressClassName", Str),
];

const JOB: &[Field] = &[one(1, "metadata", Meta), one(2, "spec", Msg(JOB_SPEC))];
const CRON_JOB: &[Field] = &[one(1, "metadata", Meta), one(2, "spec", Msg(CRON_JOB_SPEC))];
const QUOTA: &[Field] = &[one(1, "metadata", Meta), one(2, "spec", Msg(QUOTA_SPEC))];
const PRIORITY_CLASS: &[Field] = &[
    one(1, "metadata", Meta),
    one(2, "value", Num),
    one(3, "globalDefault", Bool),
    one(4, "description", Str),
    one(5, "preemptionPolicy", Str),
];
const PDB: &[Field] = &[one(1, "metadata", Meta), one(2, "spec", Msg(PDB_SPEC))];
const INGRESS: &[Field] = &[one(1, "metadata", Meta), one(2, "spec", Msg(INGRESS_SPEC))];
const DEPLOYMENT: &[Field] = &[
    one(1, "metadata", Meta),
    one(2, "spec", Msg(DEPLOYMENT_SPEC)),
];
const SERVICE: &[Field] = &[one(1, "metadata", Meta), one(2, "spec", Msg(SERVICE_SPEC))];
const ROLE: &[Field] = &[one(1, "metadata", Meta), many(2, "rules", Msg(POLICY_RULE))];
const CLUSTER_ROLE: &[Field] = &[
    one(1, "metadata", Meta),
    many(2, "rules", Msg(POLICY_RULE)),
    one(3, "aggregationRule", Msg(AGGREGATION)),
];
const BINDING: &[Field] = &[
    one(1, "metadata", Meta),
    many(2, "subjects", Msg(SUBJECT)),
    one(3, "roleRef", Msg(ROLE_REF)),
];

fn schema(api_version: &str, kind: &str) -> Option<&'static [Field]> {
    Some(match (api_version, kind) {
        ("apps/v1", "Deployment") => DEPLOYMENT,
        ("v1", "Service") => SERVICE,
        ("v1", "ResourceQuota") => QUOTA,
        ("batch/v1", "Job") => JOB,
        ("batch/v1", "CronJob") => CRON_JOB,
        ("scheduling.k8s.io/v1", "PriorityClass") => PRIORITY_CLASS,
        ("policy/v1", "PodDisruptionBudget") => PDB,
        ("networking.k8s.io/v1", "Ingress") => INGRESS,
        ("rbac.authorization.k8s.io/v1", "Role") => ROLE,
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => CLUSTER_ROLE,
        ("rbac.authorization.k8s.io/v1", "RoleBinding" | "ClusterRoleBinding") => BINDING,
        _ => return None,
    })
}

/// The object of a kind decoded here, or why not; `None` for kinds not decoded here.
pub fn decode(api_version: &str, kind: &str, raw: &[u8]) -> Option<Result<Value, String>> {
    let schema = schema(api_version, kind)?;
    Some(message(raw, schema).map(|mut object| {
        object.insert("apiVersion".into(), json!(api_version));
        object.insert("kind".into(), json!(kind));
        Value::Object(object)
    }))
}

fn message(bytes: &[u8], schema: &[Field]) -> Result<Map<String, Value>, String> {
    let malformed = || "malformed protobuf body".to_string();
    let mut object = Map::new();
    for (number, wire) in fields(bytes).ok_or_else(malformed)? {
        let Some(field) = schema.iter().find(|f| f.number == number) else {
            if holds_only_defaults(&wire) {
                continue;
            }
            return Err(format!("protobuf field {number} is not understood here"));
        };
        let value = value(field.kind, &wire)?;
        // Go's `omitempty`: singular empty strings, zeros and false are left out.
        let empty = matches!(&value, Value::String(t) if t.is_empty())
            || (matches!(field.kind, Int) && value == json!(0))
            || (matches!(field.kind, Bool) && value == json!(false));
        if empty && !field.repeated {
            continue;
        }
        if let (Inline(_), Value::Object(inner)) = (field.kind, &value) {
            object.extend(inner.clone());
            continue;
        }
        if field.repeated {
            let list = object.entry(field.name).or_insert_with(|| json!([]));
            if let Some(list) = list.as_array_mut() {
                list.push(value);
            }
        } else if let (
            Kind::Labels | Kind::Quantities,
            Some(Value::Object(map)),
            Value::Object(entry),
        ) = (field.kind, object.get_mut(field.name), &value)
        {
            map.extend(entry.clone());
        } else {
            object.insert(field.name.into(), value);
        }
    }
    Ok(object)
}

/// A field's JSON value.
fn value(kind: Kind, wire: &Wire<'_>) -> Result<Value, String> {
    let malformed = || "malformed protobuf body".to_string();
    Ok(match (kind, wire) {
        (Str, Wire::Bytes(b)) => json!(text(b).ok_or_else(malformed)?),
        (Int | Num, Wire::Varint(v)) => json!(*v as i64 as i32),
        (Bool, Wire::Varint(v)) => json!(*v != 0),
        (Meta, Wire::Bytes(b)) => {
            let mut meta = object_meta(b).ok_or_else(malformed)?;
            if let Some(map) = meta.as_object_mut() {
                map.retain(|_, v| v.as_str() != Some(""));
            }
            meta
        }
        (Msg(schema) | Inline(schema), Wire::Bytes(b)) => Value::Object(message(b, schema)?),
        (Labels, Wire::Bytes(b)) => {
            let entry = message(b, &[one(1, "key", Str), one(2, "value", Str)])?;
            let key = entry.get("key").and_then(Value::as_str).unwrap_or_default();
            let value = entry.get("value").cloned().unwrap_or(json!(""));
            json!({ key: value })
        }
        (Quantities, Wire::Bytes(b)) => {
            const QUANTITY: &[Field] = &[one(1, "string", Str)];
            let entry = message(b, &[one(1, "key", Str), one(2, "value", Msg(QUANTITY))])?;
            let key = entry.get("key").and_then(Value::as_str).unwrap_or_default();
            let quantity = entry.get("value").and_then(|q| q.get("string")).cloned();
            json!({ key: quantity.unwrap_or(json!("0")) })
        }
        (IntOrString, Wire::Bytes(b)) => {
            let schema = &[
                one(1, "type", Int),
                one(2, "intVal", Int),
                one(3, "strVal", Str),
            ];
            let parts = message(b, schema)?;
            match parts.get("type").and_then(Value::as_i64) {
                Some(1) => parts.get("strVal").cloned().unwrap_or(json!("")),
                _ => parts.get("intVal").cloned().unwrap_or(json!(0)),
            }
        }
        _ => return Err(malformed()),
    })
}

/// Whether a field the schema does not know carries nothing: zeros, empty strings, or
/// messages of those (kubectl sends its Go structs' zero values).
fn holds_only_defaults(wire: &Wire<'_>) -> bool {
    match wire {
        Wire::Varint(v) => *v == 0,
        Wire::Fixed => false,
        Wire::Bytes([]) => true,
        Wire::Bytes(b) => {
            fields(b).is_some_and(|inner| inner.iter().all(|(_, w)| holds_only_defaults(w)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The raw Role kubectl 1.32 sends for
    /// `kubectl create role r2 --verb=get,list --resource=pods,deployments.apps --resource-name=x`.
    #[test]
    fn decodes_kubectls_role() {
        let raw: &[u8] = &[
            0x0a, 0x12, 0x0a, 0x02, 0x72, 0x32, 0x12, 0x00, 0x1a, 0x00, 0x22, 0x00, 0x2a, 0x00,
            0x32, 0x00, 0x38, 0x00, 0x42, 0x00, 0x12, 0x16, 0x0a, 0x03, 0x67, 0x65, 0x74, 0x0a,
            0x04, 0x6c, 0x69, 0x73, 0x74, 0x12, 0x00, 0x1a, 0x04, 0x70, 0x6f, 0x64, 0x73, 0x22,
            0x01, 0x78, 0x12, 0x21, 0x0a, 0x03, 0x67, 0x65, 0x74, 0x0a, 0x04, 0x6c, 0x69, 0x73,
            0x74, 0x12, 0x04, 0x61, 0x70, 0x70, 0x73, 0x1a, 0x0b, 0x64, 0x65, 0x70, 0x6c, 0x6f,
            0x79, 0x6d, 0x65, 0x6e, 0x74, 0x73, 0x22, 0x01, 0x78,
        ];
        let role = decode("rbac.authorization.k8s.io/v1", "Role", raw)
            .unwrap()
            .unwrap();
        assert_eq!(role["metadata"]["name"], "r2");
        assert_eq!(
            role["rules"],
            json!([
                {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["x"]},
                {"verbs": ["get", "list"], "apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["x"]},
            ])
        );
    }

    #[test]
    fn unknown_fields_with_content_are_refused() {
        // A Role whose field 9 carries a string.
        let raw: &[u8] = &[0x4a, 0x01, 0x78];
        assert!(
            decode("rbac.authorization.k8s.io/v1", "Role", raw)
                .unwrap()
                .is_err()
        );
        let zeros: &[u8] = &[0x4a, 0x00, 0x50, 0x00, 0x5a, 0x02, 0x08, 0x00];
        assert!(
            decode("rbac.authorization.k8s.io/v1", "Role", zeros)
                .unwrap()
                .is_ok()
        );
    }
}
