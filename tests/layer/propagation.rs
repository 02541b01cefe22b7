//! One session across services: two Rust services over HTTP on loopback, each with a layer of
//! its own, and a request carrying the baggage HoneyHive's Python SDK sends.

use std::net::SocketAddr;
use std::thread::JoinHandle;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use tracing::{Instrument, info_span};
use tracing_honeyhive::propagation::SessionContext;
use tracing_honeyhive::{Guard, HoneyHiveLayer};
use tracing_subscriber::layer::SubscriberExt;
use uuid::Uuid;

use crate::common::outline;
use crate::{Harness, KEY, PATIENCE};

/// Service B: an axum server on a port of its own, on a thread whose default subscriber has
/// B's own layer, sending to the same server as the test's. Its handler joins the session a
/// request names, and does one tool call inside it.
struct ServiceB {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: JoinHandle<Guard>,
}

impl ServiceB {
    fn start(api_url: String) -> ServiceB {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (bound, addr) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let (layer, guard) = HoneyHiveLayer::builder()
                .with_api_key(KEY)
                .with_api_url(api_url)
                .with_source("service-b")
                .with_flush_interval(std::time::Duration::from_millis(100))
                .build()
                .expect("B's layer builds");
            let _default =
                tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                bound.send(listener.local_addr().unwrap()).unwrap();
                let app = Router::new().route("/answer", get(answer));
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
            guard
        });
        ServiceB {
            addr: addr.recv().unwrap(),
            stop,
            thread,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/answer", self.addr)
    }

    /// Stops the server; B's guard, to flush.
    fn stop(self) -> Guard {
        let _ = self.stop.send(());
        self.thread.join().unwrap()
    }
}

/// B's handler: its root span joins the caller's session, under the caller's event.
async fn answer(headers: HeaderMap) -> String {
    let caller = SessionContext::extract(&headers);
    let span = info_span!(
        "B answer",
        honeyhive.session_id = caller.session_id.as_deref(),
        honeyhive.parent_id = caller.parent_id.map(tracing::field::display),
        honeyhive.session_name = caller.session_name.as_deref(),
    );
    async {
        let _lookup = info_span!("B lookup", gen_ai.tool.name = "orders").entered();
        "It shipped.".to_owned()
    }
    .instrument(span)
    .await
}

/// A client that never goes through a proxy from the environment.
fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[test]
fn two_services_over_http_make_one_session_with_the_callers_span_as_parent() {
    let a = Harness::new();
    let b = ServiceB::start(a.server.url());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (reply, injected) = a.run(|| {
        runtime.block_on(
            async {
                let call = info_span!("A calls B");
                async {
                    let mut headers = reqwest::header::HeaderMap::new();
                    SessionContext::current().inject(&mut headers);
                    let injected = SessionContext::extract(&headers);
                    let reply = client().get(b.url()).headers(headers).send().await.unwrap();
                    let reply = reply.text().await.unwrap();
                    // A's call ends well after B's answer.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    (reply, injected)
                }
                .instrument(call)
                .await
            }
            .instrument(info_span!("A request")),
        )
    });
    assert_eq!(reply, "It shipped.");
    let b_guard = b.stop();
    a.flush();
    let b_report = b_guard.flush(PATIENCE).unwrap();
    assert_eq!(b_report.failed + b_report.undelivered, 0, "{b_report:?}");

    let tree = a.only_tree();
    assert_eq!(
        outline(&tree),
        [
            "A request [session]",
            "  A calls B [chain]",
            "    B answer [chain]",
            "      B lookup [tool]",
        ]
    );
    let session = &tree.event;
    let call = &tree.children[0].event;
    let answer = &tree.children[0].children[0].event;
    let lookup = &tree.children[0].children[0].children[0].event;
    assert_eq!(injected.session_id, session.session_id);
    assert_eq!(
        injected.parent_id.map(|p| p.to_string()),
        call.event_id,
        "the injected parent is the calling span's event"
    );
    assert_eq!(
        answer.parent_id, call.event_id,
        "B's root is under A's call"
    );
    assert_eq!(lookup.parent_id, answer.event_id);
    for event in [answer, lookup] {
        assert_eq!(event.session_id, session.session_id);
        assert_eq!(event.source.as_deref(), Some("service-b"));
    }
    assert_eq!(call.source.as_deref(), Some("test"));
    assert_eq!(session.event_name.as_deref(), Some("A request"));
    // B's end, written whenever B's exporter gets to it, does not cut the session short.
    let stored = a
        .server
        .session(session.session_id.as_deref().unwrap())
        .unwrap();
    assert!(
        stored.end_time >= call.end_time && stored.end_time > answer.end_time,
        "session ends {:?}, A's call {:?}, B's answer {:?}",
        stored.end_time,
        call.end_time,
        answer.end_time
    );
    // B had nothing to write to a session it joined under A's call: no update of its own (A
    // writes the session's end at most once, or sends it complete in its create).
    let updates = a
        .server
        .requests()
        .iter()
        .filter(|r| r.method == "PUT")
        .count();
    assert!(updates <= 1, "{updates} updates");
}

