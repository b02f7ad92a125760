//! Seeded random inputs for the fuzz tests: JSON values and strings shaped like what
//! Kubernetes objects, pointers and selectors contain, with the odd characters that break
//! parsers. Reproducible: the caller seeds the generator.

use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Map, Value, json};

/// The iteration count of a fuzz test: `KOPF_FUZZ_ITERATIONS`, else `default`.
pub fn iterations(default: usize) -> usize {
    std::env::var("KOPF_FUZZ_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// Keys that matter to Kubernetes objects and JSON pointers, and some that confuse them.
const KEYS: [&str; 12] = [
    "a",
    "b",
    "spec",
    "status",
    "metadata",
    "items",
    "name",
    "0",
    "-",
    "~1x",
    "",
    "containers",
];

pub fn random_key(rng: &mut StdRng) -> String {
    if rng.random_bool(0.9) {
        KEYS[rng.random_range(0..KEYS.len())].to_string()
    } else {
        random_string(rng)
    }
}

pub fn random_string(rng: &mut StdRng) -> String {
    let len = rng.random_range(0..12);
    (0..len)
        .map(|_| match rng.random_range(0..6) {
            0 => '/',
            1 => '~',
            2 => char::from(rng.random_range(b'a'..=b'z')),
            3 => char::from(rng.random_range(b'0'..=b'9')),
            4 => ['=', '!', ',', '(', ')', ' ', '.', '-', '\u{e9}', '\0'][rng.random_range(0..10)],
            _ => 'x',
        })
        .collect()
}

pub fn random_value(rng: &mut StdRng, depth: u32) -> Value {
    let kind = if depth == 0 {
        rng.random_range(0..4)
    } else {
        rng.random_range(0..6)
    };
    match kind {
        0 => Value::Null,
        1 => Value::Bool(rng.random()),
        2 => json!(rng.random_range(-5i64..1_000_000)),
        3 => Value::String(random_string(rng)),
        4 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| random_value(rng, depth - 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.random_range(0..5))
                .map(|_| (random_key(rng), random_value(rng, depth - 1)))
                .collect::<Map<_, _>>(),
        ),
    }
}
