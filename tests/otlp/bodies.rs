//! Bodies as real senders write them, and as no sender should: the lenient JSON, partial
//! success, the key rule, and hostile input answered `400`, `413` or `415`, never a panic or a
//! `5xx`.

use std::io::Write as _;

use serde_json::{Value, json};
use tracing_honeyhive::emulator::{Emulator, HONEYHIVE_TRACES_PATH, OTLP_TRACES_PATH};

use crate::{post, stored};

const JSON: (&str, &str) = ("content-type", "application/json");

/// A request's headers.
type Headers = Vec<(&'static str, &'static str)>;
const PROTOBUF: (&str, &str) = ("content-type", "application/x-protobuf");

/// A trace as HoneyHive's Python SDK writes OTLP/JSON: hex ids, `"parentSpanId": null` on the
/// root, enum names as text, times and integers as decimal text.
fn sdk_shaped() -> Value {
    let trace = "5b8efff798038103d269b633813fc60c";
    json!({"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "python-app"}},
        ]},
        "scopeSpans": [{
            "scope": {"name": "honeyhive", "version": "1.7.0"},
            "spans": [
                {
                    "traceId": trace, "spanId": "eee19b7ec3c1b174", "parentSpanId": null,
                    "name": "chat_session", "kind": "SPAN_KIND_INTERNAL",
                    "startTimeUnixNano": "1760000000000000000", "endTimeUnixNano": "1760000002000000000",
                    "attributes": [
                        {"key": "honeyhive.session_name", "value": {"stringValue": "python session"}},
                        {"key": "honeyhive_inputs.question", "value": {"stringValue": "Where is order 7?"}},
                    ],
                    "status": {"code": "STATUS_CODE_UNSET"},
                },
                {
                    "traceId": trace, "spanId": "eee19b7ec3c1b175", "parentSpanId": "eee19b7ec3c1b174",
                    "name": "openai.chat", "kind": "SPAN_KIND_CLIENT",
                    "startTimeUnixNano": "1760000000500000000", "endTimeUnixNano": "1760000001500000000",
                    "attributes": [
                        {"key": "honeyhive_event_type", "value": {"stringValue": "model"}},
                        {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
                        {"key": "gen_ai.usage.prompt_tokens", "value": {"intValue": "42"}},
                        {"key": "gen_ai.usage.completion_tokens", "value": {"intValue": 9}},
                        {"key": "gen_ai.request.temperature", "value": {"doubleValue": "0.2"}},
                        {"key": "gen_ai.prompt.0.role", "value": {"stringValue": "user"}},
                        {"key": "gen_ai.prompt.0.content", "value": {"stringValue": "Where is order 7?"}},
                        {"key": "llm.is_streaming", "value": {"boolValue": false}},
                    ],
                    "events": [{"timeUnixNano": "1760000001000000000", "name": "first token", "attributes": []}],
                    "status": {"code": "STATUS_CODE_ERROR", "message": "rate limited"},
                },
            ],
        }],
    }]})
}

#[test]
fn json_shaped_as_honeyhives_python_sdk_sends_it_is_stored() {
    let server = Emulator::builder().start().unwrap();
    let reply = post(
        &server,
        HONEYHIVE_TRACES_PATH,
        &[JSON],
        sdk_shaped().to_string().into_bytes(),
    );
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.content_type, "application/json");
    assert_eq!(
        serde_json::from_slice::<Value>(&reply.body).unwrap(),
        json!({})
    );
    let (sessions, events) = stored(&server);
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].event_name.as_deref(), Some("python session"));
    assert_eq!(
        sessions[0].inputs.clone().unwrap()["question"],
        json!("Where is order 7?")
    );
    assert_eq!(events.len(), 1);
    let chat = &events[0];
    assert_eq!(chat.event_name.as_deref(), Some("openai.chat"));
    assert_eq!(chat.event_type.as_deref(), Some("model"));
    assert_eq!(chat.error.as_deref(), Some("rate limited"));
    assert_eq!(chat.parent_id, sessions[0].event_id);
    let metadata = chat.metadata.clone().unwrap();
    assert_eq!(metadata["prompt_tokens"], json!(42));
    assert_eq!(metadata["completion_tokens"], json!(9));
    assert_eq!(chat.config.clone().unwrap()["temperature"], json!(0.2));
    assert_eq!(
        chat.inputs.clone().unwrap()["chat_history"],
        json!([{"role": "user", "content": "Where is order 7?"}])
    );
    assert_eq!(chat.start_time, Some(1_760_000_000_500.0));
}

