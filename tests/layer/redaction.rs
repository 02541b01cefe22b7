//! The redaction hook: what it changes is what arrives, what it drops never leaves and is
//! counted, a session it drops takes its events with it, and a hook that panics drops.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use tracing::info_span;
use tracing_honeyhive::Stats;
use tracing_honeyhive::redact::{Outgoing, Verdict};

use crate::{Harness, object};

/// Every span queued is settled, the redacted among them.
#[track_caller]
fn assert_settled(stats: &Stats) {
    let settled = stats.delivered()
        + stats.refused()
        + stats.failed()
        + stats.dropped.shutdown
        + stats.dropped.unauthorized
        + stats.dropped.redacted;
    assert_eq!(settled, stats.spans_queued, "{stats:#?}");
    assert_eq!(stats.pending(), 0, "{stats:#?}");
}

#[test]
fn events_the_hook_changes_arrive_changed_and_those_it_drops_are_counted() {
    let harness = Harness::with(|b| {
        b.with_redaction(|outgoing| match outgoing {
            Outgoing::Event(event) if event.event_name.as_deref() == Some("health") => {
                Verdict::Drop
            }
            Outgoing::Event(event) => {
                if let Some(metadata) = &mut event.metadata {
                    metadata.remove("email");
                    metadata.insert("redacted".into(), json!(true));
                }
                Verdict::Send
            }
            Outgoing::Session(session) => {
                session.session_name = Some("renamed".into());
                Verdict::Send
            }
            _ => Verdict::Send,
        })
    });
    harness.run(|| {
        let _turn = info_span!("turn").entered();
        drop(info_span!("health").entered());
        drop(info_span!("lookup", email = "a@example.com", order = 7).entered());
    });
    let report = harness.flush();
    assert_eq!(report.redacted, 1, "{report:?}");
    assert_eq!(report.stats.dropped.redacted, 1);
    assert_eq!(report.stats.events_sent, 1);
    assert_settled(&report.stats);
    let lookup = harness.event("lookup");
    let metadata = object(&lookup.metadata);
    assert_eq!(metadata.get("email"), None);
    assert_eq!(metadata["order"], json!(7));
    assert_eq!(metadata["redacted"], json!(true));
    assert_eq!(
        harness.only_tree().event.event_name.as_deref(),
        Some("renamed")
    );
    let sent = harness.server.received_bodies();
    assert!(
        !sent.contains("a@example.com") && !sent.contains("health"),
        "{sent}"
    );
}

#[test]
fn a_session_the_hook_drops_sends_nothing_of_it_now_or_later() {
    let harness = Harness::with(|b| {
        b.with_batch_size(2)
            .with_redaction(|outgoing| match outgoing {
                Outgoing::Session(session)
                    if session.session_name.as_deref() == Some("private") =>
                {
                    Verdict::Drop
                }
                _ => Verdict::Send,
            })
    });
    harness.run(|| {
        // A long session: its first events go before the root closes, with its create.
        let private = info_span!("private");
        let _private = private.enter();
        for _ in 0..3 {
            drop(info_span!("step").entered());
        }
        std::thread::sleep(Duration::from_millis(300));
        for _ in 0..3 {
            drop(info_span!("step").entered());
        }
    });
    harness.run(|| drop(info_span!("public").entered()));
    let report = harness.flush();
    assert_eq!(
        report.stats.dropped.redacted, 7,
        "six steps and the root: {report:?}"
    );
    assert_eq!(report.stats.sessions_completed, 1, "the other session");
    assert_settled(&report.stats);
    let sessions = harness.server.sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].event_name.as_deref(), Some("public"));
    assert!(harness.server.events().is_empty());
}

#[test]
fn a_hook_that_panics_drops_what_it_was_shown_and_the_exporter_goes_on() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let harness = Harness::with(move |b| {
        b.with_redaction(move |outgoing| {
            seen.fetch_add(1, Ordering::Relaxed);
            match outgoing {
                Outgoing::Event(event) if event.event_name.as_deref() == Some("bad") => {
                    panic!("the hook failed")
                }
                _ => Verdict::Send,
            }
        })
    });
    harness.run(|| {
        let _turn = info_span!("turn").entered();
        drop(info_span!("bad").entered());
        drop(info_span!("good").entered());
    });
    let report = harness.flush();
    assert_eq!(report.stats.dropped.redacted, 1);
    assert_eq!(report.stats.events_sent, 1);
    assert_settled(&report.stats);
    assert_eq!(harness.event("good").event_name.as_deref(), Some("good"));
    assert!(calls.load(Ordering::Relaxed) >= 3);
}

#[test]
fn a_session_update_the_hook_drops_leaves_the_events_delivered() {
    let harness = Harness::with(|b| {
        b.with_batch_size(1)
            .with_redaction(|outgoing| match outgoing {
                Outgoing::SessionUpdate(_) => Verdict::Drop,
                _ => Verdict::Send,
            })
    });
    harness.run(|| {
        let root = info_span!("long", outputs.answer = "secret answer");
        let _root = root.enter();
        drop(info_span!("step").entered());
        // The step goes (a full batch) and creates the session before the root closes.
        std::thread::sleep(Duration::from_millis(300));
    });
    let report = harness.flush();
    assert_eq!(report.stats.events_sent, 1);
    assert_eq!(report.stats.dropped.redacted, 1, "the root's final state");
    assert_settled(&report.stats);
    assert!(harness.server.requests().iter().all(|r| r.method != "PUT"));
}
