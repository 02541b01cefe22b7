//! An event as the mapping made it, on its way to the request buffer: its fixed fields as the
//! wire's [`Event`], its objects in the mapping's own form (keys borrowed, the span's events as
//! recorded), written straight from that form. Building `serde_json` maps for every event, to
//! write them and free them at once, was a third of the exporter's work; the wire's [`Event`]
//! is made only when something needs one (the redaction hook, an event over the size limit).

use super::{Bucket, LOGS, Log, Object, float, in_key_order, json_object, logs_of};
use crate::recorded::FieldValue;
use crate::wire::json::{self, Objects};
use crate::wire::{Event, JsonObject};

/// One event, mapped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mapped {
    /// The fixed fields. Its objects are empty while [`objects`](Self::objects) holds them, and
    /// hold them once it does not (an event given back by the redaction hook).
    pub(crate) head: Event,
    /// The objects, by [`Bucket`]; an empty one is absent.
    objects: [Object; 7],
    /// The span's events, `metadata.logs` (the metadata object then has no `logs` key).
    logs: Vec<Log>,
}

impl Mapped {
    pub(super) fn new(head: Event, objects: [Object; 7], logs: Vec<Log>) -> Self {
        Mapped {
            head,
            objects,
            logs,
        }
    }

    /// The whole event as the wire's type.
    pub(crate) fn into_event(self) -> Event {
        let Mapped {
            mut head,
            objects,
            mut logs,
        } = self;
        for (bucket, object) in Bucket::ALL.into_iter().zip(objects) {
            let map = json_object(object, logs_of(bucket, &mut logs));
            if map.is_empty() {
                continue;
            }
            match slot(&mut head, bucket) {
                Slot::Inputs(inputs) => inputs.extend(map),
                Slot::Other(other) => other.get_or_insert_with(JsonObject::new).extend(map),
            }
        }
        head
    }

    /// Appends the event to `out` as JSON: byte for byte what `serde_json` writes for
    /// [`into_event`](Self::into_event)'s result.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        json::write_event_with(&self.head, self, out);
    }

    fn own(&self, bucket: Bucket) -> bool {
        !self.objects[bucket as usize].is_empty()
            || (bucket == Bucket::Metadata && !self.logs.is_empty())
    }
}

impl From<Event> for Mapped {
    /// An event whose objects are all in the event itself.
    fn from(head: Event) -> Self {
        Mapped {
            head,
            objects: Default::default(),
            logs: Vec::new(),
        }
    }
}

impl Objects for Mapped {
    fn has(&self, bucket: Bucket) -> bool {
        self.own(bucket) || self.head.has(bucket)
    }

    fn write(&self, bucket: Bucket, out: &mut Vec<u8>) {
        if !self.own(bucket) {
            return self.head.write(bucket, out);
        }
        let logs = if bucket == Bucket::Metadata {
            self.logs.as_slice()
        } else {
            &[]
        };
        object(&self.objects[bucket as usize], logs, out);
    }
}

/// Where an event holds one of its objects.
enum Slot<'a> {
    Inputs(&'a mut JsonObject),
    Other(&'a mut Option<JsonObject>),
}

fn slot(event: &mut Event, bucket: Bucket) -> Slot<'_> {
    match bucket {
        Bucket::Inputs => Slot::Inputs(&mut event.inputs),
        Bucket::Outputs => Slot::Other(&mut event.outputs),
        Bucket::Config => Slot::Other(&mut event.config),
        Bucket::Metadata => Slot::Other(&mut event.metadata),
        Bucket::Metrics => Slot::Other(&mut event.metrics),
        Bucket::Feedback => Slot::Other(&mut event.feedback),
        Bucket::UserProperties => Slot::Other(&mut event.user_properties),
    }
}

/// An object, with `logs` (when there are some) under `"logs"` in key order.
fn object(object: &Object, logs: &[Log], out: &mut Vec<u8>) {
    let mut logs = (!logs.is_empty()).then_some(logs);
    let mut first = true;
    let mut comma = |out: &mut Vec<u8>| {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
    };
    out.push(b'{');
    for (key, value) in object {
        if key.as_ref() > LOGS
            && let Some(logs) = logs.take()
        {
            comma(out);
            write_logs(logs, out);
        }
        comma(out);
        json::string(key, out);
        out.push(b':');
        json::value(value, out);
    }
    if let Some(logs) = logs {
        comma(out);
        write_logs(logs, out);
    }
    out.push(b'}');
}

/// `"logs":[…]`, each entry as `logs_value` makes it: its keys in order.
fn write_logs(logs: &[Log], out: &mut Vec<u8>) {
    out.extend_from_slice(b"\"logs\":[");
    for (i, log) in logs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"fields\":{");
        for (i, index) in in_key_order(&log.fields).into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let (name, value) = &log.fields.0[index];
            json::string(name, out);
            out.push(b':');
            field(value, out);
        }
        out.extend_from_slice(b"},\"level\":");
        json::string(log.level.as_str(), out);
        out.extend_from_slice(b",\"message\":");
        json::string(&log.message, out);
        out.extend_from_slice(b",\"target\":");
        json::string(&log.target, out);
        out.extend_from_slice(b",\"time\":");
        out.extend_from_slice(itoa::Buffer::new().format(log.time_ms).as_bytes());
        out.push(b'}');
    }
    out.push(b']');
}

/// A field's value as [`super::to_json`] makes it.
fn field(value: &FieldValue, out: &mut Vec<u8>) {
    match value {
        FieldValue::Bool(true) => out.extend_from_slice(b"true"),
        FieldValue::Bool(false) => out.extend_from_slice(b"false"),
        FieldValue::I64(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        FieldValue::U64(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        FieldValue::F64(n) => json::value(&float(*n), out),
        FieldValue::Str(text) => json::string(text, out),
        FieldValue::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                field(item, out);
            }
            out.push(b']');
        }
    }
}
