//! The JSON the page reads, and the live stream of changed sessions.
//!
//! | route | |
//! |---|---|
//! | `GET /api/sessions` | `{revision, sessions}`: every session's [`Summary`], newest first |
//! | `GET /api/sessions/{id}` | `{session, events}`: its summary and the [`Row`]s of its tree |
//! | `GET /api/sessions/{id}/events/{event_id}` | one stored record, bodies included |
//! | `GET /api/sessions/{id}/export` | the session as `GET /v1/sessions/{id}` gives it, to download |
//! | `GET /api/live?since={revision}` | server-sent events: a `session` message with the summary of each session changed after `since`, then of each as it changes |
//!
//! [`Summary`]: super::summary::Summary
//! [`Row`]: super::summary::Row

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::Stream;
use serde_json::json;

use super::no_route;
use super::summary::{self, Summary};
use crate::emulator::Shared;
use crate::emulator::server::error;
use crate::emulator::store::uuid;

type AppState = State<Arc<Shared>>;

/// How long the live stream waits after sending before it looks again: a session that is being
/// filled is summarised a few times a second, not once a request.
const LIVE_PAUSE: Duration = Duration::from_millis(250);

pub(super) fn router() -> axum::Router<Arc<Shared>> {
    Router::new()
        .route("/api/sessions", get(sessions).fallback(no_route))
        .route(
            "/api/sessions/{session_id}",
            get(session).fallback(no_route),
        )
        .route(
            "/api/sessions/{session_id}/events/{event_id}",
            get(event).fallback(no_route),
        )
        .route(
            "/api/sessions/{session_id}/export",
            get(export).fallback(no_route),
        )
        .route("/api/live", get(live).fallback(no_route))
}

fn not_found(what: &str) -> Response {
    error(StatusCode::NOT_FOUND, format!("{what} not found"))
}

/// The stored form of a session id given in a path.
fn session_key(id: &str) -> String {
    uuid(id).unwrap_or_else(|| id.to_owned())
}

async fn sessions(State(shared): AppState) -> Response {
    let (revision, sessions) = shared.read(|state| {
        let store = &state.store;
        (store.revision(), summary::summaries(store))
    });
    Json(json!({"revision": revision, "sessions": sessions})).into_response()
}

async fn session(State(shared): AppState, Path(id): Path<String>) -> Response {
    let id = session_key(&id);
    let body = shared.read(|state| {
        let store = &state.store;
        let session = summary::summary(store, &id)?;
        let rows = summary::rows(store, &id);
        serde_json::to_vec(&json!({"session": session, "events": rows})).ok()
    });
    match body {
        Some(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        None => not_found("Session"),
    }
}

async fn event(State(shared): AppState, Path((id, event_id)): Path<(String, String)>) -> Response {
    let id = session_key(&id);
    let record = shared.read(|state| {
        let store = &state.store;
        let event = store.event(&id, &event_id).or_else(|| {
            let event_id = uuid(&event_id)?;
            store.event(&id, &event_id)
        })?;
        serde_json::to_vec(event).ok()
    });
    match record {
        Some(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        None => not_found("Event"),
    }
}

async fn export(State(shared): AppState, Path(id): Path<String>) -> Response {
    let id = session_key(&id);
    let tree = shared.read(|state| {
        let tree = state.store.tree(&id)?;
        serde_json::to_vec_pretty(&tree).ok()
    });
    let Some(body) = tree else {
        return not_found("Session");
    };
    let mut answer = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    // The id is a UUID or came back from the store; anything unsafe in a header is dropped.
    let name: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let disposition = format!("attachment; filename=\"session-{name}.json\"");
    if let Ok(value) = HeaderValue::try_from(disposition) {
        answer
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    answer
}

/// The summaries of the sessions changed after `since`, and the revision they bring it to.
fn changed(shared: &Shared, since: u64) -> (u64, Vec<Summary>) {
    shared.read(|state| {
        let store = &state.store;
        let ids = store.changed_since(since);
        let list = ids.iter().filter_map(|id| summary::summary(store, id));
        (store.revision(), list.collect())
    })
}

async fn live(
    State(shared): AppState,
    RawQuery(query): RawQuery,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // `since=<revision>`; anything else is from the start.
    let since = query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("since=")?.parse().ok())
        .unwrap_or(0);
    let changes = shared.live.subscribe();
    let start = (changes, since, VecDeque::new(), false);
    let stream = futures_util::stream::unfold(
        start,
        move |(mut changes, mut since, mut ready, mut sent)| {
            let shared = Arc::clone(&shared);
            async move {
                loop {
                    if let Some(summary) = ready.pop_front() {
                        let message = Event::default().event("session").json_data(&summary);
                        let message = message.unwrap_or_else(|_| Event::default().comment("?"));
                        return Some((Ok(message), (changes, since, ready, true)));
                    }
                    if sent {
                        tokio::time::sleep(LIVE_PAUSE).await;
                        sent = false;
                    }
                    // Marked seen before the store is read: a change after the read wakes us.
                    changes.borrow_and_update();
                    let (revision, list) = changed(&shared, since);
                    since = revision;
                    ready.extend(list);
                    if ready.is_empty() && changes.changed().await.is_err() {
                        return None;
                    }
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}
