//! Late enrichment (`Handle::enrich_session`), the order of a session's requests, and a session's
//! end, which a joining turn never moves back.

use std::time::Duration;

use serde_json::json;
use tracing::info_span;
use tracing_honeyhive::wire::CreateSession;
use tracing_honeyhive::{Client, Enrichment};

use crate::{Harness, KEY, PATIENCE};

/// A client of the harness's server, as another process would have.
fn other_process(harness: &Harness) -> Client {
    Client::builder()
        .with_api_key(KEY)
        .with_api_url(harness.server.url())
        .build()
        .unwrap()
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn feedback_given_after_the_session_ended_lands_on_it_and_is_counted() {
    let harness = Harness::new();
    harness.run(|| {
        let _turn = info_span!("support chat", honeyhive.session_id = "thread-42").entered();
        drop(info_span!("answer").entered());
    });
    harness.flush();
    let id = tracing_honeyhive::ids::session_id_for_key("thread-42").to_string();
    // A minute later, from another request: by the key, and by the id.
    let handle = harness.guard.handle();
    handle.enrich_session(
        "thread-42",
        Enrichment::new().with_feedback(json!({"liked": true})),
    );
    handle.enrich_session(
        &id,
        Enrichment::new()
            .with_metrics(json!({"resolved": 1}))
            .with_error("the user reopened it"),
    );
    let report = harness.flush();
    assert_eq!(report.stats.lost(), 0, "{report:?}");
    assert_eq!(report.stats.pending(), 0, "{report:?}");
    let session = harness.server.session(&id).unwrap();
    assert_eq!(session.feedback, Some(json!({"liked": true})));
    assert_eq!(session.metrics, Some(json!({"resolved": 1})));
    assert_eq!(
        session.metadata.unwrap()["error"],
        "the user reopened it",
        "a session keeps an error in its metadata"
    );
    assert!(session.end_time.is_some(), "the end stays");
    let puts = harness
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .count();
    assert_eq!(
        puts, 2,
        "the turn's end, then one update for both late values"
    );
    assert_eq!(
        harness.server.sessions().len(),
        1,
        "no session is made for them"
    );
}

#[test]
fn a_session_another_process_created_is_updated_never_created() {
    let harness = Harness::new();
    let mut session = CreateSession::default();
    session.session_name = Some("from python".into());
    let created = block_on(other_process(&harness).create_session(&session)).unwrap();
    let before = harness.server.requests().len();
    harness.guard.handle().enrich_session(
        created.session_id,
        Enrichment::new().with_feedback(json!({"rating": 4})),
    );
    let report = harness.flush();
    assert_eq!(report.stats.lost(), 0, "{report:?}");
    let requests = harness.server.requests();
    let ours: Vec<(&str, &str)> = requests[before..]
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    let path = format!("/v1/events/{}", created.session_id);
    assert_eq!(ours, [("PUT", path.as_str())]);
    let session = harness
        .server
        .session(&created.session_id.to_string())
        .unwrap();
    assert_eq!(session.feedback, Some(json!({"rating": 4})));
    assert_eq!(session.event_name.as_deref(), Some("from python"));
}

#[test]
fn a_session_update_is_never_sent_before_its_create_was_answered() {
    // HoneyHive may apply an update that arrives before its create is durable out of order, and
    // lose it. With every answer 300 ms late, the session's update and the late feedback must
    // still arrive after the create's answer.
    let harness = Harness::with(|b| b.with_flush_interval(Duration::from_millis(10)));
    harness.server.set_latency(Duration::from_millis(300));
    harness.run(|| {
        let turn = info_span!("turn", honeyhive.session_id = "thread-7");
        drop(info_span!(parent: &turn, "step").entered());
        drop(turn);
    });
    harness.guard.handle().enrich_session(
        "thread-7",
        Enrichment::new().with_feedback(json!({"ok": 1})),
    );
    harness.guard.flush(PATIENCE).unwrap();
    let requests = harness.server.requests();
    let create = requests
        .iter()
        .find(|r| r.path == "/v1/sessions")
        .expect("created");
    let updates: Vec<_> = requests.iter().filter(|r| r.method == "PUT").collect();
    assert!(!updates.is_empty());
    for update in updates {
        let after = update.received_at.duration_since(create.received_at);
        assert!(
            after >= Duration::from_millis(300),
            "an update came {after:?} after its create, before the create was answered"
        );
    }
    let id = tracing_honeyhive::ids::session_id_for_key("thread-7").to_string();
    assert_eq!(
        harness.server.session(&id).unwrap().feedback,
        Some(json!({"ok": 1}))
    );
}

#[test]
fn a_joining_turn_that_ends_sooner_never_moves_the_session_end_back() {
    // Another service's session ran 10 s, its end written; then a turn joins it here and ends
    // at once. Before, the turn's update set the session's end to its own, cutting it short.
    let harness = Harness::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as f64;
    let (start, end) = (now - 5_000.0, now + 5_000.0);
    let mut session = CreateSession::default();
    session.session_name = Some("python service".into());
    session.start_time = Some(start as i64);
    session.end_time = Some(end as i64);
    session.duration = Some(end - start);
    let created = block_on(other_process(&harness).create_session(&session)).unwrap();
    let id = created.session_id.to_string();
    harness.run(|| {
        let _turn = info_span!("rust turn", honeyhive.session_id = id.as_str()).entered();
    });
    harness.flush();
    let session = harness.server.session(&id).unwrap();
    assert_eq!(session.end_time, Some(end), "{session:#?}");
    assert_eq!(session.duration, Some(end - start));
    assert_eq!(harness.server.events_of(&id).len(), 1, "the turn arrived");

    // Two turns of one conversation in this process: the session ends with the later one.
    harness.run(|| {
        for turn in ["first", "second"] {
            let _turn = info_span!("turn", honeyhive.session_id = "conversation-9", turn).entered();
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    harness.flush();
    let id = tracing_honeyhive::ids::session_id_for_key("conversation-9").to_string();
    let events = harness.server.events_of(&id);
    let last_end = events.iter().filter_map(|e| e.end_time).fold(0.0, f64::max);
    let session = harness.server.session(&id).unwrap();
    assert_eq!(session.end_time, Some(last_end), "{session:#?}");
}

#[test]
fn feedback_for_a_session_the_server_does_not_have_is_counted_failed_and_creates_nothing() {
    let harness = Harness::new();
    let unknown = uuid::Uuid::new_v4();
    harness.guard.handle().enrich_session(
        unknown,
        Enrichment::new().with_feedback(json!({"liked": false})),
    );
    // Settled (refused for good): a flush reports it as failed.
    let report = harness.guard.flush(PATIENCE).unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
    assert_eq!(report.stats.events_failed, 1, "{report:?}");
    assert!(harness.server.sessions().is_empty(), "nothing created");
    let methods: Vec<String> = harness
        .server
        .requests()
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(methods, ["PUT"], "one update, answered 404, and no create");
}

#[test]
fn a_rating_given_for_an_answer_after_it_ended_lands_on_its_event() {
    let harness = Harness::with(|b| b.with_flush_interval(Duration::from_secs(5)));
    // The answer's ids, as an application keeps them to rate it later.
    let ids = harness.run(|| {
        let _turn = info_span!("support chat").entered();
        let answer = info_span!("answer", outputs.text = "It shipped.");
        let ids = tracing_honeyhive::propagation::SessionContext::from_span(&answer);
        drop(answer);
        ids
    });
    let (session, event) = (ids.session_id.unwrap(), ids.parent_id.unwrap());
    // Queued before the answer's own batch went out (the flush interval is long): the update
    // follows it.
    harness.guard.handle().enrich_event(
        &session,
        event,
        Enrichment::new()
            .with_feedback(json!({"rating": 2}))
            .with_metrics(json!({"helpful": false})),
    );
    let report = harness.flush();
    assert_eq!(report.stats.lost(), 0, "{report:?}");
    assert_eq!(report.stats.pending(), 0, "{report:?}");
    let answer = harness.event("answer");
    assert_eq!(answer.event_id, Some(event.to_string()));
    assert_eq!(answer.feedback, Some(json!({"rating": 2})));
    assert_eq!(answer.metrics, Some(json!({"helpful": false})));
    assert_eq!(answer.outputs, Some(json!({"text": "It shipped."})));
    let requests = harness.server.requests();
    let batch = requests
        .iter()
        .position(|r| r.path.ends_with("/events/batch"))
        .unwrap();
    let update = requests
        .iter()
        .position(|r| r.path == format!("/v1/events/{event}"))
        .unwrap();
    assert!(batch < update, "the update follows the event's batch");
}
