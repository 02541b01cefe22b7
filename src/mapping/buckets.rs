//! The objects of an event as the mapping fills them: keys borrowed where they can be, values
//! placed, merged or re-nested from dotted paths, the span's logs kept aside until written, and
//! the conversion of a field's value to JSON.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::dialects::Placement;
use crate::recorded::{Bucket, FieldValue, Fields, Log, Name};
use crate::wire::JsonObject;

/// A key of an event's object: a field's own name or one of the mapping's, borrowed when it can
/// be (a callsite's field names are `'static`), so that placing a value allocates no key.
pub(crate) type Key = Cow<'static, str>;

/// One of an event's objects as the mapping fills it, ordered by key as `serde_json`'s own map
/// is, so that it is written byte for byte as the same [`JsonObject`] would be.
pub(crate) type Object = BTreeMap<Key, Value>;

/// The seven object fields of an event, being filled, and the span's events, which go to
/// `metadata.logs` as they were recorded (written straight from them, or made JSON values only
/// when a whole event is wanted: [`Mapped::into_event`]). While there are logs, the metadata
/// object holds no `logs` key: whichever was placed last wins, as in a map.
#[derive(Debug, Default)]
pub(crate) struct Buckets {
    pub(super) objects: [Object; 7],
    pub(super) logs: Vec<Log>,
}

impl Buckets {
    pub(super) fn get_mut(&mut self, bucket: Bucket) -> &mut Object {
        &mut self.objects[bucket as usize]
    }

    /// A value placed at `key` of `bucket` replaces the span's logs when it is `metadata.logs`.
    pub(super) fn claim(&mut self, bucket: Bucket, key: &str) {
        if bucket == Bucket::Metadata && key == LOGS {
            self.logs.clear();
        }
    }

    /// `value` under `key`, or merged into the bucket for an empty key (a bare `inputs` field).
    pub(super) fn put(&mut self, bucket: Bucket, key: Key, value: Value) {
        if key.is_empty() {
            self.merge(bucket, value);
        } else {
            self.claim(bucket, &key);
            self.get_mut(bucket).insert(key, value);
        }
    }

    /// An object's keys merged in, a later key winning; any other value under `"value"`.
    pub(super) fn merge(&mut self, bucket: Bucket, value: Value) {
        match value {
            Value::Object(map) => {
                if map.contains_key(LOGS) {
                    self.claim(bucket, LOGS);
                }
                self.get_mut(bucket)
                    .extend(map.into_iter().map(|(k, v)| (Key::Owned(k), v)));
            }
            other => {
                self.get_mut(bucket).insert(Key::Borrowed("value"), other);
            }
        }
    }

    /// `value` at the dotted path `key` of the bucket, objects created on the way (a value in the
    /// way is replaced): HoneyHive's SDKs flatten nested values into such paths.
    pub(super) fn put_nested(&mut self, bucket: Bucket, key: &str, value: Value) {
        let mut segments = key.split('.');
        let (Some(top), Some(last)) = (segments.next(), segments.next_back()) else {
            // No dot: a plain key.
            self.claim(bucket, key);
            self.get_mut(bucket)
                .insert(Key::Owned(key.to_owned()), value);
            return;
        };
        self.claim(bucket, top);
        let slot = self
            .get_mut(bucket)
            .entry(Key::Owned(top.to_owned()))
            .or_insert(Value::Null);
        let mut node = object_in(slot);
        for segment in segments {
            node = object_in(
                node.entry(segment.to_owned())
                    .or_insert_with(|| Value::Object(JsonObject::new())),
            );
        }
        node.insert(last.to_owned(), value);
    }

    /// A dialect's placements: an empty path merges into the bucket, a dotted one is re-nested
    /// (its top-level key noted in `renested`, for [`arrays`](Self::arrays)).
    pub(crate) fn apply(
        &mut self,
        placements: Vec<Placement>,
        renested: &mut Vec<(Bucket, String)>,
    ) {
        for Placement {
            bucket,
            path,
            value,
        } in placements
        {
            if path.is_empty() {
                self.merge(bucket, value);
            } else {
                let top = path.split('.').next().unwrap_or(&path).to_owned();
                self.put_nested(bucket, &path, value);
                renested.push((bucket, top));
            }
        }
    }

    /// Objects keyed exactly `0..n` below the re-nested keys become arrays.
    pub(crate) fn arrays(&mut self, renested: Vec<(Bucket, String)>) {
        for (bucket, top) in renested {
            if let Some(value) = self.get_mut(bucket).get_mut(top.as_str()) {
                numbered_to_arrays(value);
            }
        }
    }

    /// The bucket's object, or `None` when empty (absent fields are omitted on the wire), as a
    /// [`JsonObject`]: for the session's bodies, and for tests.
    pub(crate) fn take(&mut self, bucket: Bucket) -> Option<JsonObject> {
        let object = std::mem::take(self.get_mut(bucket));
        let map = json_object(object, logs_of(bucket, &mut self.logs));
        (!map.is_empty()).then_some(map)
    }

    /// The bucket's object as [`take`](Self::take) gives it, left in place.
    pub(super) fn cloned(&self, bucket: Bucket) -> Option<JsonObject> {
        let object = self.objects[bucket as usize].clone();
        let map = json_object(object, logs_of(bucket, &mut self.logs.clone()));
        (!map.is_empty()).then_some(map)
    }
}