#[test]
fn ids_in_base64_as_a_protobuf_json_printer_writes_them_are_read() {
    let mut body = sdk_shaped();
    let spans = &mut body["resourceSpans"][0]["scopeSpans"][0]["spans"];
    // The same ids in base64.
    for span in spans.as_array_mut().unwrap() {
        span["traceId"] = json!("W47/95gDgQPSabYzgT/GDA==");
        let id = span["spanId"].as_str().unwrap().to_owned();
        span["spanId"] = json!(if id.ends_with("74") {
            "7uGbfsPBsXQ="
        } else {
            "7uGbfsPBsXU="
        });
        if span["parentSpanId"].is_string() {
            span["parentSpanId"] = json!("7uGbfsPBsXQ=");
        }
        span["kind"] = json!(1);
        span["status"]["code"] = json!("ERROR");
    }
    let server = Emulator::builder().start().unwrap();
    let reply = post(
        &server,
        OTLP_TRACES_PATH,
        &[JSON],
        body.to_string().into_bytes(),
    );
    assert_eq!(reply.status, 200);
    let hex = Emulator::builder().start().unwrap();
    post(
        &hex,
        OTLP_TRACES_PATH,
        &[JSON],
        sdk_shaped().to_string().into_bytes(),
    );
    let (sessions, events) = stored(&server);
    let (hex_sessions, hex_events) = stored(&hex);
    assert_eq!(
        sessions[0].event_id, hex_sessions[0].event_id,
        "the same ids"
    );
    assert_eq!(events[0].event_id, hex_events[0].event_id);
}

