use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::json;
use tracing_honeyhive::emulator::Emulator;
use tracing_honeyhive::otel::HoneyHiveExporter;
use tracing_honeyhive::trace;
use tracing_subscriber::layer::SubscriberExt;

use crate::{PATIENCE, object};

#[derive(Debug, thiserror::Error)]
#[error("the order service timed out")]
struct Timeout;

#[trace(event_type = "tool")]
fn check(order_id: &str, attempt: u32) -> Result<String, Timeout> {
    if attempt == 0 {
        return Err(Timeout);
    }
    Ok(format!("{order_id} shipped"))
}

#[trace]
fn support_turn(question: &str) -> String {
    let _ = check("A-17", 0);
    check("A-17", 1).unwrap_or_default() + " (" + question + ")"
}

#[test]
fn through_tracing_opentelemetry_the_exporter_receives_the_same_structure() {
    let server = Emulator::builder().start().unwrap();
    let exporter = HoneyHiveExporter::builder()
        .with_api_url(server.url())
        .with_flush_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    let handle = exporter.handle();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter)
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bot")));
    let answer = tracing::subscriber::with_default(subscriber, || support_turn("where?"));
    assert_eq!(answer, "A-17 shipped (where?)");
    provider.shutdown_with_timeout(PATIENCE).unwrap();
    let stats = handle.stats();
    assert_eq!(stats.delivered(), stats.produced(), "{stats:#?}");

    let sessions = server.sessions();
    assert_eq!(sessions.len(), 1, "{sessions:#?}");
    assert_eq!(object(&sessions[0].inputs), json!({"question": "where?"}));
    assert_eq!(
        object(&sessions[0].outputs),
        json!({"result": "A-17 shipped (where?)"})
    );
    let events = server.events();
    let checks: Vec<_> = events
        .iter()
        .filter(|e| e.event_name.as_deref() == Some("check"))
        .collect();
    assert_eq!(checks.len(), 2, "{events:#?}");
    let failed = checks.iter().find(|e| e.error.is_some()).unwrap();
    assert_eq!(failed.error.as_deref(), Some("the order service timed out"));
    assert_eq!(failed.event_type.as_deref(), Some("tool"));
    assert!(
        object(&failed.metadata)["error_type"]
            .as_str()
            .unwrap()
            .ends_with("Timeout")
    );
    assert_eq!(
        object(&failed.inputs),
        json!({"order_id": "A-17", "attempt": 0})
    );
    let ok = checks.iter().find(|e| e.error.is_none()).unwrap();
    assert_eq!(object(&ok.outputs), json!({"result": "A-17 shipped"}));
}

/// A `fmt` writer into a shared buffer.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn under_another_subscriber_the_call_runs_and_its_fields_are_printed() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .finish();
    let answer = tracing::subscriber::with_default(subscriber, || support_turn("where?"));
    assert_eq!(answer, "A-17 shipped (where?)");
    let printed = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    // The JSON is printed as it is, not quoted again.
    assert!(
        printed.contains(r#"honeyhive.inputs={"question":"where?"}"#),
        "{printed}"
    );
    assert!(
        printed.contains(r#"honeyhive.outputs={"result":"A-17 shipped"}"#),
        "{printed}"
    );
    assert!(
        printed.contains("error=the order service timed out"),
        "{printed}"
    );

    // No subscriber at all: the functions only run.
    assert_eq!(support_turn("again?"), "A-17 shipped (again?)");
}
