//! What the web view shows of a session without its bodies: the list's summary line and the rows
//! of its tree. Computed from the store on each request; the bodies stay where they are until a
//! page asks for one event.

use serde::Serialize;
use serde_json::Value;

use crate::emulator::store::Store;
use crate::wire::EventRecord;

/// A session in the list, and the summary line of its page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Summary {
    pub(crate) session_id: String,
    pub(crate) name: String,
    pub(crate) source: String,
    /// Milliseconds since the Unix epoch.
    pub(crate) start_time: Option<f64>,
    pub(crate) end_time: Option<f64>,
    /// Milliseconds: the session's own, else from its start to the last end of its events.
    pub(crate) duration: Option<f64>,
    /// Events of the session, the session itself not counted.
    pub(crate) events: usize,
    pub(crate) model_events: usize,
    /// Tokens of its model events (`total_tokens`, else prompt + completion).
    pub(crate) tokens: u64,
    /// The session and its events that carry an error.
    pub(crate) errors: usize,
    /// The session's own error.
    pub(crate) error: Option<String>,
    /// The store's revision when the session last changed.
    pub(crate) revision: u64,
}

/// One event in the tree of a session's page: enough to place it, name it and mark it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Row<'a> {
    pub(crate) id: &'a str,
    /// As stored: the page hangs an event with an unknown parent under the session.
    pub(crate) parent: Option<&'a str>,
    pub(crate) name: &'a str,
    #[serde(rename = "type")]
    pub(crate) kind: Option<&'a str>,
    pub(crate) start: Option<f64>,
    pub(crate) end: Option<f64>,
    pub(crate) error: bool,
}

/// Whether the record carries an error (an empty message is none).
fn failed(event: &EventRecord) -> bool {
    event.error.as_deref().is_some_and(|e| !e.trim().is_empty())
}

/// The event's end: its own, else its start plus its duration.
fn end_of(event: &EventRecord) -> Option<f64> {
    event
        .end_time
        .or_else(|| Some(event.start_time? + event.duration?))
}

