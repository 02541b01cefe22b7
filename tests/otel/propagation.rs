//! One session across services with the exporter: `traceparent` and baggage between two
//! providers, the plain keys HoneyHive's Python SDK sends, and services mixing the two front
//! doors.

use std::time::Duration;

use opentelemetry::trace::{SpanContext, TraceContextExt, Tracer, TracerProvider};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use reqwest::header::HeaderMap;
use serde_json::json;
use tracing::info_span;
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive::ids;
use tracing_honeyhive::otel::{BaggageSessionProcessor, HoneyHiveExporter};
use tracing_honeyhive::propagation::{SessionContext, extract_context, inject_context};
use tracing_honeyhive::{Guard, HoneyHiveLayer};
use tracing_subscriber::layer::SubscriberExt;
use uuid::Uuid;

use crate::common::outline;
use crate::{KEY, PATIENCE, exporter, only_tree, resource, server};

/// A service whose provider reads the session from baggage, sending as `source`.
fn service(server: &Emulator, name: &str, source: &str) -> SdkTracerProvider {
    let exporter: HoneyHiveExporter = exporter(server, |b| b.with_source(source));
    SdkTracerProvider::builder()
        .with_resource(resource(name))
        .with_span_processor(BaggageSessionProcessor::default())
        .with_batch_exporter(exporter)
        .build()
}

/// Service B's handler, with OpenTelemetry: the request's context is the parent of its span,
/// which has one child.
fn answer(tracer: &SdkTracer, headers: &HeaderMap) {
    let cx = extract_context(headers);
    let cx = cx.with_span(tracer.start_with_context("B answer", &cx));
    {
        let _attached = cx.clone().attach();
        tracer.in_span("B lookup", |_| {});
    }
    cx.span().end();
}

/// A layer sending to `server`, and its subscriber.
fn layer(server: &Emulator, source: &str) -> (tracing::Dispatch, Guard) {
    let (layer, guard) = HoneyHiveLayer::builder()
        .with_api_key(KEY)
        .with_api_url(server.url())
        .with_source(source)
        .with_flush_interval(Duration::from_millis(100))
        .build()
        .expect("the layer builds");
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    (dispatch, guard)
}

fn event_of(span: &SpanContext) -> String {
    ids::event_id_for_span(span.trace_id().to_bytes(), span.span_id().to_bytes()).to_string()
}

#[test]
fn traceparent_and_baggage_make_one_session_across_two_providers() {
    let server = server();
    let a = service(&server, "a", "test");
    let b = service(&server, "b", "service-b");
    let (ta, tb) = (a.tracer("a"), b.tracer("b"));
    let mut headers = HeaderMap::new();
    let mut call = SpanContext::empty_context();
    ta.in_span("A request", |_| {
        ta.in_span("A calls B", |cx| {
            inject_context(&cx, &mut headers);
            call = cx.span().span_context().clone();
            answer(&tb, &headers);
            // A's call ends well after B's answer.
            std::thread::sleep(Duration::from_millis(20));
        })
    });
    a.shutdown().unwrap();
    b.shutdown().unwrap();

    let trace = call.trace_id().to_bytes();
    let session = ids::session_id_for_trace(trace).to_string();
    let traceparent = headers["traceparent"].to_str().unwrap();
    assert!(
        traceparent.contains(&call.trace_id().to_string()),
        "{traceparent}"
    );
    let injected = SessionContext::extract(&headers);
    assert_eq!(injected.session_id.as_deref(), Some(session.as_str()));
    assert_eq!(
        injected.parent_id.map(|p| p.to_string()),
        Some(event_of(&call))
    );

    let tree = only_tree(&server);
    assert_eq!(tree.event.session_id.as_deref(), Some(session.as_str()));
    assert_eq!(
        outline(&tree),
        [
            "A request [session]",
            "  A calls B [chain]",
            "    B answer [chain]",
            "      B lookup [chain]",
        ]
    );
    let answer = &tree.children[0].children[0].event;
    assert_eq!(answer.parent_id, Some(event_of(&call)));
    assert_eq!(answer.source.as_deref(), Some("service-b"));
    // B's end, written after A's, does not cut the session short.
    let stored = server.session(&session).unwrap();
    let a_call = &tree.children[0].event;
    assert!(
        stored.end_time >= a_call.end_time && stored.end_time > answer.end_time,
        "session ends {:?}, A's call {:?}, B's answer {:?}",
        stored.end_time,
        a_call.end_time,
        answer.end_time
    );
}

