//! Delivery under concurrency, overflow, server failures and shutdown.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use tracing::{Instrument, info_span};
use tracing_honeyhive::emulator::{Emulator, Fault};
use tracing_honeyhive::{FlushError, HoneyHiveLayer};
use tracing_subscriber::layer::SubscriberExt;

use crate::common::closed_url;
use crate::{Harness, KEY, PATIENCE};

/// Asserts every event on the server arrived once, and returns the count per session name.
fn events_per_session(server: &Emulator) -> HashMap<String, usize> {
    assert_eq!(server.repeated_events(), 0, "no event was sent twice");
    let ids: Vec<String> = server
        .events()
        .iter()
        .map(|e| e.event_id.clone().unwrap())
        .collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "event ids are unique");
    let mut counts = HashMap::new();
    for session in server.sessions() {
        let id = session.session_id.unwrap();
        counts.insert(session.event_name.unwrap(), server.events_of(&id).len());
    }
    counts
}

#[test]
fn many_concurrent_sessions_from_8_threads_are_each_delivered_exactly_once() {
    const THREADS: usize = 8;
    const SESSIONS: usize = 40;
    const EVENTS: usize = 6;
    // Room for the whole burst: every span is to be delivered.
    let harness = Harness::with(|b| b.with_batch_size(4).with_queue_capacity(4096));
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let dispatch = harness.dispatch.clone();
            scope.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for session in 0..SESSIONS {
                        let name = format!("t{thread}-s{session}");
                        let _root =
                            info_span!("session", honeyhive.session_name = name.as_str()).entered();
                        for event in 0..EVENTS {
                            let _e = info_span!("step", event).entered();
                        }
                    }
                });
            });
        }
    });
    let report = harness.flush();
    let total = THREADS * SESSIONS * (EVENTS + 1);
    eprintln!(
        "8 threads: {total} spans produced, {} delivered, {} events on the server, {} repeats, {} requests",
        report.delivered,
        harness.server.events().len(),
        harness.server.repeated_events(),
        harness.server.requests().len()
    );
    // The flush reports what it delivered; on a loaded machine some sessions went before it
    // was asked, so the counters, not the report, say that every span landed.
    assert!(report.is_complete(), "{report:?}");
    let stats = report.stats;
    assert_eq!(stats.delivered(), total as u64, "{stats:?}");
    assert_eq!(stats.spans_queued, total as u64);
    assert_eq!(stats.events_sent, (THREADS * SESSIONS * EVENTS) as u64);
    assert_eq!(stats.sessions_completed, (THREADS * SESSIONS) as u64);
    assert_eq!(stats.lost(), 0, "{stats:?}");
    let counts = events_per_session(&harness.server);
    assert_eq!(counts.len(), THREADS * SESSIONS);
    assert!(counts.values().all(|&n| n == EVENTS), "{counts:?}");
}

