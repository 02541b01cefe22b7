//! Which spans become sessions, and how events hang together.

use tracing::{Instrument, info_span};
use uuid::Uuid;

use tracing_honeyhive::emulator::Fault;

use crate::Harness;
use crate::common::outline;

#[test]
fn a_nested_trace_becomes_one_session_with_parent_links() {
    let harness = Harness::new();
    harness.run(|| {
        let root = info_span!("support chat", inputs.question = "Where is my order?");
        let _root = root.enter();
        {
            let _agent = info_span!("agent").entered();
            {
                let _plan = info_span!("plan", gen_ai.request.model = "gpt-4o-mini").entered();
            }
            {
                let _lookup = info_span!("lookup_order", gen_ai.tool.name = "orders").entered();
            }
        }
        let _reply = info_span!("reply", honeyhive.event_type = "model").entered();
    });
    let report = harness.flush();
    assert_eq!(report.stats.delivered(), 5, "{report:?}");
    let tree = harness.only_tree();
    assert_eq!(
        outline(&tree),
        [
            "support chat [session]",
            "  agent [chain]",
            "    plan [model]",
            "    lookup_order [tool]",
            "  reply [model]",
        ]
    );
    let session = &tree.event;
    let agent = &tree.children[0].event;
    let plan = &tree.children[0].children[0].event;
    assert_eq!(agent.parent_id, session.session_id);
    assert_eq!(plan.parent_id, agent.event_id);
    assert_eq!(
        agent.children_ids.as_ref().unwrap().len(),
        2,
        "the agent lists its two children"
    );
    assert_eq!(
        session.inputs,
        Some(serde_json::json!({"question": "Where is my order?"}))
    );
    for node in [agent, plan] {
        let id = node.event_id.as_deref().unwrap();
        let parsed = Uuid::parse_str(id).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(node.source.as_deref(), Some("test"));
        let (start, end) = (node.start_time.unwrap(), node.end_time.unwrap());
        assert!(start > 1.7e12 && end >= start, "unix ms: {start} {end}");
        assert_eq!(start.fract(), 0.0, "integer milliseconds");
    }
}

#[tokio::test]
async fn spans_across_await_points_and_threads_keep_their_parents() {
    let harness = Harness::new();
    let dispatch = harness.dispatch.clone();
    let root = harness.run(|| info_span!("request"));
    let work = async {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let inner = info_span!("inner step");
        async {
            tokio::task::yield_now().await;
        }
        .instrument(inner)
        .await;
        let parent = tracing::Span::current();
        std::thread::spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                let _t = info_span!(parent: &parent, "on another thread").entered();
            });
        })
        .join()
        .unwrap();
    };
    {
        let _guard = tracing::dispatcher::set_default(&harness.dispatch);
        tokio::spawn(work.instrument(root)).await.unwrap();
    }
    harness.flush();
    assert_eq!(
        outline(&harness.only_tree()),
        [
            "request [session]",
            "  inner step [chain]",
            "  on another thread [chain]",
        ]
    );
}

#[test]
fn a_short_session_is_sent_complete_in_one_create_then_its_batch() {
    let harness = Harness::with(|b| b.with_flush_interval(std::time::Duration::from_secs(30)));
    harness.run(|| {
        let root = info_span!("short", outputs.answer = tracing::field::Empty);
        let _root = root.enter();
        let _step = info_span!("step").entered();
        drop(_step);
        root.record("outputs.answer", "yes");
    });
    harness.flush();
    let requests = harness.server.requests();
    let routes: Vec<(String, String)> = requests
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    let session_id = harness.server.sessions()[0].session_id.clone().unwrap();
    assert_eq!(
        routes,
        [
            ("POST".to_owned(), "/v1/sessions".to_owned()),
            (
                "POST".to_owned(),
                format!("/v1/sessions/{session_id}/events/batch")
            ),
        ]
    );
    let create = requests[0].json().unwrap();
    assert_eq!(create["outputs"], serde_json::json!({"answer": "yes"}));
    assert!(
        create["end_time"].is_i64() && create["duration"].is_number(),
        "{create}"
    );
    assert_eq!(create["children_ids"].as_array().unwrap().len(), 1);
}

