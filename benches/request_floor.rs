//! What one HoneyHive request costs on loopback, against the floor: a minimal hyper client.
//!
//! Issue 23 asks for the layer's cost per span as requests × the cost of one request + the
//! mapping, so that the distance to the limit shows. The per-session route sends two requests
//! per session (`POST /v1/sessions`, then its events' batch), since the API has no batch create.
//! This bench times one request of each kind, sent three ways to the same minimal hyper server
//! on loopback, which reads the body and answers fixed bytes at once:
//!
//! 1. **hyper**: `hyper::client::conn::http1` on one kept-alive connection, the body as
//!    prepared `Bytes`, the answer's body read whole; no pool, no parsing. The floor.
//! 2. **reqwest**: a default `reqwest::Client` sending the same bytes (the HTTP client our
//!    `Client` is built on), the answer's body read whole.
//! 3. **ours**: `tracing_honeyhive::Client`: `create_session` and `create_session_event_batch`,
//!    as an application calls them. These serialise the body from the wire types and parse the
//!    answer into them. The exporter writes its batches with its own writer instead, so for the
//!    batch the difference to reqwest is an upper bound of what the exporter's request costs.
//!
//! The create's body is a session with a name, source, start and a small `inputs` object (about
//! 200 bytes). The batch's body is ten of issue 11's `llm_call` events, each with its 200-byte
//! prompt (about 5 KB). Each request runs on a current-thread tokio runtime (`iter_custom` around
//! `block_on`). The run ends with a markdown table for BENCHMARKS.md: the median (and fastest)
//! of criterion's samples in ns per request, the median CPU time the client's thread used per
//! request (the server has a thread of its own), and their ratios to hyper.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-main cargo bench --all-features --bench request_floor
//! ```

mod common;

use std::cell::RefCell;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, criterion_group};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};
use tracing_honeyhive::Client;
use tracing_honeyhive::wire::{CreateSession, Event, EventType, JsonObject};
use uuid::Uuid;

use common::measure::{median, thousands, thread_cpu};

const SAMPLES: usize = 20;
const KEY: &str = "hh_bench_request_floor";

/// What the server answers a create: the session record, as the local server answers.
const CREATED: &str = r#"{"session_id":"6f2c1a9e-4b1d-4c3e-9a57-0d2f8e1b7c44","event_id":"6f2c1a9e-4b1d-4c3e-9a57-0d2f8e1b7c44","event_type":"session","event_name":"support turn","source":"bench","start_time":1764900000000.0,"children_ids":[],"config":{},"inputs":{"question":"Where is my order?"},"outputs":{},"metadata":{},"user_properties":{},"metrics":{},"feedback":{},"org_id":"local-org","workspace_id":"local-workspace","project_id":"local-project"}"#;
const SUCCESS: &str = r#"{"success":true}"#;

/// A minimal HTTP/1.1 server on loopback: reads each body, answers fixed bytes. Runs on its own
/// thread until the process ends.
fn serve() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(answer);
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
    });
    addr
}

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let create = request.uri().path() == "/v1/sessions";
    let _ = request.into_body().collect().await;
    let body = if create { CREATED } else { SUCCESS };
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

fn session() -> CreateSession {
    let mut inputs = JsonObject::new();
    inputs.insert("question".into(), json!("Where is my order?"));
    let mut session = CreateSession::default();
    session.session_id = Some(SESSION);
    session.session_name = Some("support turn".into());
    session.source = Some("bench".into());
    session.start_time = Some(1_764_900_000_000);
    session.inputs = Some(inputs);
    session
}

const SESSION: Uuid = Uuid::from_u128(0x6f2c_1a9e_4b1d_4c3e_9a57_0d2f_8e1b_7c44);

/// Ten of issue 11's `llm_call` events: six fields, the 200-byte prompt among them.
fn events() -> Vec<Event> {
    let object = |value: Value| match value {
        Value::Object(map) => map,
        _ => unreachable!("an object"),
    };
    (0..10_i64)
        .map(|i| {
            let mut event = Event::new(EventType::Model);
            event.event_name = Some("llm_call".into());
            event.event_id = Some(Uuid::from_u128(i as u128 + 1));
            event.parent_id = Some(SESSION);
            event.start_time = Some(1_764_900_000_000 + i);
            event.end_time = Some(1_764_900_000_001 + i);
            event.duration = Some(1.0);
            let prompt = common::prompt();
            event.inputs = object(json!({"chat_history": [{"role": "user", "content": prompt}]}));
            event.config = Some(object(json!({"model": "gpt-4o-mini", "temperature": 0.2})));
            let usage = json!({"prompt_tokens": 42, "completion_tokens": 9, "attempt": i});
            event.metadata = Some(object(usage));
            event
        })
        .collect()
}

/// A request kind: its path and body.
struct Kind {
    name: &'static str,
    path: String,
    body: Bytes,
}