/// The span's events, taken from `logs`, when `bucket` is the one they go to (`metadata`).
pub(super) fn logs_of(bucket: Bucket, logs: &mut Vec<Log>) -> Vec<Log> {
    if bucket == Bucket::Metadata {
        std::mem::take(logs)
    } else {
        Vec::new()
    }
}

/// The key of the span's events in `metadata`.
pub(super) const LOGS: &str = "logs";

/// The object `slot` holds, made one first when it holds something else.
pub(super) fn object_in(slot: &mut Value) -> &mut JsonObject {
    if !slot.is_object() {
        *slot = Value::Object(JsonObject::new());
    }
    match slot {
        Value::Object(map) => map,
        _ => unreachable!("made an object above"),
    }
}

/// An [`Object`] as a [`JsonObject`], its keys owned, with `logs` (when there are some) under
/// `"logs"`. Keys go in in key order, so that the map iterates in the order
/// [`Mapped::write`] writes, whether `serde_json` keeps its maps sorted or in insertion order
/// (its `preserve_order` feature, which any crate in a build may turn on).
pub(crate) fn json_object(object: Object, logs: Vec<Log>) -> JsonObject {
    let mut logs = (!logs.is_empty()).then_some(logs);
    let mut map = JsonObject::new();
    for (key, value) in object {
        if key.as_ref() > LOGS
            && let Some(logs) = logs.take()
        {
            map.insert(LOGS.into(), logs_value(logs));
        }
        map.insert(key.into_owned(), value);
    }
    if let Some(logs) = logs {
        map.insert(LOGS.into(), logs_value(logs));
    }
    map
}

/// The span's events as `metadata.logs` holds them: `{fields, level, message, target, time}`,
/// each object's keys in key order as [`json_object`]'s.
pub(super) fn logs_value(logs: Vec<Log>) -> Value {
    let logs = logs
        .into_iter()
        .map(|log| {
            let order = in_key_order(&log.fields);
            let mut slots: Vec<Option<(Name, FieldValue)>> =
                log.fields.0.into_iter().map(Some).collect();
            let mut fields = Map::new();
            for index in order {
                if let Some((name, value)) = slots[index].take() {
                    fields.insert(name.into_owned(), to_json(value));
                }
            }
            // Built directly: `json!` would serialise `fields` again into a copy.
            let mut entry = Map::new();
            entry.insert("fields".into(), Value::Object(fields));
            entry.insert("level".into(), log.level.as_str().into());
            entry.insert("message".into(), log.message.into());
            entry.insert("target".into(), log.target.into_owned().into());
            entry.insert("time".into(), log.time_ms.into());
            Value::Object(entry)
        })
        .collect();
    Value::Array(logs)
}

/// The indices of an event's fields in name order, a name recorded twice keeping its later
/// value, as a map would hold them.
pub(crate) fn in_key_order(fields: &Fields) -> Vec<usize> {
    let mut order: Vec<usize> = (0..fields.0.len()).collect();
    // Stable: of equal names, the later stays last.
    order.sort_by(|&a, &b| fields.0[a].0.cmp(&fields.0[b].0));
    let mut kept: Vec<usize> = Vec::with_capacity(order.len());
    for index in order {
        match kept.last_mut() {
            Some(last) if fields.0[*last].0 == fields.0[index].0 => *last = index,
            _ => kept.push(index),
        }
    }
    kept
}

/// `key`, a suffix of the field name `name`, borrowed from it when the name is borrowed.
pub(super) fn suffix(name: &Key, key: &str) -> Key {
    match name {
        Cow::Borrowed(name) => Cow::Borrowed(&name[name.len() - key.len()..]),
        Cow::Owned(_) => Cow::Owned(key.to_owned()),
    }
}

/// A field value as JSON, its text moved rather than copied. Non-finite floats, which JSON
/// cannot hold, become the strings `"NaN"`, `"inf"` and `"-inf"`.
pub(super) fn to_json(value: FieldValue) -> Value {
    match value {
        FieldValue::Bool(b) => Value::Bool(b),
        FieldValue::I64(n) => Value::from(n),
        FieldValue::U64(n) => Value::from(n),
        FieldValue::F64(n) => float(n),
        FieldValue::Str(s) => Value::String(s),
        FieldValue::List(items) => Value::Array(items.into_iter().map(to_json).collect()),
    }
}

pub(super) fn float(n: f64) -> Value {
    match serde_json::Number::from_f64(n) {
        Some(number) => Value::Number(number),
        None if n.is_nan() => Value::from("NaN"),
        None if n > 0.0 => Value::from("inf"),
        None => Value::from("-inf"),
    }
}

/// Objects whose keys are exactly `0`, `1`, … `n-1` become arrays in that order, at every level
/// of a value re-nested from dotted paths (`chat_history.0.role`).
pub(super) fn numbered_to_arrays(value: &mut Value) {
    let Value::Object(map) = value else {
        return;
    };
    map.values_mut().for_each(numbered_to_arrays);
    let numbered =
        !map.is_empty() && (0..map.len()).all(|i| map.contains_key(i.to_string().as_str()));
    if numbered {
        let mut map = std::mem::take(map);
        let items = (0..map.len())
            .map(|i| map.remove(i.to_string().as_str()).unwrap_or(Value::Null))
            .collect();
        *value = Value::Array(items);
    }
}