#[test]
fn the_python_sdks_plain_baggage_keys_join_its_session() {
    let server = server();
    // The session the Python service opened.
    let python_session = Uuid::new_v4();
    let client = tracing_honeyhive::Client::builder()
        .with_api_key(KEY)
        .with_api_url(server.url())
        .build()
        .unwrap();
    let mut created = tracing_honeyhive::wire::CreateSession::default();
    created.session_id = Some(python_session);
    created.session_name = Some("python chat".into());
    // It has ended, its end written: the Rust service's part, exported later and ending
    // sooner, must not cut it short (it once set 274.9 ms where Python had 473.8 ms).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let (start, end) = (now - 1_000, now + 500);
    created.start_time = Some(start);
    created.end_time = Some(end);
    created.duration = Some(1_500.0);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(client.create_session(&created))
        .unwrap();
    // What HoneyHive's Python SDK 1.5 sends from a `@trace` function (see tests/layer for the
    // sources): W3C trace context and its baggage, plain keys, `quote_plus`-encoded.
    let mut headers = HeaderMap::new();
    headers.insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .unwrap(),
    );
    let baggage = format!(
        "honeyhive_tracer_id=140234567890123,session_id={python_session},project=support+bot,\
         source=production"
    );
    headers.insert("baggage", baggage.parse().unwrap());
    let b = service(&server, "b", "service-b");
    answer(&b.tracer("b"), &headers);
    b.shutdown().unwrap();

    assert_eq!(server.sessions().len(), 1, "{:#?}", server.sessions());
    let events = server.events_of(&python_session.to_string());
    let named = |name: &str| {
        events
            .iter()
            .find(|e| e.event_name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name} in {events:#?}"))
    };
    let (answer, lookup) = (named("B answer"), named("B lookup"));
    assert_eq!(lookup.parent_id, answer.event_id);
    for event in [answer, lookup] {
        // As the Python SDK's own span processor does: baggage `source` is the span's source,
        // `project` its `honeyhive.project`.
        assert_eq!(event.source.as_deref(), Some("production"));
        let metadata = event.metadata.clone().unwrap();
        assert_eq!(metadata["honeyhive.project"], json!("support bot"));
        assert_eq!(metadata.get("honeyhive.parent_id"), None);
    }
    let stored = server.session(&python_session.to_string()).unwrap();
    assert_eq!(stored.event_name.as_deref(), Some("python chat"));
    assert_eq!(stored.end_time, Some(end as f64), "{stored:#?}");
    assert_eq!(stored.duration, Some(1_500.0));
}

#[test]
fn a_layer_service_calling_an_opentelemetry_service_makes_one_session() {
    let server = server();
    let (dispatch, guard) = layer(&server, "test");
    let b = service(&server, "b", "service-b");
    let tb = b.tracer("b");
    let injected = tracing::dispatcher::with_default(&dispatch, || {
        let _request = info_span!("A request").entered();
        let _call = info_span!("A calls B").entered();
        let mut headers = HeaderMap::new();
        SessionContext::current().inject(&mut headers);
        answer(&tb, &headers);
        SessionContext::extract(&headers)
    });
    guard.flush(PATIENCE).unwrap();
    b.shutdown().unwrap();

    let tree = only_tree(&server);
    assert_eq!(
        outline(&tree),
        [
            "A request [session]",
            "  A calls B [chain]",
            "    B answer [chain]",
            "      B lookup [chain]",
        ]
    );
    let call = &tree.children[0].event;
    let answer = &tree.children[0].children[0].event;
    assert_eq!(injected.session_id, tree.event.session_id);
    assert_eq!(injected.parent_id.map(|p| p.to_string()), call.event_id);
    assert_eq!(
        answer.parent_id, call.event_id,
        "baggage parent_id, no traceparent"
    );
}

