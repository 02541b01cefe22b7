//! What the local server keeps, and HoneyHive's rules for storing it: fallbacks, idempotent
//! session create, update merges, and the session tree. Bodies arrive here already validated
//! against the contract schemas.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::json;
use crate::wire::{EventRecord, SessionTree};

/// Fixed ids the server reports for the organisation, workspace and project of its key.
pub(crate) const ORG_ID: &str = "local-org";
pub(crate) const WORKSPACE_ID: &str = "local-workspace";
pub(crate) const PROJECT_ID: &str = "local-project";

/// Sessions and events in arrival order; a session is the event whose id is its session id.
#[derive(Default)]
pub(crate) struct Store {
    events: Vec<EventRecord>,
    index: HashMap<(String, String), usize>,
    repeats: u64,
    /// The indexes of each session's records (the session's own included), in arrival order.
    by_session: HashMap<String, Vec<usize>>,
    /// When a request last created, added to or updated each session, and the store's revision
    /// then.
    touched: HashMap<String, Touch>,
    /// Counts the changes to sessions: the web view's live updates send what changed since the
    /// revision a page has seen.
    revision: u64,
    /// The deepest nesting of any body stored from, an upper bound for every stored value.
    deepest: usize,
}

#[derive(Clone, Copy)]
struct Touch {
    at: Instant,
    revision: u64,
}

