//! The protobuf wire format as Kubernetes uses it: fields of a message, strings, string maps
//! and `ObjectMeta`, shared by the decoders of kubectl's protobuf bodies.

use base64::Engine;
use serde_json::{Map, Value, json};

/// One field of a protobuf message.
pub(crate) enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

pub(crate) fn varint(data: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *data.get(*pos)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The fields of a message, in order; `None` if malformed.
pub(crate) fn fields(data: &[u8]) -> Option<Vec<(u64, Wire<'_>)>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let key = varint(data, &mut pos)?;
        let wire = match key & 7 {
            0 => Wire::Varint(varint(data, &mut pos)?),
            1 => {
                pos = pos.checked_add(8).filter(|p| *p <= data.len())?;
                Wire::Fixed
            }
            2 => {
                let len = usize::try_from(varint(data, &mut pos)?).ok()?;
                let end = pos.checked_add(len).filter(|e| *e <= data.len())?;
                let bytes = &data[pos..end];
                pos = end;
                Wire::Bytes(bytes)
            }
            5 => {
                pos = pos.checked_add(4).filter(|p| *p <= data.len())?;
                Wire::Fixed
            }
            _ => return None,
        };
        out.push((key >> 3, wire));
    }
    Some(out)
}

pub(crate) fn text(bytes: &[u8]) -> Option<String> {
    String::from_utf8(bytes.to_vec()).ok()
}

/// A `map<string, string>` (or bytes, base64-encoded) entry.
pub(crate) fn map_entry(bytes: &[u8], binary: bool) -> Option<(String, Value)> {
    let mut key = String::new();
    let mut value = Value::String(String::new());
    for (field, wire) in fields(bytes)? {
        match (field, wire) {
            (1, Wire::Bytes(b)) => key = text(b)?,
            (2, Wire::Bytes(b)) if binary => {
                value = json!(base64::engine::general_purpose::STANDARD.encode(b))
            }
            (2, Wire::Bytes(b)) => value = json!(text(b)?),
            _ => {}
        }
    }
    Some((key, value))
}

pub(crate) fn insert_entry(
    object: &mut Map<String, Value>,
    field: &str,
    bytes: &[u8],
    binary: bool,
) -> Option<()> {
    let (key, value) = map_entry(bytes, binary)?;
    let map = object.entry(field).or_insert_with(|| json!({}));
    if let Some(map) = map.as_object_mut() {
        map.insert(key, value);
    }
    Some(())
}

pub(crate) fn owner_reference(bytes: &[u8]) -> Option<Value> {
    let mut out = Map::new();
    for (field, wire) in fields(bytes)? {
        match (field, wire) {
            (1, Wire::Bytes(b)) => drop(out.insert("kind".into(), json!(text(b)?))),
            (3, Wire::Bytes(b)) => drop(out.insert("name".into(), json!(text(b)?))),
            (4, Wire::Bytes(b)) => drop(out.insert("uid".into(), json!(text(b)?))),
            (5, Wire::Bytes(b)) => drop(out.insert("apiVersion".into(), json!(text(b)?))),
            (6, Wire::Varint(v)) => drop(out.insert("controller".into(), json!(v != 0))),
            (7, Wire::Varint(v)) => drop(out.insert("blockOwnerDeletion".into(), json!(v != 0))),
            _ => {}
        }
    }
    Some(Value::Object(out))
}

pub(crate) fn object_meta(bytes: &[u8]) -> Option<Value> {
    let mut meta = Map::new();
    for (field, wire) in fields(bytes)? {
        match (field, wire) {
            (1, Wire::Bytes(b)) => drop(meta.insert("name".into(), json!(text(b)?))),
            (2, Wire::Bytes(b)) => drop(meta.insert("generateName".into(), json!(text(b)?))),
            (3, Wire::Bytes(b)) => drop(meta.insert("namespace".into(), json!(text(b)?))),
            (6, Wire::Bytes(b)) => drop(meta.insert("resourceVersion".into(), json!(text(b)?))),
            (11, Wire::Bytes(b)) => insert_entry(&mut meta, "labels", b, false)?,
            (12, Wire::Bytes(b)) => insert_entry(&mut meta, "annotations", b, false)?,
            (13, Wire::Bytes(b)) => {
                let reference = owner_reference(b)?;
                let list = meta.entry("ownerReferences").or_insert_with(|| json!([]));
                if let Some(list) = list.as_array_mut() {
                    list.push(reference);
                }
            }
            (14, Wire::Bytes(b)) => {
                let finalizer = json!(text(b)?);
                let list = meta.entry("finalizers").or_insert_with(|| json!([]));
                if let Some(list) = list.as_array_mut() {
                    list.push(finalizer);
                }
            }
            _ => {}
        }
    }
    Some(Value::Object(meta))
}
