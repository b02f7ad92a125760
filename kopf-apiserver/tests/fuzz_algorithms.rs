//! Fuzzing the API server's pure algorithms with seeded random input: JSON patches, merge
//! and strategic merge patches, server-side apply, schemas, selectors and names must answer
//! every input with a value or an error, never a panic. Reproducible (a fixed seed per run
//! of `KOPF_FUZZ_ITERATIONS`, default 3000); a failure prints the input.

use kopf_apiserver::algo::apply::{ApplyRequest, server_side_apply, track_update};
use kopf_apiserver::algo::field_set;
use kopf_apiserver::algo::list_types::ListTypes;
use kopf_apiserver::algo::selectors::{FieldSelector, LabelSelector};
use kopf_apiserver::algo::{json_patch, merge_patch, names, schema, strategic, validation};
use kopf_test_support::fuzz::{random_key, random_string, random_value};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use std::panic::{AssertUnwindSafe, catch_unwind};

fn iterations() -> usize {
    kopf_test_support::fuzz::iterations(3000)
}

fn random_pointer(rng: &mut StdRng) -> String {
    (0..rng.random_range(0..4))
        .map(|_| format!("/{}", random_key(rng)))
        .collect()
}

fn random_json_patch(rng: &mut StdRng) -> Value {
    const OPS: [&str; 8] = [
        "add", "remove", "replace", "move", "copy", "test", "bogus", "",
    ];
    let ops: Vec<Value> = (0..rng.random_range(0..5))
        .map(|_| {
            let mut op = Map::new();
            op.insert("op".into(), json!(OPS[rng.random_range(0..OPS.len())]));
            if rng.random_bool(0.9) {
                op.insert("path".into(), json!(random_pointer(rng)));
            }
            if rng.random_bool(0.5) {
                op.insert("from".into(), json!(random_pointer(rng)));
            }
            if rng.random_bool(0.7) {
                op.insert("value".into(), random_value(rng, 2));
            }
            Value::Object(op)
        })
        .collect();
    if rng.random_bool(0.05) {
        random_value(rng, 2) // Not even a list.
    } else {
        Value::Array(ops)
    }
}

fn random_schema(rng: &mut StdRng, depth: u32) -> Value {
    const TYPES: [&str; 7] = [
        "object", "array", "string", "integer", "number", "boolean", "weird",
    ];
    let mut schema = Map::new();
    schema.insert(
        "type".into(),
        json!(TYPES[rng.random_range(0..TYPES.len())]),
    );
    if depth > 0 && rng.random_bool(0.6) {
        let properties: Map<String, Value> = (0..rng.random_range(0..4))
            .map(|_| (random_key(rng), random_schema(rng, depth - 1)))
            .collect();
        schema.insert("properties".into(), Value::Object(properties));
    }
    if depth > 0 && rng.random_bool(0.3) {
        schema.insert("items".into(), random_schema(rng, depth - 1));
    }
    for (key, chance) in [
        ("x-kubernetes-preserve-unknown-fields", 0.2),
        ("x-kubernetes-int-or-string", 0.1),
        ("nullable", 0.2),
    ] {
        if rng.random_bool(chance) {
            schema.insert(key.into(), json!(rng.random::<bool>()));
        }
    }
    for key in [
        "default",
        "enum",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "multipleOf",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "maxProperties",
        "required",
        "format",
    ] {
        if rng.random_bool(0.1) {
            schema.insert(key.into(), random_value(rng, 1));
        }
    }
    Value::Object(schema)
}

/// Runs `check` on input `i`; a panic fails the test with the input that caused it.
fn no_panic(what: &str, input: &dyn std::fmt::Debug, check: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(check)).is_err() {
        panic!("{what} panicked on: {input:?}");
    }
}

#[test]
fn patches_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x6b6f7066);
    for _ in 0..iterations() {
        let target = random_value(&mut rng, 3);
        let ops = random_json_patch(&mut rng);
        no_panic("json_patch::apply", &(&target, &ops), || {
            let _ = json_patch::apply(&target, &ops);
        });
        let patch = random_value(&mut rng, 3);
        no_panic("merge_patch::apply", &(&target, &patch), || {
            merge_patch::apply(&mut target.clone(), &patch);
        });
        let kind = ["Pod", "Deployment", "ConfigMap", "Unknown"][rng.random_range(0..4)];
        no_panic("strategic::apply", &(&target, &patch, kind), || {
            let _ = strategic::apply(&mut target.clone(), &patch, kind);
        });
    }
}