/// The tokens a model event reports in its metadata or metrics.
fn tokens(event: &EventRecord) -> u64 {
    let count = |bucket: &Option<Value>, key: &str| {
        let value = bucket.as_ref()?.get(key)?;
        value
            .as_u64()
            .or_else(|| value.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
    };
    let read = |key: &str| count(&event.metadata, key).or_else(|| count(&event.metrics, key));
    read("total_tokens").unwrap_or_else(|| {
        let prompt = read("prompt_tokens").unwrap_or(0);
        prompt.saturating_add(read("completion_tokens").unwrap_or(0))
    })
}

/// The summary of the session `session_id`, if the store has it.
pub(crate) fn summary(store: &Store, session_id: &str) -> Option<Summary> {
    let session = store.session(session_id)?;
    let mut summary = Summary {
        session_id: session_id.to_owned(),
        name: session.event_name.clone().unwrap_or_default(),
        source: session.source.clone().unwrap_or_default(),
        start_time: session.start_time,
        end_time: session.end_time,
        duration: session.duration,
        events: 0,
        model_events: 0,
        tokens: 0,
        errors: usize::from(failed(session)),
        error: session.error.clone().filter(|e| !e.trim().is_empty()),
        revision: store.revision_of(session_id),
    };
    let mut last_end = end_of(session);
    for event in store.events_of(session_id) {
        summary.events += 1;
        summary.errors += usize::from(failed(event));
        if event.event_type.as_deref() == Some("model") {
            summary.model_events += 1;
            summary.tokens = summary.tokens.saturating_add(tokens(event));
        }
        if let Some(end) = end_of(event) {
            last_end = Some(last_end.map_or(end, |last: f64| last.max(end)));
        }
    }
    if summary.duration.is_none() {
        summary.duration = summary
            .start_time
            .zip(last_end)
            .map(|(start, end)| (end - start).max(0.0));
    }
    Some(summary)
}

/// Every session's summary, newest first (by start time, then by arrival).
pub(crate) fn summaries(store: &Store) -> Vec<Summary> {
    let mut list: Vec<Summary> = store
        .sessions()
        .filter_map(|s| summary(store, s.session_id.as_deref()?))
        .collect();
    // Stable: sessions with the same start stay newest-arrived first after the reverse.
    list.reverse();
    list.sort_by(|a, b| {
        let (a, b) = (
            a.start_time.unwrap_or(f64::MIN),
            b.start_time.unwrap_or(f64::MIN),
        );
        b.total_cmp(&a)
    });
    list
}

/// The rows of a session's tree: every event but the session, in arrival order.
pub(crate) fn rows<'a>(store: &'a Store, session_id: &str) -> Vec<Row<'a>> {
    store
        .events_of(session_id)
        .map(|event| Row {
            id: event.event_id.as_deref().unwrap_or_default(),
            parent: event.parent_id.as_deref(),
            name: event.event_name.as_deref().unwrap_or_default(),
            kind: event.event_type.as_deref(),
            start: event.start_time,
            end: end_of(event),
            error: failed(event),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::*;

    fn body(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    fn store_with(sessions: &[(&str, Option<f64>)]) -> Store {
        let mut store = Store::default();
        for (id, start) in sessions {
            let mut session = json!({"session_id": id, "session_name": id});
            if let Some(start) = start {
                session["start_time"] = json!(start);
            }
            store.create_session(&body(session), 500.0);
        }
        store
    }

    const A: &str = "00000000-0000-4000-8000-00000000000a";
    const B: &str = "00000000-0000-4000-8000-00000000000b";
    const C: &str = "00000000-0000-4000-8000-00000000000c";

    #[test]
    fn tokens_are_read_from_metadata_or_metrics_of_model_events_only() {
        let mut store = store_with(&[(A, Some(0.0))]);
        for event in [
            json!({"event_type": "model", "metadata": {"total_tokens": 10, "prompt_tokens": 99}}),
            json!({"event_type": "model", "metadata": {"prompt_tokens": 3, "completion_tokens": 4}}),
            json!({"event_type": "model", "metrics": {"total_tokens": 5.0}}),
            json!({"event_type": "model", "metadata": {"total_tokens": -5, "prompt_tokens": "7"}}),
            json!({"event_type": "chain", "metadata": {"total_tokens": 1000}}),
        ] {
            store.add_event(A, &body(event));
        }
        let summary = summary(&store, A).unwrap();
        assert_eq!(summary.tokens, 10 + 7 + 5);
        assert_eq!((summary.events, summary.model_events), (5, 4));
    }

    #[test]
    fn an_open_session_lasts_until_its_last_event_ends() {
        let mut store = store_with(&[(A, Some(100.0))]);
        assert_eq!(
            summary(&store, A).unwrap().duration,
            None,
            "unknown until something ends"
        );
        store.add_event(A, &body(json!({"start_time": 150.0, "duration": 100.0})));
        store.add_event(
            A,
            &body(json!({"start_time": 120.0, "end_time": 180.0, "error": " "})),
        );
        let open = summary(&store, A).unwrap();
        assert_eq!(open.duration, Some(150.0));
        assert_eq!(open.errors, 0, "a blank error is none");
        store.update_event(A, &body(json!({"duration": 42.0})));
        assert_eq!(
            summary(&store, A).unwrap().duration,
            Some(42.0),
            "its own wins"
        );
    }

    #[test]
    fn the_list_is_newest_first_and_ties_keep_the_latest_arrival_first() {
        let store = store_with(&[(A, Some(10.0)), (B, Some(30.0)), (C, Some(10.0))]);
        let order: Vec<String> = summaries(&store)
            .into_iter()
            .map(|s| s.session_id)
            .collect();
        assert_eq!(order, [B, C, A]);
    }

    #[test]
    fn revisions_tell_which_sessions_changed() {
        let mut store = store_with(&[(A, None), (B, None)]);
        let seen = store.revision();
        assert!(store.changed_since(seen).is_empty());
        store.add_event(B, &body(json!({"event_name": "x"})));
        assert_eq!(store.changed_since(seen), [B]);
        assert_eq!(summary(&store, B).unwrap().revision, store.revision());
        assert_eq!(store.changed_since(0), [A, B]);
    }
}