#[test]
fn many_sessions_from_tokio_tasks_are_each_delivered_exactly_once() {
    use tracing::instrument::WithSubscriber;
    const TASKS: usize = 200;
    let harness = Harness::new();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for task in 0..TASKS {
            let name = format!("task {task}");
            let root = harness.run(|| info_span!("turn", honeyhive.session_name = name.as_str()));
            let work = async move {
                for step in 0..3 {
                    async { tokio::task::yield_now().await }
                        .instrument(info_span!("step", step))
                        .await;
                }
            };
            let work = work
                .instrument(root)
                .with_subscriber(harness.dispatch.clone());
            tasks.push(tokio::spawn(work));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
    let report = harness.flush();
    eprintln!(
        "tokio tasks: {} spans produced, {} delivered, {} events on the server, {} repeats",
        TASKS * 4,
        report.delivered,
        harness.server.events().len(),
        harness.server.repeated_events()
    );
    assert_eq!(report.stats.delivered(), (TASKS * 4) as u64, "{report:?}");
    let counts = events_per_session(&harness.server);
    assert_eq!(counts.len(), TASKS);
    assert!(counts.values().all(|&n| n == 3), "{counts:?}");
}

/// A session of `children` spans closing at once into a queue of `capacity`, against a server
/// answering after `latency`, one request at a time.
fn flooded(capacity: usize, latency: Duration, children: usize) -> Harness {
    let server = Emulator::builder().with_api_key(KEY).start().unwrap();
    server.set_latency(latency);
    let harness = Harness::on(server, |b| {
        b.with_queue_capacity(capacity)
            .with_batch_size(1)
            .with_max_concurrent_requests(1)
    });
    harness.run(|| {
        let _root = info_span!("flood").entered();
        for i in 0..children {
            let _child = info_span!("child", i).entered();
        }
    });
    harness
}

#[test]
fn overflow_is_counted_exactly_delivered_plus_dropped_equals_produced() {
    const CHILDREN: usize = 400;
    let harness = flooded(8, Duration::from_millis(20), CHILDREN);
    let (server, report) = harness.shutdown(PATIENCE);
    let stats = report.stats;
    let produced = (CHILDREN + 1) as u64;
    eprintln!(
        "overflow: {produced} spans produced, {} queued, {} dropped (queue full), {} events and {} session delivered",
        stats.spans_queued,
        stats.dropped.queue_full,
        server.events().len(),
        stats.sessions_completed
    );
    assert!(
        stats.dropped.queue_full > 0,
        "the queue overflowed: {stats:?}"
    );
    assert_eq!(
        stats.spans_queued + stats.dropped.queue_full,
        produced,
        "{stats:?}"
    );
    assert_eq!(report.undelivered, 0, "{report:?}");
    assert_eq!(stats.dropped.shutdown, 0, "{stats:?}");
    let delivered_events = server.events().len() as u64;
    assert_eq!(stats.events_sent, delivered_events);
    assert_eq!(
        delivered_events + stats.sessions_completed + stats.dropped.queue_full,
        produced,
        "{stats:?}"
    );
    assert_eq!(server.repeated_events(), 0);
}

#[test]
fn under_overload_whole_traces_get_through_rather_than_fragments() {
    // 300 traces of a root and 9 children into room for 200 spans, against a server that takes
    // a session at a time. Were room let in a span at a time as each session settled, nearly
    // every delivered session would be a fragment (about four in five were, before the queue
    // refilled from three quarters). Now a trace is taken or turned away whole when it starts,
    // and only a trace taken just before the queue filled can lose a span.
    const TRACES: usize = 300;
    const CHILDREN: usize = 9;
    let server = Emulator::builder().with_api_key(KEY).start().unwrap();
    server.set_latency(Duration::from_millis(10));
    let harness = Harness::on(server, |b| {
        b.with_queue_capacity(200)
            .with_batch_size(CHILDREN)
            .with_max_concurrent_requests(1)
    });
    harness.run(|| {
        for t in 0..TRACES {
            let _root = info_span!("trace", t).entered();
            for c in 0..CHILDREN {
                drop(info_span!("step", c).entered());
                // Spread over time, so that the queue drains and refills many times.
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    });
    let (server, report) = harness.shutdown(PATIENCE);
    let stats = report.stats;
    assert!(stats.dropped.queue_full > 0, "overloaded: {stats:?}");
    assert_eq!(
        stats.spans_queued + stats.dropped.queue_full,
        (TRACES * (CHILDREN + 1)) as u64,
        "{stats:?}"
    );
    let sessions = server.sessions();
    // Whole: its root closed (the session has its end) and every child came.
    let whole = sessions
        .iter()
        .filter(|s| s.end_time.is_some() && s.duration.is_some())
        .filter(|s| server.events_of(s.session_id.as_ref().unwrap()).len() == CHILDREN)
        .count();
    eprintln!(
        "overload: {} sessions delivered, {whole} of them whole; {stats:?}",
        sessions.len()
    );
    assert!(
        whole * 5 >= sessions.len() * 4,
        "four in five delivered sessions at least are whole traces: {whole} of {}",
        sessions.len()
    );
}

#[test]
fn a_trace_starting_while_the_queue_refills_is_turned_away_whole_and_counted() {
    // Room for 8 spans, and a server slow enough that nothing held settles while the test runs:
    // the first trace fills the queue; the second starts while it is still full.
    let server = Emulator::builder().with_api_key(KEY).start().unwrap();
    server.set_latency(Duration::from_millis(400));
    let harness = Harness::on(server, |b| b.with_queue_capacity(8));
    // Counts how often the layer reads a value: a trace turned away must cost no recording.
    let reads = std::sync::atomic::AtomicUsize::new(0);
    struct Counted<'a>(&'a std::sync::atomic::AtomicUsize);
    impl std::fmt::Display for Counted<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            f.write_str("read")
        }
    }
    let read = || reads.load(std::sync::atomic::Ordering::Relaxed);
    harness.run(|| {
        let _first = info_span!("first", value = %Counted(&reads)).entered();
        for i in 0..10 {
            drop(info_span!("step", i).entered());
        }
    });
    assert!(read() > 0, "a trace taken is recorded");
    let before = read();
    let filled = harness.guard.stats();
    // The root's end, whose room was set aside when the trace started, and 7 children held;
    // the other three children found no room.
    assert_eq!(filled.spans_queued, 8, "{filled:?}");
    assert_eq!(filled.dropped.queue_full, 3, "{filled:?}");
    harness.run(|| {
        let _second = info_span!("second", answer = %Counted(&reads)).entered();
        for i in 0..3 {
            let _step = info_span!("step", i, value = %Counted(&reads)).entered();
            tracing::info!(value = %Counted(&reads), "inside a trace turned away");
        }
    });
    assert_eq!(read(), before, "nothing of a trace turned away is read");
    let refused = harness.guard.stats();
    assert_eq!(
        refused.spans_queued, 8,
        "nothing of the second trace: {refused:?}"
    );
    assert_eq!(refused.dropped.queue_full, 3 + 4, "{refused:?}");
    harness.guard.flush(PATIENCE).unwrap();
    // Drained: a trace is taken whole again.
    harness.run(|| {
        let _third = info_span!("third").entered();
        drop(info_span!("step").entered());
    });
    let (server, report) = harness.shutdown(PATIENCE);
    let stats = report.stats;
    assert_eq!(stats.spans_queued, 10, "{stats:?}");
    assert_eq!(stats.dropped.queue_full, 7, "{stats:?}");
    assert_eq!(report.undelivered, 0, "{report:?}");
    let names: Vec<String> = server
        .sessions()
        .iter()
        .filter_map(|s| s.event_name.clone())
        .collect();
    assert!(!names.iter().any(|n| n == "second"), "{names:?}");
    assert!(names.iter().any(|n| n == "third"), "{names:?}");
    assert_eq!(server.events().len(), 7 + 1);
    let first = server
        .sessions()
        .into_iter()
        .find(|s| s.event_name.as_deref() == Some("first"))
        .unwrap();
    assert!(first.end_time.is_some(), "the first trace got its end");
}