#[test]
fn server_side_apply_never_panics() {
    let mut rng = StdRng::seed_from_u64(0x61707079);
    for _ in 0..iterations() {
        let live = rng.random_bool(0.7).then(|| random_value(&mut rng, 3));
        let applied = random_value(&mut rng, 3);
        let manager = ["kubectl", "m2", "", "x/y"][rng.random_range(0..4)];
        let force = rng.random();
        let schema = random_schema(&mut rng, 3);
        let lists = if rng.random() {
            ListTypes::BuiltIn
        } else {
            ListTypes::Schema(Some(&schema))
        };
        no_panic(
            "server_side_apply",
            &(&live, &applied, manager, force, &schema),
            || {
                let request = ApplyRequest {
                    live: live.as_ref(),
                    applied: &applied,
                    manager,
                    force,
                    api_version: "v1",
                    now: "2026-11-29T00:00:00Z",
                    lists,
                };
                let _ = server_side_apply(&request);
                let mut new = applied.clone();
                track_update(
                    live.as_ref(),
                    &mut new,
                    manager,
                    "v1",
                    "2026-11-29T00:00:00Z",
                    lists,
                );
            },
        );
    }
}

/// A pod spec's containers: keyed by name (from a few, sometimes missing), with random images and ports.
fn random_containers(rng: &mut StdRng) -> Value {
    let containers: Vec<Value> = (0..rng.random_range(0..4))
        .map(|_| {
            let mut container = Map::new();
            if rng.random_bool(0.9) {
                container.insert(
                    "name".into(),
                    json!(["a", "b", "c"][rng.random_range(0..3)]),
                );
            }
            if rng.random() {
                container.insert(
                    "image".into(),
                    json!(["x:1", "x:2"][rng.random_range(0..2)]),
                );
            }
            if rng.random() {
                let ports: Vec<Value> = (0..rng.random_range(0..3))
                    .map(|_| json!({"containerPort": rng.random_range(80..83), "protocol": "TCP"}))
                    .collect();
                container.insert("ports".into(), json!(ports));
            }
            Value::Object(container)
        })
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "finalizers": ["f"]},
           "spec": {"containers": containers}})
}

/// Managers applying and updating keyed lists in turn: an apply that succeeds leaves every
/// field it applied with the applied value, and its entry lists exactly those fields.
#[test]
fn server_side_apply_of_keyed_lists_keeps_what_was_applied() {
    let mut rng = StdRng::seed_from_u64(0x6b657973);
    for _ in 0..iterations() / 10 {
        let mut live: Option<Value> = None;
        for step in 0..6 {
            let applied = random_containers(&mut rng);
            let manager = ["a", "b", "c"][rng.random_range(0..3)];
            let force = rng.random_bool(0.3);
            let update = rng.random_bool(0.3);
            let input = (&live, &applied, manager, force, update, step);
            let mut next = None;
            no_panic("keyed lists", &input, || {
                if update {
                    let mut new = applied.clone();
                    track_update(
                        live.as_ref(),
                        &mut new,
                        manager,
                        "v1",
                        "t",
                        ListTypes::BuiltIn,
                    );
                    next = Some(new);
                    return;
                }
                let request = ApplyRequest {
                    live: live.as_ref(),
                    applied: &applied,
                    manager,
                    force,
                    api_version: "v1",
                    now: "t",
                    lists: ListTypes::BuiltIn,
                };
                let Ok(result) = server_side_apply(&request) else {
                    assert!(!force, "a forced apply never conflicts");
                    return;
                };
                let paths = field_set::paths_of(&applied, ListTypes::BuiltIn);
                for path in &paths {
                    let (got, want) = (
                        field_set::get(&result, path),
                        field_set::get(&applied, path),
                    );
                    // An item's own value is its fields (checked one by one); an empty keyed
                    // list applied adds nothing to the others' items.
                    let merged =
                        |v: &Value| v.is_object() || v.as_array().is_some_and(Vec::is_empty);
                    if !want.is_some_and(merged) {
                        assert_eq!(
                            got, want,
                            "{path:?} after applying {applied} onto {live:?}: {result}"
                        );
                    }
                }
                next = Some(result);
            });
            if next.is_some() {
                live = next;
            }
        }
    }
}

#[test]
fn schemas_selectors_and_names_never_panic() {
    let mut rng = StdRng::seed_from_u64(0x73636865);
    for _ in 0..iterations() {
        let object = random_value(&mut rng, 3);
        let schema_value = random_schema(&mut rng, 3);
        no_panic("schema", &(&object, &schema_value), || {
            let errors = validation::validate(&object, &schema_value);
            let _ = validation::ratchet(errors, &schema_value, &object);
            let _ = schema::unknown_fields(&object, &schema_value);
            let mut pruned = object.clone();
            schema::prune(&mut pruned, &schema_value);
            schema::apply_defaults(&mut pruned, &schema_value);
        });
        let text = random_string(&mut rng);
        no_panic("selectors and names", &text, || {
            if let Ok(selector) = LabelSelector::parse(&text) {
                let _ = selector.matches(object.as_object());
            }
            let _ = FieldSelector::parse(&text);
            let _ = names::validate_name(&text);
            let _ = names::validate_metadata(&object, rng.random());
        });
    }
}
