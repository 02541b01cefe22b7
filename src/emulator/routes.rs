//! The routes, in the contract's order of checks: route, bearer auth, JSON object, schema, then
//! the store's rules.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::schema::Body as Schema;
use super::server::error;
use super::store::uuid;
use super::{KeyRefusal, Shared, json};

type AppState = State<Arc<Shared>>;

/// A refusal with the documented error body.
struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error(self.0, self.1)
    }
}

fn bad_request(message: impl Into<String>) -> Refusal {
    Refusal(StatusCode::BAD_REQUEST, message.into())
}

type Answer = Result<Json<Value>, Refusal>;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/sessions", post(create_session))
        .route("/v1/sessions/{session_id}", get(session_tree))
        .route(
            "/v1/sessions/{session_id}/events/batch",
            post(session_event_batch),
        )
        .route("/v1/events/{event_id}", put(update_event))
        .route("/v1/events/batch", post(events_batch))
        .route("/session/start", post(legacy_session_start))
        .route("/events", put(legacy_update_event))
        .route("/events/batch", post(legacy_events_batch))
        .route(super::HONEYHIVE_TRACES_PATH, post(super::otlp::ingest))
        .route(super::OTLP_TRACES_PATH, post(super::otlp::ingest))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            authorize,
        ))
        .merge(super::web::router(Arc::clone(&shared)))
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed on this route",
            )
        })
        .fallback(|| async { error(StatusCode::NOT_FOUND, "Route not found") })
        // The server applies the configured body limit before routing; none on top of it.
        .layer(DefaultBodyLimit::disable())
        .with_state(shared)
}

async fn authorize(State(shared): AppState, request: Request, next: Next) -> Response {
    let Some(key) = &shared.api_key else {
        return next.run(request).await;
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str());
    let refuse = |message: &str| match shared.key_refusal {
        KeyRefusal::Unauthorized => error(StatusCode::UNAUTHORIZED, message),
        KeyRefusal::NotFound => error(StatusCode::NOT_FOUND, "Not found"),
    };
    match given {
        None => refuse("Missing Authorization header"),
        Some(Ok(value))
            if value
                .strip_prefix("Bearer ")
                .is_some_and(|token| same_secret(token.as_bytes(), key.as_bytes())) =>
        {
            next.run(request).await
        }
        Some(_) => refuse("Invalid API key"),
    }
}

/// Whether `given` is `expected`, in a time that depends on the lengths only: every byte of
/// `expected` is compared, with no stop at the first difference, so that how long a refusal takes
/// does not tell how much of a guessed key was right.
pub(super) fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = u8::from(given.len() != expected.len());
    for (i, &byte) in expected.iter().enumerate() {
        let other = given.get(i).copied().unwrap_or(0);
        // `black_box` keeps the optimiser from turning the loop into an early exit.
        difference = std::hint::black_box(difference | (byte ^ other));
    }
    difference == 0
}

/// The id in the path, or a 400 with the documented error body (such as for invalid UTF-8).
fn path_id(path: Result<Path<String>, PathRejection>) -> Result<String, Refusal> {
    path.map(|Path(id)| id)
        .map_err(|rejection| bad_request(rejection.body_text()))
}

fn now_ms() -> f64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    since.as_millis() as f64
}