#[test]
fn a_full_queue_is_reported_in_the_application_log() {
    let harness = flooded(2, Duration::from_millis(50), 200);
    let dropped = harness.guard.stats().dropped.queue_full;
    assert!(dropped > 0);
    let warned = || {
        harness
            .diagnostics
            .messages()
            .iter()
            .any(|(level, m)| *level == tracing::Level::WARN && m.contains("queue was full"))
    };
    let deadline = Instant::now() + PATIENCE;
    while !warned() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(warned(), "{:?}", harness.diagnostics.messages());
}

#[test]
fn retry_after_is_honoured_before_the_session_is_sent_again() {
    let harness = Harness::with_faults([Fault::status(429)
        .with_retry_after("1")
        .on_path("/v1/sessions")]);
    harness.run(|| drop(info_span!("throttled").entered()));
    let started = Instant::now();
    let report = harness.flush();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as asked"
    );
    assert_eq!(report.stats.delivered(), 1);
    assert_eq!(report.stats.requests_retried, 1);
    let statuses: Vec<Option<u16>> = harness.server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(429), Some(200)]);
}

#[test]
fn server_errors_and_dropped_connections_are_retried_until_delivered() {
    let harness = Harness::with_faults([
        Fault::status(503).times(2).on_path("/v1/sessions/"),
        Fault::drop_connection().on_path("/v1/sessions/"),
        Fault::status(500).on_path("/v1/sessions/"),
    ]);
    harness.run(|| {
        let _root = info_span!("flaky").entered();
        let _step = info_span!("step").entered();
    });
    let report = harness.flush();
    assert_eq!(report.stats.delivered(), 2);
    assert_eq!(report.stats.requests_retried, 4);
    assert_eq!(harness.server.events().len(), 1);
    assert_eq!(harness.server.repeated_events(), 0);
}

