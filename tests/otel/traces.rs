//! Traces as exporters see them: spans that end before their parents, a trace split across
//! exports, roots that come late or never, several services, grouping keys.

use std::time::Duration;

use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{
    Span, SpanContext, SpanKind, TraceContextExt, TraceFlags, TraceState, Tracer, TracerProvider,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter};
use serde_json::json;
use tracing_honeyhive::ids;
use tracing_honeyhive::otel::BaggageSessionProcessor;

use super::*;

const TRACE: u128 = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736;

fn is_lowercase_uuid(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok() && id == id.to_lowercase() && id.len() == 36
}

#[test]
fn children_exported_before_their_root_make_one_session_created_whole() {
    let server = server();
    let exporter = exporter(&server, |b| b);
    let handle = exporter.handle();
    let llm = Made::new(TRACE, 3, 2, "llm")
        .with(KeyValue::new("gen_ai.request.model", "gpt-4o-mini"))
        .with(KeyValue::new("gen_ai.usage.input_tokens", 41));
    let plan = Made::new(TRACE, 2, 1, "plan");
    let root = Made::new(TRACE, 1, 0, "request")
        .with(KeyValue::new("inputs.question", "Where is my order?"))
        .with(KeyValue::new("outputs.answer", "It shipped."));
    // Three exports, leaf first, as a batch processor cut at the wrong moments would make them;
    // the second is then exported again, as a retry upstream would.
    let plan = plan.data();
    export(
        &exporter,
        vec![
            vec![llm.data()],
            vec![plan.clone()],
            vec![plan, root.data()],
        ],
    );
    let stats = flushed(&handle);
    assert_all_delivered(&stats);
    assert_eq!((stats.spans_queued, stats.spans_repeated), (3, 1));
    assert_eq!(server.repeated_events(), 0, "nothing was sent twice");

    let tree = only_tree(&server);
    assert_eq!(
        outline(&tree),
        ["request [session]", "  plan [chain]", "    llm [model]"]
    );
    let session = &tree.event;
    let session_id = session.session_id.clone().unwrap();
    assert_eq!(
        session_id,
        ids::session_id_for_trace(TRACE.to_be_bytes()).to_string()
    );
    assert_eq!(
        session.inputs,
        Some(json!({"question": "Where is my order?"}))
    );
    assert_eq!(session.outputs, Some(json!({"answer": "It shipped."})));
    // The root came within the wait: one create carried the whole session, nothing had to be
    // patched afterwards.
    let creates = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/sessions")
        .count();
    assert_eq!(creates, 1);
    let plan = &tree.children[0].event;
    assert_eq!(plan.parent_id.as_deref(), Some(session_id.as_str()));
    let llm = &tree.children[0].children[0].event;
    assert_eq!(llm.parent_id, plan.event_id);
    for id in [&plan.event_id, &llm.event_id, &plan.parent_id] {
        assert!(is_lowercase_uuid(id.as_deref().unwrap()), "{id:?}");
    }
    assert_eq!(
        llm.event_id.as_deref().unwrap(),
        ids::event_id_for_span(TRACE.to_be_bytes(), 3u64.to_be_bytes()).to_string()
    );
}

#[test]
fn a_root_that_comes_after_the_wait_completes_the_session_and_links_the_early_children() {
    let server = server();
    let mut exporter = exporter(&server, |b| {
        b.with_root_wait(Duration::from_millis(150))
            .with_flush_interval(Duration::from_millis(50))
    });
    exporter.set_resource(&resource("checkout"));
    let handle = exporter.handle();
    export(
        &exporter,
        vec![vec![
            Made::new(TRACE, 3, 2, "llm").data(),
            Made::new(TRACE, 2, 1, "plan").data(),
        ]],
    );
    // Without a flush: the events go once the wait is over.
    assert!(
        server.wait_until(PATIENCE, |s| s.events().len() == 2),
        "{:#?}",
        server.requests()
    );
    let early = server.sessions();
    assert_eq!(early.len(), 1);
    assert_eq!(early[0].event_name.as_deref(), Some("checkout"));

    let root = Made::new(TRACE, 1, 0, "request")
        .with(KeyValue::new("inputs.question", "late?"))
        .with(KeyValue::new("outputs.answer", "yes"));
    export(&exporter, vec![vec![root.data()]]);
    let stats = flushed(&handle);
    assert_all_delivered(&stats);

    let tree = only_tree(&server);
    // The children name the root by its own id: it is there as an event too.
    assert_eq!(
        outline(&tree),
        [
            "checkout [session]",
            "  request [chain]",
            "    plan [chain]",
            "      llm [chain]"
        ]
    );
    let session = &tree.event;
    let request = &tree.children[0];
    let plan = &request.children[0];
    assert_eq!(
        request.event.event_id.as_deref().unwrap(),
        ids::event_id_for_span(TRACE.to_be_bytes(), 1u64.to_be_bytes()).to_string()
    );
    assert_eq!(request.event.parent_id, session.session_id);
    assert_eq!(plan.event.parent_id, request.event.event_id);
    assert_eq!(plan.children[0].event.parent_id, plan.event.event_id);
    let sent: Vec<String> = server
        .requests()
        .iter()
        .map(|r| format!("{} {} {}", r.method, r.path, r.body))
        .collect();
    assert_eq!(session.outputs, Some(json!({"answer": "yes"})), "{sent:#?}");
    let metadata = session.metadata.clone().unwrap();
    let puts: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.body)
        .collect();
    assert_eq!(
        metadata["inputs"],
        json!({"question": "late?"}),
        "{metadata} {puts:?}"
    );
    assert!(session.end_time.is_some() && session.duration.is_some());
}

