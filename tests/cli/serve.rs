//! `honeyhive serve` as its own process: other processes (this binary, the typed client) send a
//! session to it, and it prints the session's tree once the session completes.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::json;
use tracing_honeyhive::Client;
use tracing_honeyhive::emulator::MAX_JSON_DEPTH;
use tracing_honeyhive::wire::{CreateSession, Event, EventType};
use uuid::Uuid;

use crate::{KEY, assert_valid, finish, honeyhive};

/// Longest wait for a line the server must print; a failure, not a measurement.
const PATIENCE: Duration = Duration::from_secs(60);

/// A running `honeyhive serve`, stopped (by its own handle) when dropped.
struct Served {
    child: Child,
    url: String,
    stdout: Receiver<String>,
    /// Its diagnostics after the first line (kept open so that they have a reader).
    stderr: Receiver<String>,
}

impl Served {
    fn start(args: &[&str]) -> Served {
        Served::start_in(args, &[])
    }

    /// `serve` with `args`, in the environment `env` alone.
    fn start_in(args: &[&str], env: &[(&str, &str)]) -> Served {
        let mut command = honeyhive(&[&["serve", "--addr", "127.0.0.1:0"][..], args].concat());
        command.envs(env.iter().copied());
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let stdout = lines(child.stdout.take().expect("piped stdout"));
        let stderr = lines(child.stderr.take().expect("piped stderr"));
        let banner = stderr
            .recv_timeout(PATIENCE)
            .expect("serve prints its address");
        let url = banner
            .split_whitespace()
            .find(|word| word.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no URL in {banner:?}"))
            .to_owned();
        Served {
            child,
            url,
            stdout,
            stderr,
        }
    }

    /// `honeyhive args…` pointed at this server with `key`.
    fn client_run(&self, key: Option<&str>, args: &[&str]) -> crate::Run {
        let mut command = honeyhive(args);
        command.env("HH_API_URL", &self.url);
        if let Some(key) = key {
            command.env("HH_API_KEY", key);
        }
        finish(command, None)
    }

    /// The stdout lines up to and including the session's waterfall (a blank line ends it).
    fn report_of(&self, session_id: &str) -> Vec<String> {
        let mut report: Vec<String> = Vec::new();
        loop {
            let line = self
                .stdout
                .recv_timeout(PATIENCE)
                .unwrap_or_else(|e| panic!("no report of {session_id} ({e}); got {report:#?}"));
            if line.starts_with(&format!("session {session_id}")) {
                report.clear();
            }
            if line.is_empty() && !report.is_empty() {
                return report;
            }
            report.push(line);
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The lines of `pipe`, read on their own thread.
fn lines(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

#[test]
fn serve_accepts_a_create_and_a_batch_from_other_processes_and_prints_the_tree() {
    let served = Served::start(&["--api-key", KEY]);
    let session_id = Uuid::new_v4().to_string();
    let created = served.client_run(
        Some(KEY),
        &[
            "sessions",
            "create",
            "--session-id",
            &session_id,
            "--session-name",
            "support chat",
            "--start-time",
            "1000",
            "--end-time",
            "1800",
        ],
    );
    assert_eq!(created.json()["session_id"], json!(session_id));
    let events = json!([
        {"event_type": "model", "event_name": "plan", "inputs": {}, "start_time": 1005, "duration": 310},
        {"event_type": "tool", "event_name": "lookup", "inputs": {}, "start_time": 1320, "end_time": 1440},
    ]);
    let batch = served.client_run(
        Some(KEY),
        &[
            "sessions",
            "create-event-batch",
            "--session-id",
            &session_id,
            "--events",
            &events.to_string(),
        ],
    );
    assert_eq!(batch.json(), json!({"success": true}));

    let report = served.report_of(&session_id);
    assert_eq!(
        report[0],
        format!("session {session_id} \"support chat\": 2 events, 800 ms")
    );
    assert!(
        report[1].starts_with("support chat [session]"),
        "{report:#?}"
    );
    assert!(report[2].starts_with("├─ plan [model]"), "{report:#?}");
    assert!(report[2].contains("+5 ms  310 ms"), "{report:#?}");
    assert!(report[3].starts_with("└─ lookup [tool]"), "{report:#?}");

    let tree = served.client_run(Some(KEY), &["sessions", "get", &session_id, "--json"]);
    let tree = tree.json();
    assert_valid("get-session-response.json", &tree);
    assert_eq!(tree["children"].as_array().map(Vec::len), Some(2));
}

#[test]
fn serve_can_refuse_a_key_with_404_as_honeyhive_does_today() {
    let served = Served::start(&["--api-key", KEY, "--refuse-key-with", "404"]);
    served
        .client_run(Some("hh_not_the_key_0123456789"), &["sessions", "create"])
        .refused(1, &["404"]);
    served.client_run(Some(KEY), &["sessions", "create"]).json();
}

#[test]
fn serve_requires_its_key_and_reports_a_session_ended_by_an_update() {
    let served = Served::start(&["--api-key", KEY]);
    served
        .client_run(Some("hh_not_the_key_0123456789"), &["sessions", "create"])
        .refused(1, &["401"]);
    served
        .client_run(None, &["sessions", "create"])
        .refused(1, &["401", "Missing Authorization"]);

    // The typed client, as an application would use it: create, batch, then end with a PUT.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let session_id = runtime.block_on(async {
        let client = Client::builder()
            .with_api_key(KEY)
            .with_api_url(&served.url)
            .build()
            .expect("a client");
        let mut session = CreateSession::default();
        session.session_name = Some("long session".into());
        session.start_time = Some(0);
        let id = client
            .create_session(&session)
            .await
            .expect("created")
            .session_id;
        let mut event = Event::new(EventType::Chain);
        event.event_name = Some("step".into());
        event.start_time = Some(10);
        event.end_time = Some(30);
        client
            .create_session_event_batch(id, &[event])
            .await
            .expect("batch");
        let mut done = tracing_honeyhive::wire::UpdateEvent::default();
        done.end_time = Some(40);
        client.update_event(id, &done).await.expect("ended");
        id
    });
    let report = served.report_of(&session_id.to_string());
    assert!(
        report[0].ends_with("\"long session\": 1 event, 40 ms"),
        "{report:#?}"
    );
    assert!(report[2].starts_with("└─ step [chain]"), "{report:#?}");
}

#[test]
fn serve_requires_the_key_a_client_in_its_environment_would_send() {
    let ingestion = format!("hh_ingst_{}_{}", "Serve0Id1234567890abcdef", "k".repeat(64));
    let served = Served::start_in(
        &[],
        &[
            ("HH_INGESTION_API_KEY", ingestion.as_str()),
            ("HH_PROJECT_API_KEY", KEY),
        ],
    );
    served
        .client_run(Some(KEY), &["sessions", "create"])
        .refused(1, &["401"]);
    let mut command = honeyhive(&["sessions", "create"]);
    command
        .env("HH_DATA_PLANE_URL", &served.url)
        .env("HH_INGESTION_API_KEY", &ingestion)
        .env("HH_PROJECT_API_KEY", KEY);
    finish(command, None).json();
}

#[test]
fn serve_without_a_key_accepts_any_and_refuses_a_busy_address() {
    let served = Served::start(&[]);
    let run = served.client_run(None, &["sessions", "create"]);
    run.json();
    let addr = served.url.trim_start_matches("http://");
    let busy = finish(honeyhive(&["serve", "--addr", addr]), None);
    busy.refused(1, &["cannot listen on", addr]);
}

/// `GET target` from the server at `url`, with these extra header lines, over a plain loopback
/// connection; the answer's head.
fn get_raw(url: &str, target: &str, headers: &str) -> String {
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("serve accepts connections");
    let request =
        format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .expect("the request is sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    answer
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn serve_prints_the_link_of_its_web_view_which_alone_lets_a_browser_in() {
    let served = Served::start(&["--api-key", KEY]);
    let line = loop {
        let line = served
            .stderr
            .recv_timeout(PATIENCE)
            .expect("the banner goes on");
        if line.contains("in a browser") {
            break line;
        }
    };
    assert!(!line.contains(KEY), "the API key is never printed: {line}");
    let link = line.split_whitespace().last().unwrap();
    let target = link
        .strip_prefix(&served.url)
        .unwrap_or_else(|| panic!("{line}"));
    assert!(target.starts_with("/?token="), "{line}");
    let token = target.trim_start_matches("/?token=");

    let refused = get_raw(&served.url, "/api/sessions", "");
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    let opened = get_raw(&served.url, target, "");
    assert!(opened.starts_with("HTTP/1.1 303"), "{opened}");
    assert!(
        opened.contains(&format!(
            "set-cookie: hh_view={token}; Path=/; HttpOnly; SameSite=Strict"
        )),
        "{opened}"
    );
    let cookie = format!("Cookie: hh_view={token}\r\n");
    let admitted = get_raw(&served.url, "/api/sessions", &cookie);
    assert!(admitted.starts_with("HTTP/1.1 200"), "{admitted}");
}

/// `POST path` with `body` to the server at `url` over a plain loopback connection; the status.
fn post_raw(url: &str, path: &str, body: &str) -> u16 {
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("serve accepts connections");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .expect("the request is sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    let status = answer.split_whitespace().nth(1).unwrap_or_default();
    status
        .parse()
        .unwrap_or_else(|_| panic!("no status in {answer:.200}"))
}

#[test]
fn serve_prints_a_session_holding_a_value_nested_to_the_limit_and_keeps_serving() {
    let served = Served::start(&["--api-key", KEY]);
    // Objects nested to the server's limit: serde_json drops them recursively, deeper than an
    // ordinary main thread's stack in a debug build.
    let levels = MAX_JSON_DEPTH - 1;
    let deep = format!("{}1{}", "{\"a\":".repeat(levels), "}".repeat(levels));
    let session_id = Uuid::new_v4().to_string();
    let body = format!(
        r#"{{"session_id": "{session_id}", "session_name": "deep", "start_time": 0,
            "end_time": 5, "inputs": {deep}}}"#
    );
    assert_eq!(post_raw(&served.url, "/v1/sessions", &body), 200);
    let report = served.report_of(&session_id);
    assert!(report[0].contains("\"deep\": 0 events"), "{report:#?}");

    let next = Uuid::new_v4().to_string();
    let body = format!(r#"{{"session_id": "{next}", "session_name": "next", "end_time": 1}}"#);
    assert_eq!(post_raw(&served.url, "/v1/sessions", &body), 200);
    let report = served.report_of(&next);
    assert!(report[0].contains("\"next\""), "{report:#?}");
}

#[test]
fn serve_takes_otlp_traces_on_its_address_and_on_the_otlp_one_and_prints_the_session() {
    let served = Served::start(&["--api-key", KEY, "--otlp-addr", "127.0.0.1:0"]);
    // The banner names both OTLP addresses; the second is the --otlp-addr one.
    let otlp_line = (0..6)
        .filter_map(|_| served.stderr.recv_timeout(PATIENCE).ok())
        .find(|line| line.contains("OTLP/HTTP"))
        .expect("serve prints where OTLP goes");
    let otlp_url = otlp_line
        .split_whitespace()
        .rev()
        .find(|w| w.starts_with("http://"))
        .map(|w| w.trim_end_matches(','))
        .expect("the OTLP address")
        .to_owned();
    assert!(otlp_url.ends_with("/v1/traces"), "{otlp_line}");
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let body = json!({"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": trace, "spanId": "00f067aa0ba902b7", "parentSpanId": null, "name": "otlp turn",
         "kind": "SPAN_KIND_SERVER", "startTimeUnixNano": "1760000000000000000",
         "endTimeUnixNano": "1760000001000000000"},
        {"traceId": trace, "spanId": "00f067aa0ba902b8", "parentSpanId": "00f067aa0ba902b7",
         "name": "chat", "startTimeUnixNano": "1760000000100000000",
         "endTimeUnixNano": "1760000000900000000",
         "attributes": [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}]},
    ]}]}]});
    let base = otlp_url.trim_end_matches("/v1/traces");
    assert_eq!(post_raw(base, "/v1/traces", &body.to_string()), 200);
    let session_id = tracing_honeyhive::ids::session_id_for_trace(
        u128::from_str_radix(trace, 16).unwrap().to_be_bytes(),
    )
    .to_string();
    let report = served.report_of(&session_id).join("\n");
    assert!(report.contains("otlp turn"), "{report}");
    assert!(report.contains("chat [model]"), "{report}");
}