#[test]
fn a_long_session_is_created_early_and_keeps_its_final_state() {
    let harness = Harness::with(|b| b.with_flush_interval(std::time::Duration::from_millis(50)));
    let root = harness.run(|| {
        let root = info_span!(
            "long chat",
            inputs.first = "hello",
            outputs.summary = tracing::field::Empty,
            metrics.turns = tracing::field::Empty,
        );
        {
            let _turn = info_span!(parent: &root, "turn 1").entered();
        }
        root
    });
    // The first turn is sent while the session is still open.
    assert!(
        harness
            .server
            .wait_until(crate::PATIENCE, |s| s.events().len() == 1),
        "the event was sent before the root closed"
    );
    let early = harness.server.sessions()[0].clone();
    assert_eq!(early.end_time, None, "created early, without an end");
    harness.run(|| {
        let _turn = info_span!(parent: &root, "turn 2").entered();
        drop(_turn);
        root.record("outputs.summary", "resolved");
        root.record("metrics.turns", 2);
        drop(root);
    });
    harness.flush();
    let id = early.session_id.unwrap();
    let session = harness.server.session(&id).unwrap();
    assert_eq!(
        session.outputs,
        Some(serde_json::json!({"summary": "resolved"}))
    );
    assert_eq!(session.metrics, Some(serde_json::json!({"turns": 2})));
    assert_eq!(session.inputs, Some(serde_json::json!({"first": "hello"})));
    let (start, end) = (session.start_time.unwrap(), session.end_time.unwrap());
    assert!(end >= start && session.duration.unwrap() >= 0.0);
    assert_eq!(session.children_ids.as_ref().unwrap().len(), 2);
    let methods: Vec<String> = harness
        .server
        .requests()
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(
        methods.last().map(String::as_str),
        Some("PUT"),
        "{methods:?}"
    );
    assert_eq!(harness.server.events_of(&id).len(), 2);
}

#[test]
fn spans_naming_a_session_id_join_that_session_as_turns() {
    let harness = Harness::new();
    let conversation = Uuid::new_v4();
    for (turn, question) in ["first", "second"].iter().enumerate() {
        harness.run(|| {
            let _turn = info_span!(
                "chat turn",
                honeyhive.session_id = %conversation,
                honeyhive.session_name = "support conversation",
                inputs.question = *question,
                turn,
            )
            .entered();
            let _llm = info_span!("llm", gen_ai.request.model = "m").entered();
        });
        harness.flush();
    }
    let sessions = harness.server.sessions();
    assert_eq!(sessions.len(), 1, "{sessions:#?}");
    let session = &sessions[0];
    assert_eq!(
        session.session_id.as_deref(),
        Some(conversation.to_string().as_str())
    );
    assert_eq!(session.event_name.as_deref(), Some("support conversation"));
    let tree = harness.server.tree(&conversation.to_string()).unwrap();
    assert_eq!(
        outline(&tree),
        [
            "support conversation [session]",
            "  chat turn [chain]",
            "    llm [model]",
            "  chat turn [chain]",
            "    llm [model]",
        ]
    );
    let turns: Vec<_> = tree
        .children
        .iter()
        .map(|t| t.event.inputs.clone().unwrap())
        .collect();
    assert_eq!(turns[0]["question"], "first");
    assert_eq!(turns[1]["question"], "second");
    // Each turn's end is written to the session, with the duration from the session's start.
    let end = session.end_time.unwrap();
    let second_end = tree.children[1].event.end_time.unwrap();
    assert!((end - second_end).abs() < 1.0, "{end} vs {second_end}");
    let duration = session.duration.unwrap();
    assert!((duration - (end - session.start_time.unwrap())).abs() < 1.0);
}

#[test]
fn a_flush_waits_for_the_end_a_joining_span_writes_to_its_session() {
    // The session's update is throttled once: it lands a second after the turn's event.
    let harness = Harness::with_faults([Fault::status(503)
        .with_retry_after("1")
        .times(1)
        .on_path("/v1/events/")]);
    let conversation = Uuid::new_v4();
    harness.run(|| {
        let _turn = info_span!("chat turn", honeyhive.session_id = %conversation).entered();
    });
    let report = harness.flush();
    assert!(report.is_complete(), "{report:?}");
    let stats = report.stats;
    assert_eq!(stats.events_sent, 1, "{stats:?}");
    assert_eq!(stats.session_updates_sent, 1, "{stats:?}");
    let session = harness
        .server
        .sessions()
        .into_iter()
        .find(|s| s.session_id.as_deref() == Some(conversation.to_string().as_str()))
        .expect("the session was created");
    assert!(
        session.end_time.is_some(),
        "the flush returned before the session's end was written: {session:?}"
    );
}

#[test]
fn joining_a_session_created_elsewhere_keeps_its_name_and_adds_the_turn() {
    let harness = Harness::new();
    let existing = Uuid::new_v4();
    let created = harness.server.url();
    let client = tracing_honeyhive::Client::builder()
        .with_api_key(crate::KEY)
        .with_api_url(created)
        .build()
        .unwrap();
    let mut session = tracing_honeyhive::wire::CreateSession::default();
    session.session_id = Some(existing);
    session.session_name = Some("created by another process".into());
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(client.create_session(&session))
        .unwrap();
    harness.run(|| {
        let _turn = info_span!("later turn", honeyhive.session_id = %existing).entered();
    });
    harness.flush();
    let stored = harness.server.session(&existing.to_string()).unwrap();
    assert_eq!(
        stored.event_name.as_deref(),
        Some("created by another process")
    );
    assert_eq!(harness.server.events_of(&existing.to_string()).len(), 1);
}