#[test]
fn malformed_spans_are_rejected_as_a_partial_success_and_the_rest_stored() {
    let mut body = sdk_shaped();
    let spans = body["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array_mut()
        .unwrap();
    let mut broken = spans[1].clone();
    broken["traceId"] = json!("00000000000000000000000000000000");
    spans.push(broken);
    let mut short = spans[1].clone();
    short["spanId"] = json!("abcd");
    spans.push(short);
    let server = Emulator::builder().start().unwrap();
    let reply = post(
        &server,
        OTLP_TRACES_PATH,
        &[JSON],
        body.to_string().into_bytes(),
    );
    assert_eq!(reply.status, 200);
    let answer: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(answer["partialSuccess"]["rejectedSpans"], json!("2"));
    let message = answer["partialSuccess"]["errorMessage"].as_str().unwrap();
    assert!(message.contains("traceId"), "{message}");
    let (sessions, events) = stored(&server);
    assert_eq!((sessions.len(), events.len()), (1, 1));
}

#[test]
fn the_rest_routes_key_rule_applies() {
    let server = Emulator::builder().with_api_key("the-key").start().unwrap();
    let body = sdk_shaped().to_string().into_bytes();
    let none = post(&server, HONEYHIVE_TRACES_PATH, &[JSON], body.clone());
    assert_eq!(none.status, 401);
    let wrong = post(
        &server,
        HONEYHIVE_TRACES_PATH,
        &[JSON, ("authorization", "Bearer nope")],
        body.clone(),
    );
    assert_eq!(wrong.status, 401);
    let right = post(
        &server,
        HONEYHIVE_TRACES_PATH,
        &[JSON, ("authorization", "Bearer the-key")],
        body,
    );
    assert_eq!(right.status, 200);
    let (sessions, _) = stored(&server);
    assert_eq!(sessions.len(), 1);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A `400` whose body is a `google.rpc.Status` in the request's encoding.
fn assert_invalid(reply: &crate::Reply, json: bool) {
    assert_eq!(
        reply.status,
        400,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    if json {
        let status: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(status["code"], json!(3));
        assert!(status["message"].as_str().is_some_and(|m| !m.is_empty()));
    } else {
        assert_eq!(reply.content_type, "application/x-protobuf");
        // Field 1 (code) = 3, then field 2 (message).
        assert_eq!(&reply.body[..2], &[0x08, 0x03]);
        assert_eq!(reply.body[2], 0x12);
    }
}

#[test]
fn hostile_bodies_get_a_400_413_or_415_never_a_5xx() {
    let server = Emulator::builder()
        .with_body_limit(64 * 1024)
        .start()
        .unwrap();
    let good = sdk_shaped().to_string().into_bytes();
    let cases: Vec<(Headers, Vec<u8>, bool)> = vec![
        (vec![JSON], b"{".to_vec(), true),
        (vec![JSON], b"[]".to_vec(), true),
        (vec![JSON], br#"{"resourceSpans": {"not": "a list"}}"#.to_vec(), true),
        (vec![JSON], br#"{"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": "SPAN_KIND_SIDEWAYS"}]}]}]}"#.to_vec(), true),
        (vec![JSON], br#"{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "soon"}]}]}]}"#.to_vec(), true),
        (vec![PROTOBUF], vec![0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], false),
        (vec![PROTOBUF], good[..good.len() / 2].to_vec(), false),
        (vec![JSON, ("content-encoding", "gzip")], b"not gzip at all".to_vec(), true),
        (vec![JSON, ("content-encoding", "gzip")], gzip(&good)[..20].to_vec(), true),
    ];
    for (headers, body, json) in cases {
        let reply = post(&server, OTLP_TRACES_PATH, &headers, body);
        assert_invalid(&reply, json);
    }
    // A gzip body that inflates past the limit (a zip bomb), and one sent over it.
    let bomb = gzip(&vec![b' '; 10 * 1024 * 1024]);
    assert!(bomb.len() < 64 * 1024);
    let reply = post(
        &server,
        OTLP_TRACES_PATH,
        &[JSON, ("content-encoding", "gzip")],
        bomb,
    );
    assert_eq!(reply.status, 413);
    let reply = post(&server, OTLP_TRACES_PATH, &[JSON], vec![b' '; 100 * 1024]);
    assert_eq!(reply.status, 413);
    let reply = post(
        &server,
        OTLP_TRACES_PATH,
        &[("content-type", "text/plain")],
        good.clone(),
    );
    assert_eq!(reply.status, 415);
    let reply = post(
        &server,
        OTLP_TRACES_PATH,
        &[JSON, ("content-encoding", "br")],
        good.clone(),
    );
    assert_eq!(reply.status, 415);
    // Nothing broke: a good body still lands.
    let reply = post(&server, OTLP_TRACES_PATH, &[JSON], good);
    assert_eq!(reply.status, 200);
    let (sessions, _) = stored(&server);
    assert_eq!(sessions.len(), 1);
}

#[test]
fn an_empty_export_is_accepted() {
    let server = Emulator::builder().start().unwrap();
    let reply = post(&server, OTLP_TRACES_PATH, &[PROTOBUF], Vec::new());
    assert_eq!(reply.status, 200);
    assert!(reply.body.is_empty(), "an empty ExportTraceServiceResponse");
    let reply = post(
        &server,
        OTLP_TRACES_PATH,
        &[JSON],
        br#"{"resourceSpans": []}"#.to_vec(),
    );
    assert_eq!(reply.status, 200);
    assert!(server.otlp_stats().is_none(), "nothing started the ingest");
}
