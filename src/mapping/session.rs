//! What a session's root becomes: the create sent when the session starts, and when it ends the
//! whole session as a create or the same final state as an update; what a span that joined a
//! session by id writes to it; and how updates to one session merge.

use std::borrow::Cow;

use serde_json::Value;

use super::{Buckets, Key, Langchain, Mapper, children_ids, gen_ai, times};
use crate::limits::bounded;
use crate::recorded::{Bucket, Children, Fields, FinishedSpan, Recorded, SessionSeed};
use crate::wire::{CreateSession, JsonObject, UpdateEvent};

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

impl Mapper {
    /// Session metadata: the project named by `HH_PROJECT`, under what the span gave.
    pub(super) fn session_metadata(&self, buckets: &mut Buckets) -> Option<JsonObject> {
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