#[test]
fn a_batch_answered_404_re_creates_its_session_and_is_sent_again() {
    let harness = Harness::with(|b| b.with_flush_interval(Duration::from_millis(20)));
    let root = harness.run(|| info_span!("long", outputs.result = tracing::field::Empty));
    harness.run(|| drop(info_span!(parent: &root, "before").entered()));
    assert!(
        harness
            .server
            .wait_until(PATIENCE, |s| s.events().len() == 1)
    );
    // The server forgets the session (it restarted, or the session expired).
    harness.server.clear();
    harness.run(|| {
        drop(info_span!(parent: &root, "after").entered());
        root.record("outputs.result", "ok");
        drop(root);
    });
    let report = harness.flush();
    assert!(report.is_complete(), "{report:?}");
    let session = &harness.server.sessions()[0];
    assert_eq!(session.outputs, Some(serde_json::json!({"result": "ok"})));
    let id = session.session_id.clone().unwrap();
    let names: Vec<String> = harness
        .server
        .events_of(&id)
        .iter()
        .map(|e| e.event_name.clone().unwrap())
        .collect();
    assert_eq!(names, ["after"]);
    let statuses: Vec<(String, Option<u16>)> = harness
        .server
        .requests()
        .iter()
        .map(|r| (r.method.clone(), r.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("POST".to_owned(), Some(404)),
            ("POST".to_owned(), Some(200)),
            ("POST".to_owned(), Some(200)),
            ("PUT".to_owned(), Some(200)),
        ]
    );
}

#[test]
fn a_batch_answered_400_is_split_so_only_the_refused_event_is_lost() {
    // The whole batch, its first half and the first event alone are refused; the rest is fine.
    let harness = Harness::with_faults([Fault::status(400)
        .with_body(
            "application/json",
            r#"{"statusCode":400,"message":"event too odd","success":false}"#,
        )
        .times(3)
        .on_path("/v1/sessions/")]);
    harness.run(|| {
        let _root = info_span!("root").entered();
        for name in ["a", "b", "c", "d"] {
            drop(info_span!("step", honeyhive.event_name = name).entered());
        }
    });
    let report = harness.flush();
    assert_eq!(report.stats.refused(), 1, "{report:?}");
    assert_eq!(report.stats.delivered(), 4, "three events and the session");
    assert_eq!(report.stats.events_rejected, 1);
    assert_eq!(
        report.stats.requests_retried, 0,
        "a 400 is not retried as is"
    );
    let mut names: Vec<String> = harness
        .server
        .events()
        .iter()
        .map(|e| e.event_name.clone().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["b", "c", "d"]);
    let messages = harness.diagnostics.messages();
    let refusals: Vec<&String> = messages
        .iter()
        .filter(|(_, m)| m.contains("refused event"))
        .map(|(_, m)| m)
        .collect();
    assert_eq!(refusals.len(), 1, "{messages:?}");
    assert!(
        refusals[0].contains("`a`") && refusals[0].contains("event too odd"),
        "{refusals:?}"
    );
}

#[test]
fn an_event_too_large_for_the_server_is_rejected_alone() {
    let server = Emulator::builder()
        .with_api_key(KEY)
        .with_body_limit(16 * 1024)
        .start()
        .unwrap();
    let harness = Harness::on(server, |b| b);
    let big = "y".repeat(40 * 1024);
    harness.run(|| {
        let _root = info_span!("root").entered();
        drop(info_span!("small 1").entered());
        drop(info_span!("huge", inputs.document = big.as_str()).entered());
        drop(info_span!("small 2").entered());
    });
    let report = harness.flush();
    assert_eq!(report.stats.events_rejected, 1, "{report:?}");
    let mut names: Vec<String> = harness
        .server
        .events()
        .iter()
        .map(|e| e.event_name.clone().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["small 1", "small 2"]);
}