/// The body as a JSON object, or a 400 that says what it is instead.
fn object(bytes: &Bytes) -> Result<Map<String, Value>, Refusal> {
    let value = json::parse(bytes).map_err(|e| bad_request(format!("request body is {e}")))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(bad_request(format!(
            "request body must be a JSON object, not {}",
            kind(&other)
        ))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check(schema: Schema, body: &Map<String, Value>) -> Result<(), Refusal> {
    schema
        .check(&Value::Object(body.clone()))
        .map_err(bad_request)
}

/// HoneyHive replaces a present but non-numeric `start_time`/`end_time` of a session with now.
fn times_to_now(session: &mut Map<String, Value>, now: f64) {
    for key in ["start_time", "end_time"] {
        if session.get(key).is_some_and(|v| !v.is_number()) {
            session.insert(key.to_owned(), json!(now));
        }
    }
}

async fn create_session(State(shared): AppState, bytes: Bytes) -> Answer {
    let now = now_ms();
    let mut body = object(&bytes)?;
    times_to_now(&mut body, now);
    check(Schema::CreateSession, &body)?;
    let record = shared.lock().store.create_session(&body, now);
    Ok(Json(json!(record)))
}

async fn legacy_session_start(State(shared): AppState, bytes: Bytes) -> Answer {
    let now = now_ms();
    let mut body = object(&bytes)?;
    // openapi 1.1.0 sent the session as a JSON-encoded string; current clients send an object.
    if let Some(Value::String(encoded)) = body.get("session") {
        let decoded = json::parse(encoded.as_bytes()).map_err(|e| match e {
            json::Refused::TooDeep => bad_request(format!("session: the encoded session is {e}")),
            json::Refused::Invalid(e) => {
                bad_request(format!("session: not a JSON-encoded object: {e}"))
            }
        })?;
        body.insert("session".into(), decoded);
    }
    if let Some(Value::Object(session)) = body.get_mut("session") {
        times_to_now(session, now);
    }
    check(Schema::LegacySessionStart, &body)?;
    let Some(Value::Object(session)) = body.get("session") else {
        return Err(bad_request("session: must be an object"));
    };
    let record = shared.lock().store.create_session(session, now);
    Ok(Json(json!(record)))
}

async fn session_event_batch(
    State(shared): AppState,
    path: Result<Path<String>, PathRejection>,
    bytes: Bytes,
) -> Answer {
    let session_id = path_id(path)?;
    let session_id = uuid(&session_id).ok_or_else(|| {
        bad_request(format!(
            "session_id `{session_id}` in the path is not a valid UUID"
        ))
    })?;
    let body = object(&bytes)?;
    check(Schema::SessionEventBatch, &body)?;
    let mut state = shared.lock();
    if state.store.session(&session_id).is_none() {
        return Err(Refusal(StatusCode::NOT_FOUND, "Session not found".into()));
    }
    for event in events(&body) {
        state.store.add_event(&session_id, event);
    }
    Ok(Json(json!({"success": true})))
}

fn events(body: &Map<String, Value>) -> impl Iterator<Item = &Map<String, Value>> {
    body.get("events")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

async fn update_event(
    State(shared): AppState,
    path: Result<Path<String>, PathRejection>,
    bytes: Bytes,
) -> Answer {
    let event_id = path_id(path)?;
    let body = object(&bytes)?;
    check(Schema::UpdateEvent, &body)?;
    apply_update(&shared, &event_id, &body)
}

async fn legacy_update_event(State(shared): AppState, bytes: Bytes) -> Answer {
    let body = object(&bytes)?;
    let Some(event_id) = body
        .get("event_id")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return Err(bad_request(
            "invalid request body at event_id: a string is required",
        ));
    };
    check(Schema::UpdateEvent, &body)?;
    apply_update(&shared, &event_id, &body)
}

fn apply_update(shared: &Shared, event_id: &str, body: &Map<String, Value>) -> Answer {
    let id = uuid(event_id).unwrap_or_else(|| event_id.to_owned());
    if shared.lock().store.update_event(&id, body) {
        Ok(Json(json!({"success": true})))
    } else {
        Err(Refusal(StatusCode::NOT_FOUND, "Event not found".into()))
    }
}

async fn events_batch(State(shared): AppState, bytes: Bytes) -> Answer {
    let body = object(&bytes)?;
    check(Schema::EventsBatch, &body)?;
    Ok(Json(store_events_batch(&shared, &body)))
}

async fn legacy_events_batch(State(shared): AppState, bytes: Bytes) -> Answer {
    let mut body = object(&bytes)?;
    check(Schema::LegacyEventsBatch, &body)?;
    // The deprecated aliases of `single_session` and `session_properties`.
    for (alias, name) in [
        ("is_single_session", "single_session"),
        ("session", "session_properties"),
    ] {
        if let Some(value) = body.remove(alias) {
            body.entry(name).or_insert(value);
        }
    }
    Ok(Json(store_events_batch(&shared, &body)))
}

/// Cross-session batch. With `single_session`, one new session from `session_properties` holds
/// every event. Otherwise each event goes to the session it names (created if the server has not
/// seen it), and events naming none share one new session.
fn store_events_batch(shared: &Shared, body: &Map<String, Value>) -> Value {
    let now = now_ms();
    let mut state = shared.lock();
    let single = body.get("single_session").and_then(Value::as_bool) == Some(true);
    let shared_session = if single {
        let properties = body.get("session_properties").and_then(Value::as_object);
        let record = state
            .store
            .create_session(properties.unwrap_or(&Map::new()), now);
        record.session_id
    } else {
        None
    };
    let mut fresh = None;
    let mut event_ids = Vec::new();
    for event in events(body) {
        let session_id = match &shared_session {
            Some(id) => id.clone(),
            None => event
                .get("session_id")
                .and_then(Value::as_str)
                .and_then(uuid)
                .unwrap_or_else(|| {
                    fresh
                        .get_or_insert_with(|| Uuid::new_v4().to_string())
                        .clone()
                }),
        };
        state.store.ensure_session(&session_id, now);
        event_ids.push(state.store.add_event(&session_id, event));
    }
    match shared_session {
        Some(id) => json!({"event_ids": event_ids, "session_id": id, "success": true}),
        None => json!({"event_ids": event_ids, "success": true}),
    }
}

async fn session_tree(
    State(shared): AppState,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let session_id = match path_id(path) {
        Ok(id) => id,
        Err(refusal) => return refusal.into_response(),
    };
    let id = uuid(&session_id).unwrap_or(session_id);
    match shared.lock().store.tree(&id) {
        Some(tree) => Json(tree).into_response(),
        None => error(StatusCode::NOT_FOUND, "Session not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_compare_equal_only_when_every_byte_and_the_length_match() {
        let key = b"hh_0123456789abcdef";
        assert!(same_secret(key, key));
        assert!(same_secret(b"", b""));
        assert!(!same_secret(b"xh_0123456789abcdef", key), "first byte");
        assert!(!same_secret(b"hh_0123456789abcdeF", key), "last byte");
        assert!(!same_secret(b"hh_0123456789abcde", key), "a prefix");
        assert!(!same_secret(b"hh_0123456789abcdef0", key), "longer");
        assert!(!same_secret(b"", key), "empty given");
        assert!(!same_secret(key, b""), "empty expected");
        assert!(!same_secret(b"\0", b""), "a NUL byte is not nothing");
        assert!(!same_secret(b"", b"\0"), "nothing is not a NUL byte");
    }
}
