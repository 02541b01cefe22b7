//! The bounds with payloads the size LLM applications send: a model turn is never dropped whole
//! for one large value, the end of an admitted session is never dropped for room, and the
//! defaults absorb the bursts a chat server or an agent makes.

use std::time::{Duration, Instant};

use serde_json::json;
use tracing::info_span;
use tracing_honeyhive::HoneyHiveSpanExt;

use crate::{Harness, PATIENCE};

/// The books balance and nothing is left pending.
fn balanced(stats: &tracing_honeyhive::Stats) {
    assert_eq!(
        stats.produced(),
        stats.delivered() + stats.refused() + stats.failed() + stats.dropped.total(),
        "{stats:?}"
    );
}

#[test]
fn sixty_model_turns_of_600_kb_closing_together_all_arrive_with_the_defaults() {
    // Long RAG contexts: three 200 KB messages a turn (each under the 256 KiB field limit).
    let harness = Harness::new();
    let context = "c".repeat(200_000);
    harness.run(|| {
        let _agent = info_span!("agent").entered();
        let turns: Vec<tracing::Span> = (0..60)
            .map(|i| {
                let turn = info_span!("chat", honeyhive.event_type = "model", turn = i);
                turn.set_inputs(json!({"chat_history": [
                    {"role": "system", "content": context},
                    {"role": "user", "content": context},
                    {"role": "tool", "content": context},
                ]}));
                turn
            })
            .collect();
        drop(turns);
    });
    let report = harness.flush();
    assert_eq!(report.stats.dropped.total(), 0, "{report:?}");
    let turns = harness
        .server
        .events()
        .into_iter()
        .filter(|e| e.event_name.as_deref() == Some("chat"))
        .count();
    assert_eq!(turns, 60, "every turn arrives: {report:?}");
    balanced(&harness.guard.stats());
}

#[test]
fn a_40_mb_value_is_trimmed_as_it_is_attached_and_its_event_lands() {
    let harness = Harness::new();
    harness.run(|| {
        let _root = info_span!("ingest").entered();
        let step = info_span!("summarise", honeyhive.event_type = "tool");
        step.set_inputs(json!({
            "document": "d".repeat(40 * 1024 * 1024),
            "question": "What does it say?",
        }));
        drop(step);
    });
    let report = harness.flush();
    assert_eq!(report.stats.dropped.total(), 0, "{report:?}");
    assert!(report.stats.fields_truncated >= 1, "{report:?}");
    let inputs = harness.event("summarise").inputs.unwrap();
    assert_eq!(inputs["question"], "What does it say?", "what fits stays");
    let document = inputs["document"].as_str().unwrap();
    assert!(
        document.starts_with("[cut: 41943042 bytes"),
        "the value is replaced by a marker naming its size: {document}"
    );
    balanced(&harness.guard.stats());
}

#[test]
fn the_end_of_an_admitted_session_is_never_dropped_for_room() {
    // Room for 200 spans, 150 conversations open at once, each with two steps that close while
    // it is open, against a slow server so that the queue stays full; then every conversation
    // closes. Before, the steps took the room and 100 of the 150 ends were dropped.
    let harness = Harness::with(|b| {
        b.with_queue_capacity(200)
            .with_flush_interval(Duration::from_millis(20))
    });
    harness.server.set_latency(Duration::from_millis(30));
    harness.run(|| {
        let conversations: Vec<tracing::Span> = (0..150)
            .map(|i| info_span!("conversation", i, outputs.answer = tracing::field::Empty))
            .collect();
        for conversation in &conversations {
            for _ in 0..2 {
                drop(info_span!(parent: conversation, "step").entered());
            }
        }
        for conversation in &conversations {
            conversation.record("outputs.answer", "done");
        }
        drop(conversations);
    });
    harness.flush();
    let stats = harness.guard.stats();
    balanced(&stats);
    let sessions = harness.server.sessions();
    assert_eq!(sessions.len(), 150, "{stats:?}");
    let ended = sessions
        .iter()
        .filter(|s| s.end_time.is_some() && s.outputs == Some(json!({"answer": "done"})))
        .count();
    assert_eq!(
        ended, 150,
        "every session got its end and outputs: {stats:?}"
    );
    assert_eq!(
        stats.dropped.queue_full + stats.dropped.queue_bytes,
        300 - harness.server.events().len() as u64,
        "the steps that found no room are counted: {stats:?}"
    );
}

#[test]
fn ten_thousand_conversations_open_at_once_then_closed_together_all_get_their_end() {
    let harness = Harness::new();
    let started = Instant::now();
    harness.run(|| {
        let conversations: Vec<tracing::Span> =
            (0..10_000).map(|i| info_span!("conversation", i)).collect();
        for conversation in &conversations {
            drop(info_span!(parent: conversation, "answer").entered());
        }
        drop(conversations);
    });
    let report = harness.guard.flush(PATIENCE * 3).expect("flushed");
    eprintln!("10,000 conversations delivered in {:?}", started.elapsed());
    assert_eq!(report.stats.dropped.total(), 0, "{report:?}");
    let sessions = harness.server.sessions();
    assert_eq!(sessions.len(), 10_000);
    assert!(sessions.iter().all(|s| s.end_time.is_some()), "{report:?}");
    assert_eq!(harness.server.events().len(), 10_000);
}

#[test]
fn a_root_with_thirty_thousand_children_made_in_a_tight_loop_keeps_every_event_and_its_end() {
    let harness = Harness::new();
    harness.run(|| {
        let root = info_span!("batch job", outputs.status = tracing::field::Empty);
        for i in 0..30_000 {
            drop(info_span!(parent: &root, "item", i).entered());
        }
        root.record("outputs.status", "done");
    });
    let report = harness.guard.flush(PATIENCE * 3).expect("flushed");
    assert_eq!(report.stats.dropped.total(), 0, "{report:?}");
    assert_eq!(harness.server.events().len(), 30_000);
    let session = &harness.server.sessions()[0];
    assert_eq!(session.outputs, Some(json!({"status": "done"})));
    assert!(session.end_time.is_some());
}

#[test]
fn a_genai_chat_history_larger_than_a_field_stays_a_message_list() {
    // 320 KB of history as GenAI JSON text: over the 256 KiB a text field keeps, under the
    // 2 MiB a JSON field keeps; its one long message is then cut like any string.
    let harness = Harness::new();
    let long = "h".repeat(300_000);
    let history = json!([
        {"role": "user", "parts": [{"type": "text", "content": "Summarise this."}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": long}]},
    ]);
    harness.run(|| {
        let _turn = info_span!("turn").entered();
        let _chat = info_span!(
            "chat",
            gen_ai.operation.name = "chat",
            gen_ai.input.messages = history.to_string().as_str(),
        )
        .entered();
    });
    harness.flush();
    let event = harness
        .server
        .events()
        .into_iter()
        .find(|e| e.event_name.as_deref() == Some("chat"))
        .expect("the chat event");
    let inputs = event.inputs.expect("inputs");
    let messages = inputs["chat_history"].as_array().expect("a message list");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["content"], json!("Summarise this."));
    let tool = messages[1]["content"].as_str().expect("the tool's answer");
    assert!(
        tool.len() < 300_000 && tool.starts_with("hhh"),
        "{}",
        tool.len()
    );
    assert!(harness.guard.stats().fields_truncated >= 1);
}