#[test]
fn a_request_with_the_python_sdks_baggage_joins_its_session() {
    let harness = Harness::new();
    // The session the Python service opened (as `tracer.create_session()` does).
    let python_session = Uuid::new_v4();
    let client_api = tracing_honeyhive::Client::builder()
        .with_api_key(KEY)
        .with_api_url(harness.server.url())
        .build()
        .unwrap();
    let mut created = tracing_honeyhive::wire::CreateSession::default();
    created.session_id = Some(python_session);
    created.session_name = Some("python chat".into());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(client_api.create_session(&created))
        .unwrap();
    let b = ServiceB::start(harness.server.url());
    // What HoneyHive's Python SDK 1.5 sends from inside a `@trace` function: W3C trace context
    // and W3C baggage (its CompositePropagator), the baggage holding what its tracer set at
    // init (`honeyhive_tracer_id`) and what the decorator adds (`session_id`, `project`,
    // `source`), encoded by OpenTelemetry's W3CBaggagePropagator.
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let baggage = format!(
        "honeyhive_tracer_id=140234567890123,session_id={python_session},project=support-bot,\
         source=production"
    );
    let reply = runtime.block_on(async {
        client()
            .get(b.url())
            .header("traceparent", traceparent)
            .header("baggage", baggage)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert_eq!(reply, "It shipped.");
    b.stop().flush(PATIENCE).unwrap();

    let sessions = harness.server.sessions();
    assert_eq!(sessions.len(), 1, "{sessions:#?}");
    let tree = harness.server.tree(&python_session.to_string()).unwrap();
    assert_eq!(tree.event.event_name.as_deref(), Some("python chat"));
    assert_eq!(
        outline(&tree),
        [
            "python chat [session]",
            "  B answer [chain]",
            "    B lookup [tool]"
        ]
    );
    let answer = &tree.children[0].event;
    assert_eq!(
        answer.parent_id.as_deref(),
        Some(python_session.to_string().as_str()),
        "without a parent in the baggage, under the session"
    );
}

#[test]
fn a_request_without_a_session_starts_one_of_its_own() {
    let harness = Harness::new();
    let b = ServiceB::start(harness.server.url());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let reply = runtime.block_on(async {
        let request = client().get(b.url()).header("baggage", "user=alice");
        request.send().await.unwrap().text().await.unwrap()
    });
    assert_eq!(reply, "It shipped.");
    b.stop().flush(PATIENCE).unwrap();
    let tree = harness.only_tree();
    assert_eq!(outline(&tree), ["B answer [session]", "  B lookup [tool]"]);
}

#[test]
fn a_span_outside_any_session_injects_nothing() {
    let harness = Harness::new();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("baggage", "user=alice".parse().unwrap());
    harness.run(|| {
        SessionContext::current().inject(&mut headers);
        let disabled = tracing::Span::none();
        SessionContext::from_span(&disabled).inject(&mut headers);
    });
    // And with no subscriber at all.
    SessionContext::current().inject(&mut headers);
    assert_eq!(headers["baggage"], "user=alice");
    assert_eq!(headers.len(), 1);
}

#[test]
fn a_span_gives_its_session_and_its_own_event() {
    let harness = Harness::new();
    let (root, child) = harness.run(|| {
        let root = info_span!("turn", honeyhive.session_name = "support chat");
        let _root = root.enter();
        let root_context = SessionContext::current();
        let child = info_span!("step").in_scope(SessionContext::current);
        (root_context, child)
    });
    harness.flush();
    let tree = harness.only_tree();
    let session_id = tree.event.session_id.clone();
    assert_eq!(root.session_id, session_id);
    assert_eq!(
        root.parent_id.map(|p| p.to_string()),
        session_id,
        "a root's event is its session"
    );
    assert_eq!(root.session_name.as_deref(), Some("support chat"));
    assert_eq!(child.session_id, session_id);
    assert_eq!(
        child.parent_id.map(|p| p.to_string()),
        tree.children[0].event.event_id
    );
}