#[test]
fn an_opentelemetry_service_calling_a_layer_service_makes_one_session() {
    let server = server();
    let a = service(&server, "a", "test");
    let ta = a.tracer("a");
    let (dispatch, guard) = layer(&server, "service-b");
    let mut call = SpanContext::empty_context();
    ta.in_span("A request", |_| {
        ta.in_span("A calls B", |cx| {
            let mut headers = HeaderMap::new();
            inject_context(&cx, &mut headers);
            call = cx.span().span_context().clone();
            tracing::dispatcher::with_default(&dispatch, || {
                let caller = SessionContext::extract(&headers);
                let _answer = info_span!(
                    "B answer",
                    honeyhive.session_id = caller.session_id.as_deref(),
                    honeyhive.parent_id = caller.parent_id.map(tracing::field::display),
                )
                .entered();
                let _lookup = info_span!("B lookup").entered();
            });
        })
    });
    guard.flush(PATIENCE).unwrap();
    a.shutdown().unwrap();

    let tree = only_tree(&server);
    assert_eq!(
        tree.event.session_id,
        Some(ids::session_id_for_trace(call.trace_id().to_bytes()).to_string())
    );
    // The session is named by whichever service creates it first: A's baggage carries no
    // `honeyhive.session_name` here, so B's span may have named it.
    assert_eq!(
        outline(&tree)[1..],
        [
            "  A calls B [chain]",
            "    B answer [chain]",
            "      B lookup [chain]",
        ]
    );
    assert_eq!(
        tree.children[0].children[0].event.parent_id,
        Some(event_of(&call))
    );
}

#[test]
fn a_context_names_the_session_of_its_baggage_key_else_of_its_trace() {
    use opentelemetry::KeyValue;
    use opentelemetry::baggage::BaggageExt;

    let provider = SdkTracerProvider::builder().build();
    let tracer = provider.tracer("t");
    tracer.in_span("step", |cx| {
        let span = cx.span().span_context().clone();
        let traced = SessionContext::from_context(&cx);
        let trace = span.trace_id().to_bytes();
        assert_eq!(
            traced.session_id,
            Some(ids::session_id_for_trace(trace).to_string())
        );
        assert_eq!(
            traced.parent_id.map(|p| p.to_string()),
            Some(event_of(&span))
        );
        for key in ["session_id", "honeyhive.session_id", "session.id"] {
            let keyed = cx.with_baggage([
                KeyValue::new(key, "conversation-7"),
                KeyValue::new("session_name", "support chat"),
            ]);
            let keyed = SessionContext::from_context(&keyed);
            let expected = ids::session_id_for_key("conversation-7").to_string();
            assert_eq!(
                keyed.session_id.as_deref(),
                Some(expected.as_str()),
                "{key}"
            );
            assert_eq!(keyed.session_name.as_deref(), Some("support chat"));
        }
    });
    let empty = SessionContext::from_context(&opentelemetry::Context::new());
    assert_eq!(empty, SessionContext::default());
    let mut headers = HeaderMap::new();
    inject_context(&opentelemetry::Context::new(), &mut headers);
    assert!(headers.is_empty(), "{headers:?}");
}

#[test]
fn hostile_headers_give_a_context_without_a_remote_span() {
    let huge = "x".repeat(1 << 16);
    let cases: [(&[u8], &[u8]); 5] = [
        (b"00-zz-zz-01", b"session_id=\xff"),
        (b"\xff\xfe", b"=,=,;;;"),
        (huge.as_bytes(), huge.as_bytes()),
        (
            b"00-00000000000000000000000000000000-0000000000000000-01",
            b"k=%",
        ),
        (b"", b""),
    ];
    for (traceparent, baggage) in cases {
        let mut headers = HeaderMap::new();
        headers.insert(
            "traceparent",
            reqwest::header::HeaderValue::from_bytes(traceparent).unwrap(),
        );
        headers.insert(
            "baggage",
            reqwest::header::HeaderValue::from_bytes(baggage).unwrap(),
        );
        let cx = extract_context(&headers);
        assert!(!cx.span().span_context().is_valid());
        let mut out = HeaderMap::new();
        inject_context(&cx, &mut out);
    }
}