#[test]
fn spans_whose_root_never_comes_are_sent_after_the_wait_and_counted() {
    let server = server();
    let exporter = exporter(&server, |b| {
        b.with_root_wait(Duration::from_millis(100))
            .with_flush_interval(Duration::from_millis(50))
    });
    let handle = exporter.handle();
    // 40 traces, each a span whose parent (in no export) never comes.
    let batch: Vec<_> = (0..40u128)
        .map(|i| Made::new(TRACE + i, 2, 1, "orphan").data())
        .collect();
    export(&exporter, vec![batch]);
    assert!(server.wait_until(PATIENCE, |s| s.events().len() == 40));
    assert_eq!(server.sessions().len(), 40);
    let stats = flushed(&handle);
    assert_all_delivered(&stats);
    assert_eq!(stats.events_sent, 40);
}

/// A frontend's root span calls a backend, whose spans (a local root under the remote call, and
/// a model call) end first. With `backend_first`, the backend also sends before the frontend's
/// root has ended, so the session exists before its root reaches any exporter.
fn two_services(backend_first: bool) -> (Emulator, SessionTree) {
    let server = server();
    let frontend_exporter = exporter(&server, |b| b);
    let backend_exporter = exporter(&server, |b| b);
    let (frontend_handle, backend_handle) = (frontend_exporter.handle(), backend_exporter.handle());
    let frontend = batch_provider(frontend_exporter, "frontend");
    let backend = batch_provider(backend_exporter, "backend");

    let tracer = frontend.tracer("web");
    let root = tracer
        .span_builder("GET /chat")
        .with_kind(SpanKind::Server)
        .with_attributes([KeyValue::new("inputs.path", "/chat")])
        .start(&tracer);
    let root_cx = Context::current_with_span(root);
    let call = tracer
        .span_builder("call backend")
        .with_kind(SpanKind::Client)
        .start_with_context(&tracer, &root_cx);
    let call_context = call.span_context().clone();

    // The backend receives the call's context (as `traceparent` would carry it).
    let remote = SpanContext::new(
        call_context.trace_id(),
        call_context.span_id(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    let backend_tracer = backend.tracer("api");
    let handler_cx = Context::new().with_remote_span_context(remote);
    let handler = backend_tracer
        .span_builder("handle chat")
        .with_kind(SpanKind::Server)
        .start_with_context(&backend_tracer, &handler_cx);
    let handler_cx = handler_cx.with_span(handler);
    let mut llm = backend_tracer.start_with_context("chat gpt-4o", &handler_cx);
    llm.set_attribute(KeyValue::new("gen_ai.operation.name", "chat"));
    llm.set_attribute(KeyValue::new("gen_ai.request.model", "gpt-4o"));
    llm.end();
    handler_cx.span().end();
    // The backend's spans reach its exporter first; they wait for a root it will never see.
    backend.force_flush().unwrap();
    if backend_first {
        flushed(&backend_handle);
    }

    let mut call = call;
    call.end();
    root_cx
        .span()
        .set_attribute(KeyValue::new("outputs.status", 200));
    root_cx.span().end();
    frontend.shutdown().expect("the frontend delivers");
    backend.shutdown().expect("the backend delivers");
    assert_all_delivered(&frontend_handle.stats());
    assert_all_delivered(&backend_handle.stats());

    let tree = only_tree(&server);
    let order: Vec<String> = server
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    println!(
        "requests, in order: {order:#?}\nthe session tree that arrived:\n{}",
        server.waterfalls()
    );
    (server, tree)
}

/// The structure both orders must give.
#[track_caller]
fn assert_two_service_tree(tree: &SessionTree, session_name: &str) {
    assert_eq!(
        outline(tree),
        [
            format!("{session_name} [session]").as_str(),
            "  call backend [chain]",
            "    handle chat [chain]",
            "      chat gpt-4o [model]"
        ],
        "{tree:#?}"
    );
    let service = |node: &SessionTree| node.event.metadata.clone().unwrap()["service.name"].clone();
    let call = &tree.children[0];
    let handler = &call.children[0];
    let llm = &handler.children[0];
    // The links themselves (the server shows an event whose parent it does not know at the
    // top, so the outline alone would not tell).
    assert_eq!(call.event.parent_id, tree.event.session_id);
    assert_eq!(handler.event.parent_id, call.event.event_id);
    assert_eq!(llm.event.parent_id, handler.event.event_id);
    assert_eq!(service(call), json!("frontend"));
    assert_eq!(service(handler), json!("backend"));
    assert_eq!(
        handler.event.metadata.clone().unwrap()["otel.span_kind"],
        json!("server")
    );
}

#[test]
fn two_services_emitting_one_trace_children_first_make_one_session_tree() {
    let (_server, tree) = two_services(false);
    // The backend's spans waited for the root; the frontend created the session whole.
    assert_two_service_tree(&tree, "GET /chat");
    assert_eq!(tree.event.inputs, Some(json!({"path": "/chat"})));
    assert_eq!(tree.event.outputs, Some(json!({"status": 200})));
}

#[test]
fn a_session_another_service_created_first_is_completed_by_the_root() {
    let (_server, tree) = two_services(true);
    // The backend created the session with what it knew (its service's name); the root then
    // completed it: outputs, end, and its inputs in metadata (the API cannot update inputs).
    assert_two_service_tree(&tree, "backend");
    assert_eq!(tree.event.outputs, Some(json!({"status": 200})));
    let metadata = tree.event.metadata.clone().unwrap();
    assert_eq!(metadata["inputs"], json!({"path": "/chat"}), "{metadata}");
    assert!(
        tree.event.duration.is_some_and(|d| d > 0.0),
        "{:?}",
        tree.event
    );
}

#[test]
fn a_grouping_key_on_the_root_joins_two_traces_in_one_session() {
    let server = server();
    let exporter = exporter(&server, |b| b);
    let handle = exporter.handle();
    let provider = batch_provider(exporter, "bot");
    let tracer = provider.tracer("bot");
    for turn in ["turn 1", "turn 2"] {
        let root = tracer
            .span_builder(turn)
            .with_attributes([
                KeyValue::new("honeyhive.session_id", "conversation-9"),
                KeyValue::new("honeyhive.session_name", "support chat"),
            ])
            .start(&tracer);
        let cx = Context::current_with_span(root);
        tracer.start_with_context("llm", &cx).end();
        cx.span().end();
    }
    provider.shutdown().unwrap();
    assert_all_delivered(&handle.stats());

    let tree = only_tree(&server);
    assert_eq!(
        tree.event.session_id.as_deref().unwrap(),
        ids::session_id_for_key("conversation-9").to_string()
    );
    assert_eq!(
        outline(&tree),
        [
            "support chat [session]",
            "  turn 1 [chain]",
            "    llm [chain]",
            "  turn 2 [chain]",
            "    llm [chain]"
        ]
    );
    let turn = &tree.children[0].event;
    assert_eq!(
        turn.metadata.clone().unwrap()["honeyhive.session_key"],
        json!("conversation-9")
    );
    assert_eq!(
        tree.event.metadata.clone().unwrap()["honeyhive.session_key"],
        json!("conversation-9"),
        "the key is on the session too"
    );
}

#[test]
fn a_key_on_a_root_that_comes_later_moves_the_spans_that_came_before_it() {
    let server = server();
    let exporter = exporter(&server, |b| b);
    let handle = exporter.handle();
    let root =
        Made::new(TRACE, 1, 0, "turn").with(KeyValue::new("gen_ai.conversation.id", "thread-3"));
    export(
        &exporter,
        vec![
            vec![Made::new(TRACE, 2, 1, "tool call").data()],
            vec![root.data()],
        ],
    );
    assert_all_delivered(&flushed(&handle));
    let tree = only_tree(&server);
    assert_eq!(
        tree.event.session_id.as_deref().unwrap(),
        ids::session_id_for_key("thread-3").to_string()
    );
    assert_eq!(
        outline(&tree)[1..],
        ["  turn [chain]", "    tool call [chain]"]
    );
}

#[test]
fn a_key_in_baggage_reaches_every_span_and_groups_the_traces() {
    let server = server();
    let exporter = exporter(&server, |b| b);
    let handle = exporter.handle();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(BaggageSessionProcessor::default())
        .with_batch_exporter(exporter)
        .build();
    let tracer = provider.tracer("bot");
    for turn in ["first", "second"] {
        let cx = Context::new().with_baggage([KeyValue::new("session.id", "user-42-chat")]);
        let _attached = cx.attach();
        tracer.in_span(turn, |_| tracer.in_span("llm", |_| {}));
    }
    provider.shutdown().unwrap();
    assert_all_delivered(&handle.stats());
    let tree = only_tree(&server);
    assert_eq!(
        tree.event.session_id.as_deref().unwrap(),
        ids::session_id_for_key("user-42-chat").to_string()
    );
    assert_eq!(tree.children.len(), 2, "{:#?}", outline(&tree));
    // Every span carried the key (OpenInference's `session.id`, kept as `metadata.session_id`).
    for event in server.events() {
        assert_eq!(
            event.metadata.clone().unwrap()["session_id"],
            json!("user-42-chat")
        );
    }
}

#[test]
fn status_exceptions_events_and_links_are_kept() {
    use opentelemetry::trace::{Link, SpanContext, SpanId, Status, TraceId};
    let server = server();
    let exporter = exporter(&server, |b| b);
    let handle = exporter.handle();
    let mut failed = Made::new(TRACE, 2, 1, "lookup").data();
    failed.status = Status::error("");
    failed
        .attributes
        .push(KeyValue::new("error.type", "timeout"));
    let mut thrown = Made::new(TRACE, 3, 1, "parse").data();
    thrown.events.events.push(opentelemetry::trace::Event::new(
        "exception",
        thrown.start_time,
        vec![
            KeyValue::new("exception.type", "ValueError"),
            KeyValue::new("exception.message", "bad JSON"),
            KeyValue::new("exception.stacktrace", "at parse()"),
        ],
        0,
    ));
    thrown.events.events.push(opentelemetry::trace::Event::new(
        "retrying",
        thrown.start_time,
        vec![KeyValue::new("attempt", 2)],
        0,
    ));
    thrown.links.links.push(Link::new(
        SpanContext::new(
            TraceId::from(7u128),
            SpanId::from(9u64),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        vec![KeyValue::new("reason", "retry of")],
        0,
    ));
    export(
        &exporter,
        vec![vec![failed, thrown, Made::new(TRACE, 1, 0, "root").data()]],
    );
    assert_all_delivered(&flushed(&handle));
    let tree = only_tree(&server);
    let lookup = &tree.children[0].event;
    assert_eq!(lookup.error.as_deref(), Some("timeout"));
    let parse = &tree.children[1].event;
    assert_eq!(parse.error.as_deref(), Some("bad JSON"));
    let metadata = parse.metadata.clone().unwrap();
    assert_eq!(metadata["exception.type"], json!("ValueError"));
    assert_eq!(metadata["exception.stacktrace"], json!("at parse()"));
    assert_eq!(metadata["logs"][0]["message"], json!("retrying"));
    assert_eq!(metadata["logs"][0]["fields"]["attempt"], json!(2));
    assert_eq!(metadata["logs"].as_array().unwrap().len(), 1, "{metadata}");
    assert_eq!(
        metadata["otel.links"],
        json!([{
            "trace_id": format!("{:032x}", 7),
            "span_id": format!("{:016x}", 9),
            "attributes": {"reason": "retry of"},
        }])
    );
    assert_eq!(metadata["otel.scope.name"], json!("tests"));
}

#[test]
fn a_key_on_a_leaf_moves_a_root_already_taken_in_with_its_children() {
    let server = server();
    let exporter = exporter(&server, |b| b);
    let handle = exporter.handle();
    let leaf = Made::new(TRACE, 3, 2, "search").with(KeyValue::new("session.id", "thread-8"));
    // One export: the root is taken in (and its trace's session made) before the key is seen.
    export(
        &exporter,
        vec![vec![
            Made::new(TRACE, 2, 1, "plan").data(),
            Made::new(TRACE, 1, 0, "turn").data(),
            leaf.data(),
        ]],
    );
    let stats = flushed(&handle);
    assert_all_delivered(&stats);
    assert_eq!(
        (stats.sessions_completed, stats.events_sent),
        (0, 3),
        "{stats:#?}"
    );
    let tree = only_tree(&server);
    assert_eq!(
        tree.event.session_id.as_deref().unwrap(),
        ids::session_id_for_key("thread-8").to_string()
    );
    assert_eq!(
        outline(&tree)[1..],
        ["  turn [chain]", "    plan [chain]", "      search [chain]"]
    );
    let turn = &tree.children[0].event;
    let plan = &tree.children[0].children[0].event;
    assert_eq!(turn.parent_id, tree.event.session_id);
    assert_eq!(plan.parent_id, turn.event_id);
    assert_eq!(
        turn.children_ids.clone().unwrap_or_default(),
        [plan.event_id.clone().unwrap()]
    );
}
