//! End to end through a real OpenTelemetry collector: an application exporting with a stock
//! `opentelemetry-otlp` exporter, `HoneyHiveSpanProcessor` stamping its spans, sends OTLP/HTTP to
//! rotel on loopback, which batches and forwards them, with the bearer key, to the local server's
//! OTLP route (`/opentelemetry/v1/traces`, HoneyHive's path); the server answers the first
//! requests 503, and a few more halfway, and rotel retries. Every span must be stored once, in the session and with the
//! type the processor stamped.
//!
//! rotel is an OTLP collector written in Rust; its binary ships in the PyPI package `rotel`.
//! `scripts/collector-e2e.sh` installs it under `target/` and runs this test with `ROTEL_BIN`
//! naming the binary. The test is ignored by a plain `cargo test` (it needs that binary) and
//! fails, rather than skipping, when it is run without it.
#![cfg(all(feature = "emulator", feature = "opentelemetry"))]

use std::collections::{BTreeMap, BTreeSet};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, SdkTracerProvider, SimpleSpanProcessor, SpanData, SpanExporter,
};
use tracing_honeyhive::emulator::{Emulator, Fault, HONEYHIVE_TRACES_PATH};
use tracing_honeyhive::ids;
use tracing_honeyhive::otel::{BaggageSessionProcessor, HoneyHiveSpanProcessor};

/// The key the server requires, which only the collector holds.
const KEY: &str = "hh_collector_e2e_0123456789abcdef";

/// How long the spans may take to cross the collector, retries included.
const PATIENCE: Duration = Duration::from_secs(60);

/// Requests to the OTLP route answered 503 before the server takes any.
const UNAVAILABLE: usize = 4;

/// Requests answered 503 again halfway.
const UNAVAILABLE_LATER: usize = 2;

/// Conversation turns sent, in waves (each wave flushed to the collector on its own).
const TURNS: usize = 24;
const WAVE: usize = 6;

/// Spans per turn: the turn, a model call, a tool call.
const SPANS_PER_TURN: usize = 3;

/// A free port on loopback (released for the collector to take).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port on loopback")
}

/// rotel, running; stopped (SIGTERM, then SIGKILL) when dropped.
struct Rotel {
    child: Child,
    log: PathBuf,
    /// Its OTLP/HTTP receiver.
    http: SocketAddr,
}