#[test]
fn a_refused_session_create_is_sent_again_in_its_smallest_form() {
    let harness = Harness::with_faults([Fault::status(400).on_path("/v1/sessions")]);
    harness.run(|| {
        let _root = info_span!("root", inputs.q = "x", metadata.m = 1).entered();
        drop(info_span!("step").entered());
    });
    let report = harness.flush();
    assert_eq!(
        report.stats.events_sent, 1,
        "the events still land: {report:?}"
    );
    let creates: Vec<serde_json::Value> = harness
        .server
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/sessions")
        .map(|r| r.json().unwrap())
        .collect();
    assert_eq!(creates.len(), 2);
    assert!(creates[0].get("inputs").is_some());
    assert!(creates[1].get("inputs").is_none(), "{}", creates[1]);
    assert!(
        harness
            .diagnostics
            .messages()
            .iter()
            .any(|(_, m)| m.contains("refused session")),
        "{:?}",
        harness.diagnostics.messages()
    );
}

#[test]
fn a_wrong_api_key_fails_the_session_counts_it_and_says_so() {
    let server = Emulator::builder().with_api_key(KEY).start().unwrap();
    let harness = Harness::on(server, |b| b.with_api_key("hh_wrong_key_0123456789abcdef"));
    harness.run(|| {
        let _root = info_span!("root").entered();
        drop(info_span!("step").entered());
    });
    let report = harness.flush();
    assert_eq!(report.stats.dropped.unauthorized, 2, "{report:?}");
    assert_eq!(report.stats.sessions_failed + report.stats.events_failed, 0);
    let messages = harness.diagnostics.messages();
    assert!(
        messages.iter().any(|(_, m)| m.contains("401")),
        "{messages:?}"
    );
    assert!(
        messages.iter().all(|(_, m)| !m.contains("hh_wrong_key")),
        "the key is never logged: {messages:?}"
    );
}