fn kinds() -> [Kind; 2] {
    let session_id = SESSION;
    [
        Kind {
            name: "create (POST /v1/sessions)",
            path: "/v1/sessions".into(),
            body: Bytes::from(serde_json::to_vec(&session()).unwrap()),
        },
        Kind {
            name: "batch of 10 events",
            path: format!("/v1/sessions/{session_id}/events/batch"),
            body: Bytes::from(serde_json::to_vec(&json!({"events": events()})).unwrap()),
        },
    ]
}

/// One kept-alive hyper connection to `addr`.
async fn hyper_connection(
    addr: SocketAddr,
) -> hyper::client::conn::http1::SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let io = hyper_util::rt::TokioIo::new(stream);
    let (sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
    tokio::spawn(connection);
    sender
}

/// (kind, subject, median ns, fastest ns, median client CPU ns) of each bench, for the table.
type Row = (&'static str, &'static str, f64, f64, f64);

fn request_floor(c: &mut Criterion, rows: &RefCell<Vec<Row>>) {
    let addr = serve();
    let url = format!("http://{addr}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut hyper_sender = runtime.block_on(hyper_connection(addr));
    let reqwest = reqwest::Client::new();
    let ours = Client::builder()
        .with_api_url(url.as_str())
        .with_api_key(KEY)
        .build()
        .unwrap();
    let (session, events) = (session(), events());
    let session_id = session.session_id.unwrap();

    let mut group = c.benchmark_group("request_floor");
    group.sample_size(SAMPLES);
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    for kind in kinds() {
        let create = kind.path == "/v1/sessions";
        let mut times: Vec<(&'static str, Vec<f64>, Vec<f64>)> = Vec::new();
        let mut run = |subject: &'static str, one: &mut dyn FnMut()| {
            let (mut samples, mut cpu) = (Vec::new(), Vec::new());
            group.bench_function(format!("{} / {subject}", kind.name), |b| {
                b.iter_custom(|iterations| {
                    let (start, start_cpu) = (Instant::now(), thread_cpu());
                    for _ in 0..iterations {
                        one();
                    }
                    let elapsed = start.elapsed();
                    let used = thread_cpu().saturating_sub(start_cpu);
                    samples.push(elapsed.as_nanos() as f64 / iterations as f64);
                    cpu.push(used.as_nanos() as f64 / iterations as f64);
                    elapsed
                });
            });
            times.push((subject, samples, cpu));
        };
        run("hyper (floor)", &mut || {
            runtime.block_on(async {
                let request = Request::post(kind.path.as_str())
                    .header(hyper::header::HOST, addr.to_string())
                    .header(hyper::header::CONTENT_TYPE, "application/json")
                    .header(hyper::header::AUTHORIZATION, format!("Bearer {KEY}"))
                    .body(Full::new(kind.body.clone()))
                    .unwrap();
                let response = hyper_sender.send_request(request).await.unwrap();
                let body = response.into_body().collect().await.unwrap().to_bytes();
                assert!(!body.is_empty());
            });
        });
        run("reqwest", &mut || {
            runtime.block_on(async {
                let response = reqwest
                    .post(format!("{url}{}", kind.path))
                    .header("content-type", "application/json")
                    .bearer_auth(KEY)
                    .body(kind.body.clone())
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success());
                assert!(!response.bytes().await.unwrap().is_empty());
            });
        });
        run("tracing_honeyhive::Client", &mut || {
            runtime.block_on(async {
                if create {
                    let created = ours.create_session(&session).await.unwrap();
                    assert_eq!(created.session_id, session_id);
                } else {
                    ours.create_session_event_batch(session_id, &events)
                        .await
                        .unwrap();
                }
            });
        });
        for (subject, samples, cpu) in times {
            let fastest = samples.iter().copied().fold(f64::INFINITY, f64::min);
            let median_of = |values: &[f64]| median(values).unwrap_or(f64::NAN);
            let row = (
                kind.name,
                subject,
                median_of(&samples),
                fastest,
                median_of(&cpu),
            );
            rows.borrow_mut().push(row);
        }
    }
    group.finish();
}

fn table(rows: &[Row]) {
    println!(
        "\n| request | subject | ns per request, median (fastest) | × hyper | client CPU ns per request | × hyper |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    let (mut floor, mut floor_cpu) = (f64::NAN, f64::NAN);
    let mut last = "";
    for &(kind, subject, median, fastest, cpu) in rows {
        if subject.starts_with("hyper") {
            (floor, floor_cpu) = (median, cpu);
        }
        let shown = if kind == last { "" } else { kind };
        last = kind;
        println!(
            "| {shown} | {subject} | {} ({}) | {:.2} | {} | {:.2} |",
            thousands(median as u64),
            thousands(fastest as u64),
            median / floor,
            thousands(cpu as u64),
            cpu / floor_cpu
        );
    }
}

fn benches(c: &mut Criterion) {
    let rows = RefCell::new(Vec::new());
    request_floor(c, &rows);
    table(&rows.borrow());
}

criterion_group!(request_floor_group, benches);

fn main() {
    request_floor_group();
    Criterion::default().configure_from_args().final_summary();
}