#[test]
fn a_session_key_that_is_not_a_uuid_joins_the_session_derived_from_it() {
    let harness = Harness::new();
    let expected = tracing_honeyhive::ids::session_id_for_key("conversation-4711");
    harness.run(|| {
        for turn in 0..2 {
            let _request =
                info_span!("request", honeyhive.session_id = "conversation-4711", turn).entered();
            drop(info_span!("answer").entered());
        }
    });
    harness.flush();
    let sessions = harness.server.sessions();
    assert_eq!(
        sessions.len(),
        1,
        "both turns joined one session: {sessions:#?}"
    );
    assert_eq!(sessions[0].session_id, Some(expected.to_string()));
    assert_eq!(
        sessions[0].metadata.as_ref().unwrap()["honeyhive.session_key"],
        "conversation-4711",
        "the key is on the session, where HoneyHive's docs promise it"
    );
    assert_eq!(
        expected.to_string(),
        // Python: str(uuid.uuid5(uuid.NAMESPACE_URL, "conversation-4711"))
        "9f7e298e-d119-511d-a872-b0cf711d5102",
        "the id HoneyHive's other SDKs derive from the same key"
    );
    let requests: Vec<_> = harness
        .server
        .events_of(&expected.to_string())
        .into_iter()
        .filter(|e| e.event_name.as_deref() == Some("request"))
        .collect();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].metadata.as_ref().unwrap()["honeyhive.session_key"],
        "conversation-4711",
        "the key stays visible"
    );
}

#[test]
fn with_marked_roots_only_marked_spans_start_sessions() {
    use tracing_honeyhive::SessionRoots;
    let harness = Harness::with(|b| b.with_session_roots(SessionRoots::Marked));
    harness.run(|| {
        // A web framework's request span: not marked, not sent.
        let _request = info_span!("HTTP POST /chat").entered();
        {
            let _db = info_span!("db query").entered();
        }
        {
            let _chat = info_span!("chat handler", honeyhive.session = true).entered();
            let _llm = info_span!("llm", gen_ai.request.model = "m").entered();
        }
        {
            let _named = info_span!("other handler", honeyhive.session_name = "named").entered();
        }
    });
    harness.run(|| {
        let _background = info_span!("background job").entered();
        let _inner = info_span!("inner", body = "x".repeat(1 << 20).as_str()).entered();
    });
    let report = harness.flush();
    // Spans outside any session are not even recorded: the huge field was never copied.
    assert_eq!(report.stats.fields_truncated, 0);
    assert_eq!(report.stats.spans_queued, 3);
    let mut names: Vec<String> = harness
        .server
        .sessions()
        .iter()
        .map(|s| s.event_name.clone().unwrap())
        .collect();
    // Two sessions, sent side by side: in either order.
    names.sort();
    assert_eq!(names, ["chat handler", "named"]);
    assert_eq!(harness.server.events().len(), 1);
    assert_eq!(
        harness.server.events()[0].event_name.as_deref(),
        Some("llm")
    );
}

#[test]
fn a_root_marked_false_is_not_sent_with_its_subtree() {
    let harness = Harness::new();
    harness.run(|| {
        let _health = info_span!("health check", honeyhive.session = false).entered();
        let _inner = info_span!("inner").entered();
    });
    harness.run(|| {
        let _sent = info_span!("sent").entered();
    });
    harness.flush();
    let sessions = harness.server.sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].event_name.as_deref(), Some("sent"));
    assert!(harness.server.events().is_empty());
}

#[test]
fn session_names_come_from_the_reserved_field_then_the_builder_then_the_span() {
    let harness = Harness::with(|b| b.with_session_name("from builder"));
    harness.run(|| {
        drop(info_span!("a", honeyhive.session_name = "from field").entered());
        drop(info_span!("b").entered());
    });
    let plain = Harness::new();
    plain.run(|| drop(info_span!("span name").entered()));
    harness.flush();
    plain.flush();
    let names = |h: &Harness| -> Vec<String> {
        h.server
            .sessions()
            .iter()
            .map(|s| s.event_name.clone().unwrap())
            .collect()
    };
    assert_eq!(names(&harness), ["from field", "from builder"]);
    assert_eq!(names(&plain), ["span name"]);
}