#[test]
fn an_unreachable_server_costs_the_application_nothing_and_losses_are_counted() {
    let url = closed_url();
    let (layer, guard) = HoneyHiveLayer::builder()
        .with_api_url(url)
        .with_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        for _ in 0..10 {
            let _root = info_span!("root").entered();
            drop(info_span!("step").entered());
        }
    });
    match guard.flush(Duration::from_millis(300)) {
        Err(FlushError::Timeout { report, .. }) => assert!(report.undelivered > 0, "{report:?}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    let handle = guard.handle();
    let report = guard.shutdown(Duration::from_millis(200));
    assert_eq!(report.stats.spans_queued, 20);
    assert_eq!(report.stats.lost(), 20, "{report:?}");
    assert!(report.stats.requests_retried > 0);
    // Spans that close after shutdown are counted too; flushing is refused.
    tracing::dispatcher::with_default(&dispatch, || drop(info_span!("late").entered()));
    assert_eq!(handle.stats().dropped.after_shutdown, 1);
    assert_eq!(
        handle.stats().dropped.shutdown,
        report.stats.dropped.shutdown
    );
    assert_eq!(handle.stats().pending(), 0);
    assert!(matches!(
        handle.flush(Duration::from_millis(10)),
        Err(FlushError::ShutDown)
    ));
}

#[test]
fn a_flush_that_times_out_says_what_is_left_and_delivery_goes_on() {
    let server = Emulator::builder().with_api_key(KEY).start().unwrap();
    server.set_latency(Duration::from_millis(600));
    let harness = Harness::on(server, |b| b);
    harness.run(|| drop(info_span!("slow").entered()));
    match harness.guard.flush(Duration::from_millis(100)) {
        Err(FlushError::Timeout { report, timeout }) => {
            assert_eq!(timeout, Duration::from_millis(100));
            assert_eq!(report.undelivered, 1, "{report:?}");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    harness.server.set_latency(Duration::ZERO);
    assert_eq!(harness.flush().stats.sessions_completed, 1);
}

async fn traced_work(dispatch: tracing::Dispatch) {
    use tracing::instrument::WithSubscriber;
    async {
        let root = info_span!("async root");
        async {
            tokio::task::yield_now().await;
            drop(info_span!("inner").entered());
        }
        .instrument(root)
        .await;
    }
    .with_subscriber(dispatch)
    .await;
}

#[tokio::test(flavor = "current_thread")]
async fn dropping_the_guard_inside_a_current_thread_runtime_delivers_and_does_not_panic() {
    let Harness {
        server,
        guard,
        dispatch,
        ..
    } = Harness::new();
    traced_work(dispatch).await;
    drop(guard);
    assert_eq!(server.sessions().len(), 1);
    assert_eq!(server.events().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_inside_a_multi_thread_runtime_delivers_and_does_not_panic() {
    let harness = Harness::new();
    traced_work(harness.dispatch.clone()).await;
    let (server, report) = harness.shutdown(PATIENCE);
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.stats.delivered(), 2);
    assert_eq!(server.events().len(), 1);
}

#[test]
fn a_job_cut_off_at_the_shutdown_deadline_counts_what_it_delivered_once() {
    // The session's final update is throttled far beyond the shutdown deadline.
    let harness = Harness::with_faults([Fault::status(503)
        .with_retry_after("30")
        .on_path("/v1/events/")]);
    harness.run(|| {
        let _root = info_span!("root", metrics.turns = 2).entered();
        drop(info_span!("first").entered());
        drop(info_span!("second").entered());
    });
    let (server, report) = harness.shutdown(Duration::from_millis(800));
    let stats = report.stats;
    assert_eq!(server.events().len(), 2);
    assert_eq!(stats.events_sent, 2, "{stats:?}");
    assert_eq!(
        stats.dropped.shutdown, 1,
        "only the session's end: {stats:?}"
    );
    assert_eq!(report.stats.delivered(), 2, "{report:?}");
    assert_eq!(report.undelivered, 1, "{report:?}");
    assert_eq!(
        stats.spans_queued,
        stats.events_sent + stats.sessions_completed + stats.lost()
    );
}

/// `sessions` sessions of `events` children each, sent across sessions. Nothing is sent before
/// the test flushes, however busy the machine: the batches are then the same on every run.
fn across_sessions(server: Emulator, sessions: usize, events: usize) -> Harness {
    let harness = Harness::on(server, |b| {
        b.with_cross_session_batches(true)
            .with_flush_interval(Duration::from_secs(60))
    });
    harness.run(|| {
        for s in 0..sessions {
            let _root = info_span!("turn", s).entered();
            for e in 0..events {
                drop(info_span!("step", e, honeyhive.event_name = "step").entered());
            }
        }
    });
    harness
}

fn requests_to(server: &Emulator, path: impl Fn(&str) -> bool) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && path(&r.path))
        .count()
}

#[test]
fn cross_session_batches_carry_many_sessions_events_in_few_requests() {
    const SESSIONS: usize = 30;
    const EVENTS: usize = 5;
    let server = Emulator::builder().with_api_key(KEY).start().unwrap();
    let harness = across_sessions(server, SESSIONS, EVENTS);
    let report = harness.flush();
    assert!(report.is_complete(), "{report:?}");
    let stats = report.stats;
    assert_eq!(
        stats.delivered(),
        (SESSIONS * (EVENTS + 1)) as u64,
        "{stats:?}"
    );
    assert_eq!(stats.events_sent, (SESSIONS * EVENTS) as u64);
    let server = &harness.server;
    // Every event in its own session, under the session.
    let mut counts: HashMap<String, usize> = HashMap::new();
    for event in server.events() {
        *counts.entry(event.session_id.clone().unwrap()).or_default() += 1;
    }
    assert_eq!(counts.len(), SESSIONS, "{counts:?}");
    assert!(counts.values().all(|&n| n == EVENTS), "{counts:?}");
    for event in server.events() {
        assert_eq!(event.parent_id, event.session_id, "{event:?}");
    }
    let batches = requests_to(server, |p| p == "/v1/events/batch");
    let own_route = requests_to(server, |p| {
        p.ends_with("/events/batch") && p != "/v1/events/batch"
    });
    eprintln!(
        "{SESSIONS} sessions of {EVENTS} events: {batches} cross-session batches, {} creates",
        requests_to(server, |p| p == "/v1/sessions")
    );
    assert_eq!(own_route, 0, "no session's own route");
    assert!(batches > 0, "the cross-session route carried the events");
    assert!(
        batches < SESSIONS,
        "fewer batches than sessions: {batches} for {SESSIONS}"
    );
    assert_eq!(server.repeated_events(), 0);
}

#[test]
fn a_cross_session_batch_answered_400_is_split_and_one_failing_with_503_retried() {
    let server = Emulator::builder().with_api_key(KEY).start().unwrap();
    // The first batch (12 events) is refused whole, then its first half, quarter and event
    // alone; later, one batch meets a 503 once.
    server.inject(
        Fault::status(400)
            .with_body(
                "application/json",
                r#"{"statusCode":400,"message":"event too odd","success":false}"#,
            )
            .times(4)
            .on_path("/v1/events/batch"),
    );
    let harness = across_sessions(server, 4, 3);
    let report = harness.flush();
    let stats = report.stats;
    assert_eq!(stats.events_rejected, 1, "{stats:?}");
    assert_eq!(stats.events_sent, 11, "{stats:?}");
    assert_eq!(stats.sessions_completed, 4, "{stats:?}");
    let refusals = harness
        .diagnostics
        .messages()
        .iter()
        .filter(|(_, m)| m.contains("refused event") && m.contains("event too odd"))
        .count();
    assert_eq!(refusals, 1);

    harness
        .server
        .inject(Fault::status(503).on_path("/v1/events/batch"));
    harness.run(|| {
        let _root = info_span!("again").entered();
        drop(info_span!("step").entered());
    });
    let report = harness.flush();
    let stats = report.stats;
    assert!(stats.requests_retried >= 1, "{stats:?}");
    assert_eq!(stats.events_sent, 12, "{stats:?}");
    assert_eq!(stats.pending(), 0, "{stats:?}");
    assert_eq!(
        stats.produced(),
        stats.delivered() + stats.refused() + stats.failed() + stats.dropped.total(),
        "{stats:?}"
    );
}

#[test]
fn spans_after_a_quiet_time_wake_the_exporter_before_the_queue_fills() {
    // The exporter's own timer is slow here (a quarter of the 10 s flush interval): only the
    // wake-up at an eighth of the capacity takes the spans in before 32 are held.
    let harness = Harness::with(|b| {
        b.with_queue_capacity(32)
            .with_flush_interval(Duration::from_secs(10))
    });
    std::thread::sleep(Duration::from_millis(300));
    harness.run(|| {
        for i in 0..100 {
            drop(info_span!("turn", i).entered());
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    let stats = harness.guard.stats();
    assert_eq!(stats.dropped.queue_full, 0, "{stats:?}");
    let report = harness.flush();
    assert_eq!(report.stats.sessions_completed, 100, "{report:?}");
}

#[test]
fn cross_session_creates_go_side_by_side_within_the_bound_on_requests() {
    const LATENCY: Duration = Duration::from_millis(300);
    let server = Emulator::builder().with_api_key(KEY).start().unwrap();
    server.set_latency(LATENCY);
    let harness = Harness::on(server, |b| {
        b.with_cross_session_batches(true)
            .with_max_concurrent_requests(2)
    });
    harness.run(|| {
        for s in 0..6 {
            let _root = info_span!("turn", s).entered();
            drop(info_span!("step").entered());
        }
    });
    let report = harness.flush();
    assert_eq!(report.stats.delivered(), 12, "{report:?}");
    let mut creates: Vec<Instant> = harness
        .server
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/sessions")
        .map(|r| r.received_at)
        .collect();
    creates.sort();
    assert_eq!(creates.len(), 6);
    // Two at a time: the second comes before the first is answered, and a third only after.
    let overlapping = creates.windows(2).any(|w| w[1] - w[0] < LATENCY);
    assert!(overlapping, "the creates went one by one: {creates:?}");
    for w in creates.windows(3) {
        assert!(
            w[2] - w[0] >= LATENCY,
            "more than 2 requests at once: {creates:?}"
        );
    }
}