impl Rotel {
    /// Starts `bin` receiving OTLP/HTTP on a free loopback port and exporting traces over
    /// OTLP/HTTP to `traces_url` with `Authorization: Bearer <key>`: batches of at most 100 ms,
    /// retries from 100 ms, backing off to 500 ms, for at most 60 s.
    fn start(bin: &str, traces_url: &str, base_url: &str) -> Rotel {
        let http = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let grpc = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let log = dir.join(format!("rotel-{}.log", http.port()));
        let out = std::fs::File::create(&log).expect("rotel's log file");
        let err = out.try_clone().expect("rotel's log file");
        let authorization = format!("Authorization=Bearer {KEY}");
        let mut command = Command::new(bin);
        command
            .arg("start")
            .args(["--otlp-http-endpoint", &http.to_string()])
            .args(["--otlp-grpc-endpoint", &grpc.to_string()])
            .args([
                "--otlp-receiver-metrics-disabled",
                "--otlp-receiver-logs-disabled",
            ])
            .args(["--exporter", "otlp", "--otlp-exporter-protocol", "http"])
            .args(["--otlp-exporter-endpoint", base_url])
            .args(["--otlp-exporter-traces-endpoint", traces_url])
            .args(["--otlp-exporter-custom-headers", &authorization])
            .args(["--traces-batch-timeout", "100ms"])
            .args(["--otlp-exporter-retry-initial-backoff", "100ms"])
            .args(["--otlp-exporter-retry-max-backoff", "500ms"])
            .args(["--otlp-exporter-retry-max-elapsed-time", "60s"])
            .arg("--pid-file")
            .arg(dir.join(format!("rotel-{}.pid", http.port())))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        // The flags above are the whole configuration: none of the caller's ROTEL_* settings.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("ROTEL_") {
                command.env_remove(name);
            }
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("ROTEL_BIN={bin} does not run: {e}"));
        let mut rotel = Rotel { child, log, http };
        rotel.wait_listening();
        rotel
    }

    fn wait_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect_timeout(&self.http, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("rotel exited ({status}) before listening:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "rotel is not listening on {} after 20 s:\n{}",
                self.http,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Rotel {
    fn drop(&mut self) {
        // SIGTERM lets it shut down as it would in production; SIGKILL if it lingers.
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: `kill` only sends a signal, to the child this test started and still owns.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Keeps the spans as the OTLP exporter is handed them: what each was stamped with.
#[derive(Debug, Clone, Default)]
struct Capture(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Capture {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

fn text(span: &SpanData, name: &str) -> String {
    span.attributes
        .iter()
        .rev()
        .find(|kv| kv.key.as_str() == name)
        .map(|kv| kv.value.as_str().into_owned())
        .unwrap_or_else(|| panic!("{} was not stamped with {name}", span.name))
}

fn event_id(span: &SpanData) -> String {
    let context = &span.span_context;
    ids::event_id_for_span(context.trace_id().to_bytes(), context.span_id().to_bytes()).to_string()
}

/// One turn of a support conversation: a model call and a tool call. Even turns belong to one of
/// four conversations (a key in baggage, as a request handler would put it); odd ones are
/// sessions of their own.
fn turn(provider: &SdkTracerProvider, n: usize) {
    let tracer = provider.tracer("support-bot");
    let cx = if n % 2 == 0 {
        let key = format!("conversation-{}", n % 8 / 2);
        Context::current_with_baggage([KeyValue::new("session.id", key)])
    } else {
        Context::current()
    };
    let _attached = cx.attach();
    tracer.in_span(format!("turn {n}"), |_| {
        tracer.in_span("chat gpt-4o-mini", |cx| {
            let span = cx.span();
            span.set_attribute(KeyValue::new("gen_ai.operation.name", "chat"));
            span.set_attribute(KeyValue::new("gen_ai.request.model", "gpt-4o-mini"));
            span.set_attribute(KeyValue::new("gen_ai.usage.input_tokens", 40 + n as i64));
        });
        tracer.in_span("lookup_order", |cx| {
            let span = cx.span();
            span.set_attribute(KeyValue::new("gen_ai.operation.name", "execute_tool"));
            span.set_attribute(KeyValue::new("gen_ai.tool.name", "lookup_order"));
        });
    });
}

#[test]
#[ignore = "needs the rotel collector: run scripts/collector-e2e.sh, which sets ROTEL_BIN"]
fn spans_cross_a_real_collector_with_503s_and_arrive_once_in_their_stamped_sessions() {
    let bin = std::env::var("ROTEL_BIN").unwrap_or_default();
    assert!(
        !bin.trim().is_empty() && std::path::Path::new(&bin).is_file(),
        "ROTEL_BIN must name the rotel binary (scripts/collector-e2e.sh installs it and sets it); \
         got {bin:?}"
    );

    let server = Emulator::builder().with_api_key(KEY).start().unwrap();
    server.inject(
        Fault::status(503)
            .on_path(HONEYHIVE_TRACES_PATH)
            .times(UNAVAILABLE - 1),
    );
    server.inject(
        Fault::status(503)
            .with_retry_after("1")
            .on_path(HONEYHIVE_TRACES_PATH),
    );
    let traces_url = format!("{}{HONEYHIVE_TRACES_PATH}", server.url());
    let rotel = Rotel::start(&bin, &traces_url, &server.url());

    // The application: a stock OTLP/HTTP exporter to the collector, no key, the processor
    // around its batch processor.
    let otlp = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("http://{}/v1/traces", rotel.http))
        .build()
        .expect("the OTLP exporter builds");
    let capture = Capture::default();
    let stamping = |builder: tracing_honeyhive::otel::ProcessorBuilder| {
        builder
            .with_source("collector-e2e")
            .with_session_name("support")
    };
    let provider = SdkTracerProvider::builder()
        .with_resource(
            Resource::builder_empty()
                .with_service_name("support-bot")
                .build(),
        )
        .with_span_processor(BaggageSessionProcessor::default())
        .with_span_processor(
            stamping(HoneyHiveSpanProcessor::builder())
                .build(BatchSpanProcessor::builder(otlp).build()),
        )
        .with_span_processor(
            stamping(HoneyHiveSpanProcessor::builder())
                .build(SimpleSpanProcessor::new(capture.clone())),
        )
        .build();
    for wave in 0..TURNS / WAVE {
        for n in wave * WAVE..(wave + 1) * WAVE {
            turn(&provider, n);
        }
        provider.force_flush().expect("the collector took the wave");
        // Past the collector's batch timeout: each wave its own request.
        std::thread::sleep(Duration::from_millis(250));
        if wave == 1 {
            server.inject(
                Fault::status(503)
                    .on_path(HONEYHIVE_TRACES_PATH)
                    .times(UNAVAILABLE_LATER),
            );
        }
    }
    provider.shutdown().expect("the collector took every span");

    let spans = capture.0.lock().unwrap().clone();
    assert_eq!(spans.len(), TURNS * SPANS_PER_TURN);
    // The root of a turn with no conversation key carries its trace's own session: it is that
    // session, as the in-process exporter makes it; every other span is an event.
    let is_session = |s: &SpanData| {
        let trace = s.span_context.trace_id().to_bytes();
        s.parent_span_id == opentelemetry::trace::SpanId::INVALID
            && text(s, "honeyhive.session_id") == ids::session_id_for_trace(trace).to_string()
    };
    let roots: Vec<&SpanData> = spans.iter().filter(|s| is_session(s)).collect();
    assert_eq!(roots.len(), TURNS / 2, "every other turn has no key");
    let expected: BTreeMap<String, &SpanData> = spans
        .iter()
        .filter(|s| !is_session(s))
        .map(|s| (event_id(s), s))
        .collect();
    let arrived = server.wait_until(PATIENCE, |server| {
        server.flush_otlp(Duration::from_millis(200));
        let stored: BTreeSet<String> = server
            .events()
            .into_iter()
            .filter_map(|e| e.event_id)
            .collect();
        expected.keys().all(|id| stored.contains(id))
    });
    let requests: Vec<Option<u16>> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == HONEYHIVE_TRACES_PATH)
        .map(|r| r.status)
        .collect();
    assert!(
        arrived,
        "not every span arrived in {PATIENCE:?}; OTLP answers {requests:?}; rotel:\n{}",
        rotel.log()
    );
    assert!(server.flush_otlp(PATIENCE), "the ingested spans are stored");
    eprintln!("the OTLP route answered rotel: {requests:?}");

    // The collector met the 503s, retried, and got through.
    let unavailable = requests.iter().filter(|s| **s == Some(503)).count();
    assert_eq!(unavailable, UNAVAILABLE + UNAVAILABLE_LATER, "{requests:?}");
    assert!(requests.contains(&Some(200)), "{requests:?}");
    for request in server.requests() {
        if request.path == HONEYHIVE_TRACES_PATH {
            let authorization = request
                .headers
                .iter()
                .find(|(name, _)| name == "authorization")
                .map(|(_, value)| value.as_str());
            assert_eq!(authorization, Some(&*format!("Bearer {KEY}")));
        }
    }

    // Everything once: no span handed over twice, none lost, each event stored once.
    let stats = server.otlp_stats().expect("the OTLP route took spans");
    assert_eq!(stats.spans_repeated, 0, "{stats:#?}");
    assert_eq!(stats.lost(), 0, "{stats:#?}");
    assert_eq!(stats.produced(), spans.len() as u64, "{stats:#?}");
    let events = server.events();
    let mut seen = BTreeSet::new();
    for event in &events {
        let id = event.event_id.clone().unwrap();
        assert!(seen.insert(id.clone()), "event {id} stored twice");
        let span = expected
            .get(&id)
            .unwrap_or_else(|| panic!("an event no span made: {event:#?}"));
        let at = &span.name;
        let session = text(span, "honeyhive.session_id");
        assert_eq!(event.session_id.as_deref(), Some(&*session), "{at}");
        let stamped = text(span, "honeyhive_event_type");
        assert_eq!(event.event_type.as_deref(), Some(&*stamped), "{at}");
        assert_eq!(event.source.as_deref(), Some("collector-e2e"), "{at}");
    }
    assert_eq!(seen.len(), expected.len());
    for root in &roots {
        let session = server
            .session(&text(root, "honeyhive.session_id"))
            .unwrap_or_else(|| panic!("no session for the root {}", root.name));
        assert_eq!(
            session.event_name.as_deref(),
            Some(&*text(root, "honeyhive.session_name"))
        );
        assert_eq!(session.source.as_deref(), Some("collector-e2e"));
    }

    // The sessions are those stamped: four conversations, one session per other turn.
    let stamped: BTreeSet<String> = spans
        .iter()
        .map(|s| text(s, "honeyhive.session_id"))
        .collect();
    let sessions: BTreeSet<String> = server
        .sessions()
        .into_iter()
        .filter_map(|s| s.session_id)
        .collect();
    assert_eq!(sessions, stamped);
    assert_eq!(sessions.len(), 4 + TURNS / 2);
    for n in 0..4 {
        let id = ids::session_id_for_key(&format!("conversation-{n}")).to_string();
        assert!(sessions.contains(&id), "conversation-{n}");
    }
}

/// One support turn in `tracing`, as an application writes it: a model call with its tokens and
/// a failing tool call, inside a turn.
fn traced_turn() {
    let turn = tracing::info_span!("support turn", honeyhive.session_name = "order #77");
    let _turn = turn.enter();
    {
        let _chat = tracing::info_span!(
            "chat gpt-4o-mini",
            gen_ai.operation.name = "chat",
            gen_ai.request.model = "gpt-4o-mini",
            gen_ai.usage.input_tokens = 42_i64,
            gen_ai.usage.output_tokens = 9_i64,
        )
        .entered();
    }
    {
        let _tool = tracing::info_span!(
            "lookup_order",
            gen_ai.operation.name = "execute_tool",
            gen_ai.tool.name = "lookup_order",
            error = "the order service timed out",
        )
        .entered();
    }
}

/// A session's shape: its name, then each event's name, type and error, in start order.
fn shape(server: &Emulator) -> Vec<String> {
    let sessions = server.sessions();
    assert_eq!(sessions.len(), 1, "{sessions:#?}");
    let mut lines = vec![format!(
        "{} [session]",
        sessions[0].event_name.as_deref().unwrap()
    )];
    let mut events = server.events();
    events.sort_by(|a, b| a.start_time.partial_cmp(&b.start_time).unwrap());
    for event in events {
        lines.push(format!(
            "{} [{}] error={:?} tokens={}",
            event.event_name.unwrap(),
            event.event_type.unwrap(),
            event.error,
            event.metadata.unwrap_or_default()["total_tokens"],
        ));
    }
    lines
}

#[test]
#[ignore = "needs the rotel collector: run scripts/collector-e2e.sh, which sets ROTEL_BIN"]
fn the_same_turn_arrives_alike_through_the_layer_otlp_ingest_and_a_collector() {
    use tracing_subscriber::layer::SubscriberExt as _;
    let bin = std::env::var("ROTEL_BIN").unwrap_or_default();
    assert!(
        !bin.trim().is_empty(),
        "ROTEL_BIN must name the rotel binary"
    );

    // 1. The tracing layer, straight to the local server's REST routes.
    let layered = Emulator::builder().with_api_key(KEY).start().unwrap();
    let (layer, guard) = tracing_honeyhive::HoneyHiveLayer::builder()
        .with_api_url(layered.url())
        .with_api_key(KEY)
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), traced_turn);
    guard.flush(PATIENCE).expect("delivered");

    // 2. tracing-opentelemetry and a stock OTLP exporter, into `honeyhive serve`'s OTLP route.
    // 3. The same with HoneyHiveSpanProcessor, through rotel.
    let ingested = Emulator::builder().with_api_key(KEY).start().unwrap();
    let collected = Emulator::builder().with_api_key(KEY).start().unwrap();
    let traces = format!("{}{HONEYHIVE_TRACES_PATH}", collected.url());
    let rotel = Rotel::start(&bin, &traces, &collected.url());
    let otlp = |endpoint: String| {
        use opentelemetry_otlp::WithHttpConfig as _;
        opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(endpoint)
            .with_headers([("authorization".to_owned(), format!("Bearer {KEY}"))].into())
            .build()
            .expect("the OTLP exporter builds")
    };
    let direct = SdkTracerProvider::builder()
        .with_simple_exporter(otlp(format!("{}{HONEYHIVE_TRACES_PATH}", ingested.url())))
        .build();
    let through_collector = SdkTracerProvider::builder()
        .with_span_processor(
            HoneyHiveSpanProcessor::builder().build(SimpleSpanProcessor::new(otlp(format!(
                "http://{}/v1/traces",
                rotel.http
            )))),
        )
        .build();
    for provider in [&direct, &through_collector] {
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("support-bot"));
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), traced_turn);
        provider.force_flush().expect("exported");
    }
    assert!(ingested.flush_otlp(PATIENCE));
    let arrived = collected.wait_until(PATIENCE, |server| {
        server.flush_otlp(Duration::from_millis(200)) && server.events().len() == 2
    });
    assert!(
        arrived,
        "the collector delivered the turn:\n{}",
        rotel.log()
    );

    let shapes = [shape(&layered), shape(&ingested), shape(&collected)];
    for (path, server) in [
        ("layer", &layered),
        ("OTLP into honeyhive serve", &ingested),
        ("collector", &collected),
    ] {
        eprintln!("== {path}\n{}", server.waterfalls());
    }
    eprintln!("{shapes:#?}");
    assert_eq!(shapes[0], shapes[1]);
    assert_eq!(shapes[1], shapes[2]);
    assert_eq!(
        shapes[0],
        [
            "order #77 [session]",
            "chat gpt-4o-mini [model] error=None tokens=51",
            "lookup_order [tool] error=Some(\"the order service timed out\") tokens=null",
        ]
    );
}
