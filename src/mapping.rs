//! Finished spans → the wire bodies HoneyHive receives. Pure functions, run on the exporter
//! thread; the tables they implement are in the crate docs.

pub(crate) mod dialects;
pub(crate) mod gen_ai;
mod langchain;
mod mapped;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::limits::bounded;
use crate::recorded::{
    Bucket, Children, FieldValue, Fields, FinishedSpan, Log, Name, Recorded, SessionSeed,
};
use crate::wire::{CreateSession, Event, EventType, JsonObject, UpdateEvent};
use dialects::Placement;
use langchain::Span as Langchain;
pub(crate) use mapped::Mapped;

/// The settings mapping depends on.
#[derive(Debug, Clone)]
pub(crate) struct Mapper {
    pub(crate) source: String,
    /// `HH_PROJECT`: recorded in each session's metadata (the API key selects the project).
    pub(crate) project: Option<String>,
    pub(crate) max_field_bytes: usize,
    /// Message content is sent; when not, the text in inputs and outputs is hidden.
    pub(crate) capture_content: bool,
}

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
    objects: [Object; 7],
    logs: Vec<Log>,
}

impl Buckets {
    fn get_mut(&mut self, bucket: Bucket) -> &mut Object {
        &mut self.objects[bucket as usize]
    }

    /// A value placed at `key` of `bucket` replaces the span's logs when it is `metadata.logs`.
    fn claim(&mut self, bucket: Bucket, key: &str) {
        if bucket == Bucket::Metadata && key == LOGS {
            self.logs.clear();
        }
    }

    /// `value` under `key`, or merged into the bucket for an empty key (a bare `inputs` field).
    fn put(&mut self, bucket: Bucket, key: Key, value: Value) {
        if key.is_empty() {
            self.merge(bucket, value);
        } else {
            self.claim(bucket, &key);
            self.get_mut(bucket).insert(key, value);
        }
    }

