//! Fuzzing kopf's diffs and essences with seeded random objects: no panic, and the
//! properties kopf relies on — an object does not differ from itself, a diff reduced to a
//! field is a part of the whole diff, an essence has no kopf-managed annotations and does
//! not depend on the status. `KOPF_FUZZ_ITERATIONS` (default 3000) for longer runs.

use kopf_core::structs::diff::diff;
use kopf_core::structs::essence::{essence, is_kopf_managed_annotation};
use kopf_test_support::fuzz::{iterations, random_key, random_string, random_value};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

#[test]
fn diffs_of_random_objects_hold_their_properties() {
    let mut rng = StdRng::seed_from_u64(0x64696666);
    for _ in 0..iterations(3000) {
        let old = random_value(&mut rng, 3);
        let new = random_value(&mut rng, 3);
        assert!(
            diff(Some(&old), Some(&old)).is_empty(),
            "{old} differs from itself"
        );
        let whole = diff(Some(&old), Some(&new));
        let field: Vec<String> = (0..rng.random_range(0..3))
            .map(|_| random_key(&mut rng))
            .collect();
        let part = whole.reduce(&field);
        if whole.is_empty() {
            assert!(part.is_empty(), "{old} vs {new} at {field:?}");
        }
        let _ = diff(None, Some(&new));
        let _ = diff(Some(&old), None);
    }
}

#[test]
fn essences_of_random_bodies_hold_their_properties() {
    let mut rng = StdRng::seed_from_u64(0x65737365);
    for _ in 0..iterations(3000) {
        let mut body = random_value(&mut rng, 3);
        if let Some(map) = body.as_object_mut() {
            let mut annotations = serde_json::Map::new();
            for _ in 0..rng.random_range(0..3) {
                annotations.insert(
                    format!("kopf.zalando.org/{}", random_string(&mut rng)),
                    json!("x"),
                );
                annotations.insert(random_string(&mut rng), json!(random_string(&mut rng)));
            }
            map.insert("metadata".into(), json!({"annotations": annotations}));
        }
        let extra: Vec<Vec<String>> = (0..rng.random_range(0..2))
            .map(|_| vec![random_key(&mut rng), random_key(&mut rng)])
            .filter(|field| field[0] != "status")
            .collect();
        let first = essence(&body, &extra);
        let kept = first
            .pointer("/metadata/annotations")
            .and_then(|a| a.as_object())
            .cloned()
            .unwrap_or_default();
        assert!(
            kept.keys().all(|k| !is_kopf_managed_annotation(k)),
            "{first}"
        );
        if let Some(map) = body.as_object_mut() {
            map.insert("status".into(), random_value(&mut rng, 2));
        }
        assert_eq!(
            essence(&body, &extra),
            first,
            "the status changed the essence of {body}"
        );
    }
}