/// A string field of a validated body.
fn text(body: &Map<String, Value>, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn number(body: &Map<String, Value>, key: &str) -> Option<f64> {
    body.get(key).and_then(Value::as_f64)
}

/// An object field, or `{}`.
fn object(body: &Map<String, Value>, key: &str) -> Value {
    body.get(key)
        .filter(|v| v.is_object())
        .cloned()
        .unwrap_or_else(|| json!({}))
}

fn ids(body: &Map<String, Value>, key: &str) -> Option<Vec<String>> {
    let list = body.get(key)?.as_array()?;
    Some(
        list.iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
    )
}

/// `value` as a lowercase UUID, if it is one.
pub(crate) fn uuid(value: &str) -> Option<String> {
    Uuid::parse_str(value).ok().map(|id| id.to_string())
}

/// Top-level keys of `update` replace those of `target` (a shallow merge).
fn merge(target: &mut Option<Value>, update: Option<&Value>) {
    let Some(Value::Object(update)) = update else {
        return;
    };
    let target = target.get_or_insert_with(|| json!({}));
    if !target.is_object() {
        *target = json!({});
    }
    if let Value::Object(target) = target {
        target.extend(update.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

impl Store {
    pub(crate) fn session(&self, session_id: &str) -> Option<&EventRecord> {
        self.index
            .get(&(session_id.to_owned(), session_id.to_owned()))
            .map(|&i| &self.events[i])
            .filter(|e| e.event_type.as_deref() == Some("session"))
    }

    pub(crate) fn all(&self) -> &[EventRecord] {
        &self.events
    }

    pub(crate) fn repeats(&self) -> u64 {
        self.repeats
    }

    /// When a request last created, added to or updated the session `session_id`.
    pub(crate) fn touched(&self, session_id: &str) -> Option<Instant> {
        self.touched.get(session_id).map(|t| t.at)
    }

    /// The number of changes made to sessions so far.
    pub(crate) fn revision(&self) -> u64 {
        self.revision
    }

    /// The store's revision when the session `session_id` last changed.
    pub(crate) fn revision_of(&self, session_id: &str) -> u64 {
        self.touched.get(session_id).map_or(0, |t| t.revision)
    }

    /// The ids of the sessions changed after `revision`, in creation order.
    pub(crate) fn changed_since(&self, revision: u64) -> Vec<String> {
        self.sessions()
            .filter_map(|s| s.session_id.clone())
            .filter(|id| self.revision_of(id) > revision)
            .collect()
    }

    /// Every session, in creation order.
    pub(crate) fn sessions(&self) -> impl Iterator<Item = &EventRecord> {
        self.events
            .iter()
            .filter(|e| e.event_type.as_deref() == Some("session"))
    }

    /// The records of the session `session_id` (its own included), in arrival order.
    pub(crate) fn records_of(&self, session_id: &str) -> impl Iterator<Item = &EventRecord> {
        let indexes = self.by_session.get(session_id).map(Vec::as_slice);
        indexes.unwrap_or(&[]).iter().map(|&i| &self.events[i])
    }

    /// The events of the session `session_id` (not the session itself), in arrival order.
    pub(crate) fn events_of(&self, session_id: &str) -> impl Iterator<Item = &EventRecord> {
        self.records_of(session_id)
            .filter(move |e| e.event_id.as_deref() != Some(session_id))
    }

    /// The record stored under (session, event) id.
    pub(crate) fn event(&self, session_id: &str, event_id: &str) -> Option<&EventRecord> {
        let key = (session_id.to_owned(), event_id.to_owned());
        self.index.get(&key).map(|&i| &self.events[i])
    }

    /// An upper bound of how deeply any stored value nests (see [`json::map_depth`]).
    pub(crate) fn deepest(&self) -> usize {
        self.deepest
    }

    fn note_depth(&mut self, body: &Map<String, Value>) {
        self.deepest = self.deepest.max(json::map_depth(body));
    }

    fn touch(&mut self, session_id: &str) {
        self.revision += 1;
        let touch = Touch {
            at: Instant::now(),
            revision: self.revision,
        };
        self.touched.insert(session_id.to_owned(), touch);
    }

    /// `POST /v1/sessions`: a session id that is missing or not a UUID is replaced by a new one;
    /// posting an existing id merges `metadata` and `user_properties` and changes nothing else.
    pub(crate) fn create_session(&mut self, body: &Map<String, Value>, now: f64) -> EventRecord {
        self.note_depth(body);
        let id = text(body, "session_id")
            .and_then(|id| uuid(&id))
            .unwrap_or_else(|| Uuid::new_v4().to_string());
        self.touch(&id);
        if let Some(&i) = self.index.get(&(id.clone(), id.clone())) {
            let existing = &mut self.events[i];
            merge(&mut existing.metadata, body.get("metadata"));
            merge(&mut existing.user_properties, body.get("user_properties"));
            return existing.clone();
        }
        let session_name = text(body, "session_name");
        let mut record = EventRecord {
            event_id: Some(id.clone()),
            session_id: Some(id.clone()),
            event_type: Some("session".into()),
            event_name: text(body, "event_name")
                .or_else(|| session_name.clone())
                .or_else(|| Some("unknown".into())),
            source: text(body, "source").or_else(|| Some("unknown".into())),
            start_time: number(body, "start_time").or(Some(now)),
            end_time: number(body, "end_time"),
            duration: number(body, "duration"),
            children_ids: ids(body, "children_ids").or_else(|| Some(Vec::new())),
            ..EventRecord::default()
        };
        for (slot, key) in [
            (&mut record.config, "config"),
            (&mut record.inputs, "inputs"),
            (&mut record.outputs, "outputs"),
            (&mut record.metadata, "metadata"),
            (&mut record.user_properties, "user_properties"),
            (&mut record.metrics, "metrics"),
            (&mut record.feedback, "feedback"),
        ] {
            *slot = Some(object(body, key));
        }
        if let Some(name) = session_name {
            record
                .extra
                .insert("session_name".into(), Value::String(name));
        }
        let i = self.insert(record);
        self.events[i].clone()
    }

    /// Stores one event of `session_id`: `event_id` defaults to a new UUID, `parent_id` to the
    /// session, `event_name` and `source` to `"unknown"`. Unknown keys are ignored. An event
    /// posted again under the same (session, event) id replaces the first and counts as a repeat.
    pub(crate) fn add_event(&mut self, session_id: &str, body: &Map<String, Value>) -> String {
        self.note_depth(body);
        self.touch(session_id);
        let mut record = EventRecord::default();
        let id = text(body, "event_id").unwrap_or_else(|| Uuid::new_v4().to_string());
        record.event_id = Some(id.clone());
        record.session_id = Some(session_id.to_owned());
        record.parent_id = text(body, "parent_id").or_else(|| Some(session_id.to_owned()));
        record.event_type = text(body, "event_type");
        record.event_name = text(body, "event_name").or_else(|| Some("unknown".into()));
        record.source = text(body, "source").or_else(|| Some("unknown".into()));
        record.error = text(body, "error");
        record.start_time = number(body, "start_time");
        record.end_time = number(body, "end_time");
        record.duration = number(body, "duration");
        record.children_ids = ids(body, "children_ids").or_else(|| Some(Vec::new()));
        for (slot, key) in [
            (&mut record.config, "config"),
            (&mut record.inputs, "inputs"),
            (&mut record.outputs, "outputs"),
            (&mut record.metadata, "metadata"),
            (&mut record.user_properties, "user_properties"),
            (&mut record.metrics, "metrics"),
            (&mut record.feedback, "feedback"),
        ] {
            *slot = Some(object(body, key));
        }
        self.insert(record);
        id
    }

    /// A minimal session for events that name one the server has not seen (cross-session batch).
    pub(crate) fn ensure_session(&mut self, session_id: &str, now: f64) {
        if self.session(session_id).is_none() {
            let body = Map::from_iter([("session_id".to_owned(), json!(session_id))]);
            self.create_session(&body, now);
        }
    }

    /// `PUT /v1/events/{id}`: objects merge, `outputs` replaces (`null` keeps), `duration`,
    /// `end_time` and a non-empty `children_ids` are set; other keys are ignored. `false` when no
    /// event has that id.
    pub(crate) fn update_event(&mut self, event_id: &str, body: &Map<String, Value>) -> bool {
        let Some(event) = self
            .events
            .iter_mut()
            .rev()
            .find(|e| e.event_id.as_deref() == Some(event_id))
        else {
            return false;
        };
        self.deepest = self.deepest.max(json::map_depth(body));
        merge(&mut event.metadata, body.get("metadata"));
        merge(&mut event.feedback, body.get("feedback"));
        merge(&mut event.metrics, body.get("metrics"));
        merge(&mut event.config, body.get("config"));
        merge(&mut event.user_properties, body.get("user_properties"));
        if let Some(outputs @ Value::Object(_)) = body.get("outputs") {
            event.outputs = Some(outputs.clone());
        }
        if let Some(duration) = number(body, "duration") {
            event.duration = Some(duration);
        }
        if let Some(end_time) = number(body, "end_time") {
            event.end_time = Some(end_time);
        }
        if let Some(children) = ids(body, "children_ids").filter(|c| !c.is_empty()) {
            event.children_ids = Some(children);
        }
        if let Some(session_id) = event.session_id.clone() {
            self.touch(&session_id);
        }
        true
    }

    /// Stores `record` with the key's fixed ids, replacing one with the same (session, event)
    /// id; its index.
    fn insert(&mut self, mut record: EventRecord) -> usize {
        record.org_id = Some(ORG_ID.into());
        record.workspace_id = Some(WORKSPACE_ID.into());
        record.project_id = Some(PROJECT_ID.into());
        let key = (
            record.session_id.clone().unwrap_or_default(),
            record.event_id.clone().unwrap_or_default(),
        );
        match self.index.get(&key) {
            Some(&i) => {
                self.repeats += 1;
                self.events[i] = record;
                i
            }
            None => {
                let i = self.events.len();
                self.by_session.entry(key.0.clone()).or_default().push(i);
                self.index.insert(key, i);
                self.events.push(record);
                i
            }
        }
    }

    /// The session as a tree: events hang under their `parent_id`, or under the session when the
    /// parent is absent or not an event of this session. Every node has numeric times; the root's
    /// metadata counts the events.
    pub(crate) fn tree(&self, session_id: &str) -> Option<SessionTree> {
        let session = self.session(session_id)?;
        let events: Vec<&EventRecord> = self.events_of(session_id).collect();
        let known: HashSet<&str> = events
            .iter()
            .filter_map(|e| e.event_id.as_deref())
            .collect();
        let mut children: HashMap<&str, Vec<&EventRecord>> = HashMap::new();
        for event in &events {
            let parent = event
                .parent_id
                .as_deref()
                .filter(|p| known.contains(p) && Some(*p) != event.event_id.as_deref())
                .unwrap_or(session_id);
            children.entry(parent).or_default().push(event);
        }
        let start = session.start_time.unwrap_or(0.0);
        let mut visited = HashSet::new();
        let mut root = node(session, &children, &mut visited, start);
        // Events caught in a parent cycle are unreachable from the session: show them at the top.
        let unreached: Vec<&EventRecord> = events
            .iter()
            .filter(|e| !visited.contains(e.event_id.as_deref().unwrap_or("")))
            .copied()
            .collect();
        for event in unreached {
            let orphan = node(event, &HashMap::new(), &mut visited, start);
            root.children.push(orphan);
        }
        let end = events
            .iter()
            .filter_map(|e| e.end_time)
            .fold(session.end_time.unwrap_or(start), f64::max);
        root.event.end_time = Some(session.end_time.unwrap_or(end));
        root.event.duration = Some(
            session
                .duration
                .unwrap_or(root.event.end_time.unwrap_or(start) - start),
        );
        let mut counts = Map::new();
        counts.insert("num_events".into(), json!(events.len()));
        let models = events
            .iter()
            .filter(|e| e.event_type.as_deref() == Some("model"));
        counts.insert("num_model_events".into(), json!(models.count()));
        let feedback = |e: &&EventRecord| e.feedback.as_ref().is_some_and(|f| f != &json!({}));
        counts.insert(
            "has_feedback".into(),
            json!(events.iter().any(feedback) || feedback(&session)),
        );
        merge(&mut root.event.metadata, Some(&Value::Object(counts)));
        Some(root)
    }
}

fn node<'a>(
    event: &'a EventRecord,
    children: &HashMap<&str, Vec<&'a EventRecord>>,
    visited: &mut HashSet<&'a str>,
    default_start: f64,
) -> SessionTree {
    let id = event.event_id.as_deref().unwrap_or("");
    visited.insert(id);
    let mut record = event.clone();
    let start = event.start_time.or(event.end_time).unwrap_or(default_start);
    let end = event
        .end_time
        .or_else(|| event.duration.map(|d| start + d))
        .unwrap_or(start);
    record.start_time = Some(start);
    record.end_time = Some(end);
    record.duration = Some(event.duration.unwrap_or(end - start));
    record.metadata.get_or_insert_with(|| json!({}));
    let mut kids: Vec<&EventRecord> = children.get(id).cloned().unwrap_or_default();
    kids.retain(|k| !visited.contains(k.event_id.as_deref().unwrap_or("")));
    kids.sort_by(|a, b| {
        a.start_time
            .unwrap_or(start)
            .total_cmp(&b.start_time.unwrap_or(start))
    });
    let mut nodes = Vec::with_capacity(kids.len());
    for kid in kids {
        if !visited.contains(kid.event_id.as_deref().unwrap_or("")) {
            nodes.push(node(kid, children, visited, start));
        }
    }
    SessionTree {
        event: record,
        children: nodes,
    }
}