    /// An object's keys merged in, a later key winning; any other value under `"value"`.
    fn merge(&mut self, bucket: Bucket, value: Value) {
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
    fn put_nested(&mut self, bucket: Bucket, key: &str, value: Value) {
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
    fn cloned(&self, bucket: Bucket) -> Option<JsonObject> {
        let object = self.objects[bucket as usize].clone();
        let map = json_object(object, logs_of(bucket, &mut self.logs.clone()));
        (!map.is_empty()).then_some(map)
    }
}

/// The span's events, taken from `logs`, when `bucket` is the one they go to (`metadata`).
fn logs_of(bucket: Bucket, logs: &mut Vec<Log>) -> Vec<Log> {
    if bucket == Bucket::Metadata {
        std::mem::take(logs)
    } else {
        Vec::new()
    }
}

/// The key of the span's events in `metadata`.
const LOGS: &str = "logs";

/// The object `slot` holds, made one first when it holds something else.
fn object_in(slot: &mut Value) -> &mut JsonObject {
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
fn logs_value(logs: Vec<Log>) -> Value {
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
fn suffix(name: &Key, key: &str) -> Key {
    match name {
        Cow::Borrowed(name) => Cow::Borrowed(&name[name.len() - key.len()..]),
        Cow::Owned(_) => Cow::Owned(key.to_owned()),
    }
}

/// What a session root span becomes when it closes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SessionEnd {
    /// The whole session in one create, for a session not yet sent.
    pub(crate) create: CreateSession,
    /// The same final state as an update, for a session already created (early, or by an earlier
    /// process): `PUT /v1/events/{session_id}`.
    pub(crate) update: UpdateEvent,
    /// The create cannot carry `metrics` and `feedback`: when there are some, the update follows
    /// the create.
    pub(crate) update_after_create: bool,
    pub(crate) end_ms: i64,
}

/// A field value as JSON, its text moved rather than copied. Non-finite floats, which JSON
/// cannot hold, become the strings `"NaN"`, `"inf"` and `"-inf"`.
fn to_json(value: FieldValue) -> Value {
    match value {
        FieldValue::Bool(b) => Value::Bool(b),
        FieldValue::I64(n) => Value::from(n),
        FieldValue::U64(n) => Value::from(n),
        FieldValue::F64(n) => float(n),
        FieldValue::Str(s) => Value::String(s),
        FieldValue::List(items) => Value::Array(items.into_iter().map(to_json).collect()),
    }
}

impl Mapper {
    /// `honeyhive.source` when the span gives one, else the configured source.
    fn source_of(&self, recorded: &Recorded) -> String {
        recorded
            .source
            .clone()
            .unwrap_or_else(|| self.source.clone())
    }

    /// A structured value with every string cut to the bound.
    fn json(&self, mut value: Value, truncated: &mut u32) -> Value {
        cut_strings(&mut value, self.max_field_bytes, truncated);
        value
    }

    /// The buckets of a span: routed fields, then its events, then the extension trait's values.
    /// What was recorded is taken by value, so that its texts move into the buckets. `langchain`
    /// is the langchain-rust span it is, whose own fields it places first.
    fn buckets(
        &self,
        recorded: Recorded,
        extra: &[(Bucket, Value)],
        langchain: Option<Langchain>,
        truncated: &mut u32,
    ) -> Buckets {
        let mut buckets = Buckets::default();
        let mut renested: Vec<(Bucket, String)> = Vec::new();
        for (field, value) in recorded.fields.0 {
            let name = field.as_ref();
            let value = to_json(value);
            let sdk = name
                .strip_prefix(crate::fields::SDK_BUCKET_PREFIX)
                .and_then(Bucket::route)
                .filter(|(_, key)| !key.is_empty());
            // A bare `metadata` holding text is OpenInference's JSON metadata, for the dialects.
            let route = Bucket::route(name).filter(|_| !(name == "metadata" && value.is_string()));
            if let Some(bucket) = Bucket::json_field(name) {
                buckets.merge(bucket, self.json(parse_object(value), truncated));
            } else if let Some((bucket, key)) = route {
                buckets.put(bucket, suffix(&field, key), value);
            } else if let Some((bucket, key)) = sdk {
                buckets.put_nested(bucket, key, value);
                let top = key.split('.').next().unwrap_or(key).to_owned();
                renested.push((bucket, top));
            } else {
                let value = match langchain {
                    Some(span) => match span.place(name, value) {
                        Ok((bucket, key, value)) => {
                            buckets.put(bucket, Key::Borrowed(key), value);
                            continue;
                        }
                        Err(value) => value,
                    },
                    None => value,
                };
                match dialects::try_place(name, value) {
                    Ok(placements) => buckets.apply(placements, &mut renested),
                    Err(value) if name.starts_with("gen_ai.") => {
                        match gen_ai::try_family(name, value) {
                            Ok(placements) => buckets.apply(placements, &mut renested),
                            Err(value) => {
                                // JSON text was kept whole to be parsed; its strings are
                                // bounded now.
                                let mut put = |b, k, v| buckets.put(b, k, self.json(v, truncated));
                                gen_ai::place(name, value, &mut put);
                            }
                        }
                    }
                    Err(value) => buckets.put(Bucket::Metadata, field, value),
                }
            }
        }
        buckets.arrays(renested);
        if !recorded.logs.is_empty() {
            buckets.get_mut(Bucket::Metadata).remove(LOGS);
            buckets.logs = recorded.logs;
        }
        if recorded.logs_dropped > 0 {
            buckets.put(
                Bucket::Metadata,
                Key::Borrowed("logs_dropped"),
                recorded.logs_dropped.into(),
            );
        }
        for (bucket, value) in recorded.json {
            buckets.merge(bucket, self.json(value, truncated));
        }
        for (bucket, value) in extra {
            buckets.merge(*bucket, self.json(value.clone(), truncated));
        }
        gen_ai::complete_usage(buckets.get_mut(Bucket::Metadata));
        gen_ai::finish(buckets.get_mut(Bucket::Inputs));
        let reasons = buckets
            .get_mut(Bucket::Metadata)
            .get("finish_reasons")
            .cloned();
        gen_ai::finish_reason(buckets.get_mut(Bucket::Outputs), reasons.as_ref());
        if !self.capture_content {
            for bucket in [Bucket::Inputs, Bucket::Outputs] {
                buckets.get_mut(bucket).iter_mut().for_each(hide_content);
            }
        }
        buckets
    }

    /// `honeyhive.event_type` first, else the type of the langchain-rust span it is, else
    /// `gen_ai.operation.name`, else the span kind another dialect declares (OpenInference,
    /// Traceloop, Langfuse), else what the model or tool attributes imply, else `chain`. An
    /// explicit type that is not `model`, `tool` or `chain` is kept as
    /// `metadata["honeyhive.invalid_event_type"]` and ignored.
    fn event_type(
        recorded: &Recorded,
        langchain: Option<Langchain>,
    ) -> (EventType, Option<String>) {
        let explicit = recorded.event_type.as_deref().map(str::trim);
        let parsed = explicit.and_then(|t| match t.to_ascii_lowercase().as_str() {
            "model" | "llm" => Some(EventType::Model),
            "tool" => Some(EventType::Tool),
            "chain" => Some(EventType::Chain),
            _ => None,
        });
        if let Some(event_type) = parsed {
            return (event_type, None);
        }
        let fields = &recorded.fields;
        let operation = fields.get("gen_ai.operation.name").and_then(|v| match v {
            FieldValue::Str(s) => Some(s.as_str()),
            _ => None,
        });
        // The span langchain-rust names, the operation, then another dialect's declared kind,
        // then the attributes present.
        let inferred = langchain
            .map(Langchain::event_type)
            .or_else(|| gen_ai::infer_event_type(operation, false, false))
            .or_else(|| dialects::event_type(fields))
            .or_else(|| {
                gen_ai::infer_event_type(
                    None,
                    fields.get("gen_ai.request.model").is_some(),
                    fields.get("gen_ai.tool.name").is_some(),
                )
            });
        let invalid = explicit.filter(|t| !t.is_empty()).map(str::to_owned);
        (inferred.unwrap_or(EventType::Chain), invalid)
    }

    /// `honeyhive.event_name`, else `otel.name`, else the name the GenAI conventions give a span
    /// named only by its operation (`chat gpt-4o-mini`), else the span name.
    fn event_name(span: &FinishedSpan) -> String {
        Mapper::given_name(span).unwrap_or_else(|| span.name.to_string())
    }

    /// The event name a span gives beyond its own name.
    fn given_name(span: &FinishedSpan) -> Option<String> {
        let recorded = &span.recorded;
        recorded
            .event_name
            .clone()
            .or_else(|| recorded.otel_name.clone())
            .or_else(|| gen_ai::span_name(&recorded.fields, &span.name))
    }

    /// The error a span reports: its own (the `error` field, an `ERROR` event, an error status),
    /// else that of a failed tool call.
    /// An error that is only an HTTP status in `error.type` (as genai records a provider's
    /// answer) reads as one: `HTTP 404 Not Found`.
    fn error(recorded: &Recorded) -> Option<String> {
        let error = recorded
            .error()
            .or_else(|| gen_ai::tool_error(&recorded.fields))?;
        let from_type = recorded
            .fields
            .get("error.type")
            .is_some_and(|t| t.to_string() == error);
        let status = error
            .parse::<u16>()
            .ok()
            .and_then(|code| reqwest::StatusCode::from_u16(code).ok())
            .filter(|_| from_type && error.len() == 3);
        Some(match status {
            Some(status) => format!(
                "HTTP {} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("error")
            ),
            None => error,
        })
    }

    /// An event of the session: `parent` is the parent span's event, or the session id. The span
    /// is consumed: its texts move into the event, which keeps the mapping's own form of its
    /// objects until it is written ([`Mapped`]).
    pub(crate) fn event(
        &self,
        span: FinishedSpan,
        parent: Uuid,
        children: &Children,
        truncated: &mut u32,
    ) -> Mapped {
        let langchain = Langchain::of(&span.target, &span.name);
        let (event_type, invalid) = Mapper::event_type(&span.recorded, langchain);
        let event_name = Mapper::event_name(&span);
        let error =
            Mapper::error(&span.recorded).map(|e| bounded(&e, self.max_field_bytes, truncated));
        let source = self.source_of(&span.recorded);
        let (start, end, duration) = times(&span);
        let mut buckets = self.buckets(span.recorded, &[], langchain, truncated);
        if let Some(raw) = invalid {
            buckets.put(
                Bucket::Metadata,
                Key::Borrowed("honeyhive.invalid_event_type"),
                raw.into(),
            );
        }
        let children = children_ids(children, &mut buckets, truncated);
        let mut event = Event::new(event_type);
        event.event_id = Some(span.event_id);
        event.session_id = Some(span.session.id);
        event.parent_id = Some(parent);
        event.children_ids = children;
        event.event_name = Some(event_name);
        event.source = Some(source);
        event.start_time = Some(start);
        event.end_time = Some(end);
        event.duration = Some(duration);
        event.error = error;
        Mapped::new(event, buckets.objects, buckets.logs)
    }

    /// Session metadata: the project named by `HH_PROJECT`, under what the span gave.
    fn session_metadata(&self, buckets: &mut Buckets) -> Option<JsonObject> {
        let mut metadata = buckets.take(Bucket::Metadata).unwrap_or_default();
        if let Some(project) = &self.project {
            metadata
                .entry("project")
                .or_insert_with(|| Value::String(project.clone()));
        }
        (!metadata.is_empty()).then_some(metadata)
    }

    /// The session as known when it starts, to create it before its root span closes: the root
    /// span's fields at creation (or nothing, for a session joined by id).
    pub(crate) fn session_start(&self, seed: &SessionSeed, truncated: &mut u32) -> CreateSession {
        let recorded = Recorded {
            fields: seed.fields.clone(),
            ..Recorded::default()
        };
        let mut buckets = self.buckets(recorded, &[], None, truncated);
        CreateSession {
            session_id: Some(seed.id),
            session_name: Some(seed.name.to_string()),
            source: Some(seed.source.clone().unwrap_or_else(|| self.source.clone())),
            start_time: Some(seed.start_ms),
            config: buckets.take(Bucket::Config),
            inputs: buckets.take(Bucket::Inputs),
            outputs: buckets.take(Bucket::Outputs),
            metadata: self.session_metadata(&mut buckets),
            user_properties: buckets.take(Bucket::UserProperties),
            ..CreateSession::default()
        }
    }

    /// A session root span that closed: the complete session, and the same final state as an
    /// update. `created` is what the session was (or will be) created from: the root's own seed,
    /// or an earlier span's when the session was created before the root came. The root is
    /// consumed, as [`event`](Self::event) consumes its span.
    pub(crate) fn session_end(
        &self,
        root: FinishedSpan,
        created: &SessionSeed,
        children: &Children,
        truncated: &mut u32,
    ) -> SessionEnd {
        let error = Mapper::error(&root.recorded);
        let (_, end, duration) = times(&root);
        let session_name = root
            .recorded
            .session_name
            .clone()
            .unwrap_or_else(|| root.session.name.to_string());
        let event_name = Mapper::given_name(&root);
        let source = self.source_of(&root.recorded);
        let langchain = Langchain::of(&root.target, &root.name);
        let mut buckets = self.buckets(root.recorded, &root.session_json, langchain, truncated);
        let children = children_ids(children, &mut buckets, truncated);
        if let Some(error) = error {
            let error = bounded(&error, self.max_field_bytes, truncated);
            buckets.put(Bucket::Metadata, Key::Borrowed("error"), error.into());
        }
        let inputs = buckets.take(Bucket::Inputs);
        let metadata = self.session_metadata(&mut buckets);
        let update = UpdateEvent {
            metadata: late_inputs(metadata.clone(), &inputs, created, self, truncated),
            feedback: buckets.take(Bucket::Feedback),
            metrics: buckets.take(Bucket::Metrics),
            outputs: buckets.cloned(Bucket::Outputs),
            config: buckets.cloned(Bucket::Config),
            user_properties: buckets.cloned(Bucket::UserProperties),
            duration: Some(duration),
            end_time: Some(end),
            children_ids: children.clone(),
        };
        let create = CreateSession {
            session_id: Some(root.session.id),
            session_name: Some(session_name),
            event_name,
            source: Some(source),
            start_time: Some(root.start_ms),
            end_time: Some(end),
            duration: Some(duration),
            config: buckets.take(Bucket::Config),
            inputs,
            outputs: buckets.take(Bucket::Outputs),
            metadata,
            user_properties: buckets.take(Bucket::UserProperties),
            children_ids: children,
        };
        SessionEnd {
            update_after_create: update.metrics.is_some() || update.feedback.is_some(),
            create,
            update,
            end_ms: end,
        }
    }

    /// What a span that joined its session by id writes to the session when it closes: the
    /// values given with `enrich_session`, and the session's end. The duration is set by the
    /// sender, from the session's start as the server knows it.
    ///
    /// A span that joined under a caller's event (`honeyhive.parent_id`: a request from another
    /// service) leaves the end to the caller, which ends after it: written later, its own end
    /// would cut the session short.
    pub(crate) fn joined_end(&self, owner: &FinishedSpan, truncated: &mut u32) -> UpdateEvent {
        let recorded = Recorded::default();
        let mut buckets = self.buckets(recorded, &owner.session_json, None, truncated);
        let (_, end, _) = times(owner);
        let end = owner.recorded.parent_id.is_none().then_some(end);
        UpdateEvent {
            metadata: self.session_metadata(&mut buckets),
            feedback: buckets.take(Bucket::Feedback),
            metrics: buckets.take(Bucket::Metrics),
            outputs: buckets.take(Bucket::Outputs),
            config: buckets.take(Bucket::Config),
            user_properties: buckets.take(Bucket::UserProperties),
            end_time: end,
            ..UpdateEvent::default()
        }
    }
}

/// A session's name: `honeyhive.session_name`, else an agent's name when the root is an agent's
/// run (`invoke_agent`), else the configured name (`HH_SESSION_NAME`), else the root span's.
pub(crate) fn session_name(
    given: Option<&str>,
    fields: &Fields,
    configured: Option<&str>,
    span_name: Cow<'static, str>,
) -> Cow<'static, str> {
    given
        .map(str::to_owned)
        .or_else(|| gen_ai::session_name(fields))
        .or_else(|| configured.map(str::to_owned))
        .map_or(span_name, Cow::Owned)
}

/// Inputs of a session that was created before they were recorded cannot be updated (the update
/// route ignores `inputs`): they are kept in the update's metadata as `inputs`, so nothing is
/// lost. The create carries them when the session is sent complete.
fn late_inputs(
    metadata: Option<JsonObject>,
    inputs: &Option<JsonObject>,
    created: &SessionSeed,
    mapper: &Mapper,
    truncated: &mut u32,
) -> Option<JsonObject> {
    let seeded = mapper.session_start(created, truncated).inputs;
    match inputs {
        Some(inputs) if seeded.as_ref() != Some(inputs) => {
            let mut metadata = metadata.unwrap_or_default();
            metadata.insert("inputs".into(), Value::Object(inputs.clone()));
            Some(metadata)
        }
        _ => metadata,
    }
}

/// The `children_ids` to send: `None` for none. Children past [`Children::MAX`] are left out,
/// counted as a truncation and under `metadata["honeyhive.children_ids_omitted"]`.
fn children_ids(
    children: &Children,
    buckets: &mut Buckets,
    truncated: &mut u32,
) -> Option<Vec<Uuid>> {
    if children.omitted > 0 {
        *truncated = truncated.saturating_add(1);
        buckets.put(
            Bucket::Metadata,
            Key::Borrowed("honeyhive.children_ids_omitted"),
            children.omitted.into(),
        );
    }
    (!children.ids.is_empty()).then(|| children.ids.clone())
}

/// Start and end in Unix epoch milliseconds, and the duration in milliseconds to the
/// microsecond.
fn times(span: &FinishedSpan) -> (i64, i64, f64) {
    let duration = (span.duration_ms * 1e3).round() / 1e3;
    // The precise end, cut to the millisecond as the start is: a span that ends within another
    // never reads as ending after it.
    let end = span
        .start_ms
        .saturating_add((span.start_fraction + span.duration_ms).floor() as i64);
    (span.start_ms, end, duration)
}

fn float(n: f64) -> Value {
    match serde_json::Number::from_f64(n) {
        Some(number) => Value::Number(number),
        None if n.is_nan() => Value::from("NaN"),
        None if n > 0.0 => Value::from("inf"),
        None => Value::from("-inf"),
    }
}

/// Objects whose keys are exactly `0`, `1`, … `n-1` become arrays in that order, at every level
/// of a value re-nested from dotted paths (`chat_history.0.role`).
fn numbered_to_arrays(value: &mut Value) {
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

/// What replaces hidden content.
pub(crate) const HIDDEN: &str = "[hidden]";

/// Keys whose text is structure, not content: kept when content is hidden.
const STRUCTURE: [&str; 6] = [
    "role",
    "type",
    "id",
    "tool_call_id",
    "name",
    "finish_reason",
];

/// Every text below `(key, value)` replaced by [`HIDDEN`], but the values of [`STRUCTURE`] keys
/// (roles, tool names and call ids) and the keys themselves. Iterative: values may be deep.
fn hide_content((key, value): (&Key, &mut Value)) {
    let mut stack: Vec<(bool, &mut Value)> = vec![(STRUCTURE.contains(&key.as_ref()), value)];
    while let Some((structural, value)) = stack.pop() {
        match value {
            Value::String(text) if !structural => *text = HIDDEN.to_owned(),
            Value::Array(items) => stack.extend(items.iter_mut().map(|v| (false, v))),
            Value::Object(map) => {
                stack.extend(
                    map.iter_mut()
                        .map(|(k, v)| (STRUCTURE.contains(&k.as_str()), v)),
                );
            }
            _ => {}
        }
    }
}

/// The value of a field holding a whole object as JSON text (`honeyhive.inputs`): parsed, its
/// depth bounded; text that is not JSON stays text (then kept under `value`).
fn parse_object(value: Value) -> Value {
    match value {
        Value::String(text) => match serde_json::from_str::<Value>(&text) {
            Ok(mut parsed) => {
                crate::limits::bound_depth(&mut parsed, crate::limits::MAX_DEPTH);
                parsed
            }
            Err(_) => Value::String(text),
        },
        other => other,
    }
}

fn cut_strings(value: &mut Value, max: usize, truncated: &mut u32) {
    match value {
        Value::String(s) if s.len() > max => *s = bounded(s, max, truncated),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| cut_strings(v, max, truncated)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| cut_strings(v, max, truncated)),
        _ => {}
    }
}

/// Merges `later` into `update`: objects key by key, a later `outputs` replacing, the latest end.
pub(crate) fn merge_updates(update: &mut UpdateEvent, later: UpdateEvent) {
    fn merge(into: &mut Option<JsonObject>, from: Option<JsonObject>) {
        if let Some(from) = from {
            into.get_or_insert_with(JsonObject::new).extend(from);
        }
    }
    merge(&mut update.metadata, later.metadata);
    merge(&mut update.feedback, later.feedback);
    merge(&mut update.metrics, later.metrics);
    merge(&mut update.config, later.config);
    merge(&mut update.user_properties, later.user_properties);
    if later.outputs.is_some() {
        update.outputs = later.outputs;
    }
    update.end_time = update.end_time.max(later.end_time);
    if later.duration.is_some() {
        update.duration = later.duration;
    }
    if later.children_ids.is_some() {
        update.children_ids = later.children_ids;
    }
}

#[cfg(test)]
mod tests;
