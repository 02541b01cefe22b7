//! The live stream: the summaries of sessions changed after the revision a page has seen, then
//! each change as it happens.

use std::time::Duration;

use serde_json::{Value, json};
use tracing_honeyhive::emulator::Emulator;
use uuid::Uuid;

use crate::{get, post, session};

/// Longest wait for a message the server must send; a failure, not a measurement.
const PATIENCE: Duration = Duration::from_secs(30);

/// A reader of `/api/live`'s messages.
struct Live {
    response: reqwest::Response,
    pending: String,
}

impl Live {
    async fn open(server: &Emulator, since: u64) -> Live {
        let url = format!("{}/api/live?since={since}", server.url());
        let response = crate::http().get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(kind, "text/event-stream");
        Live {
            response,
            pending: String::new(),
        }
    }

    /// The next `session` message's summary.
    async fn next(&mut self) -> Value {
        loop {
            if let Some(end) = self.pending.find("\n\n") {
                let message: String = self.pending.drain(..end + 2).collect();
                let mut lines = message.lines();
                if lines.next() == Some("event: session") {
                    let data = lines.next().and_then(|l| l.strip_prefix("data: ")).unwrap();
                    return serde_json::from_str(data).unwrap();
                }
                continue;
            }
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk()).await;
            let chunk = chunk
                .expect("a message in time")
                .unwrap()
                .expect("the stream goes on");
            self.pending.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Summaries until one of `session_id` satisfies `done`.
    async fn until(&mut self, session_id: &str, done: impl Fn(&Value) -> bool) -> Value {
        loop {
            let summary = self.next().await;
            if summary["session_id"] == json!(session_id) && done(&summary) {
                return summary;
            }
        }
    }
}

#[tokio::test]
async fn a_page_hears_of_every_session_created_or_changed_after_what_it_read() {
    let server = Emulator::builder().start().unwrap();
    let first = Uuid::new_v4().to_string();
    session(&server, None, &first, "first", 1_000.0, json!([])).await;
    let seen = get(&format!("{}/api/sessions", server.url()), &[])
        .await
        .json();
    let revision = seen["revision"].as_u64().unwrap();

    // From the start: what is already there.
    let mut everything = Live::open(&server, 0).await;
    assert_eq!(everything.next().await["session_id"], json!(first));

    // From what the page read: only what comes after.
    let mut live = Live::open(&server, revision).await;
    let second = Uuid::new_v4().to_string();
    let event = json!([{"event_type": "model", "event_name": "chat", "error": "boom",
                        "metadata": {"total_tokens": 9}}]);
    session(&server, None, &second, "second", 2_000.0, event).await;
    let arrived = live.until(&second, |s| s["events"] == 1).await;
    assert_eq!(arrived["name"], "second");
    assert_eq!(
        (arrived["model_events"].clone(), arrived["tokens"].clone()),
        (json!(1), json!(9))
    );
    assert_eq!(arrived["errors"], 1);

    // A change to the first session: its new summary.
    let path = format!("/v1/sessions/{first}/events/batch");
    post(
        &server,
        None,
        &path,
        json!({"events": [{"event_type": "tool", "event_name": "t"}]}),
    )
    .await;
    let changed = live.until(&first, |s| s["events"] == 1).await;
    assert!(changed["revision"].as_u64().unwrap() > arrived["revision"].as_u64().unwrap());

    // An update: the session's end.
    let body = json!({"end_time": 9_000.0});
    let update = crate::http()
        .put(format!("{}/v1/events/{first}", server.url()))
        .json(&body);
    assert_eq!(update.send().await.unwrap().status(), 200);
    let ended = live
        .until(&first, |s| s["end_time"] == json!(9_000.0))
        .await;
    assert_eq!(ended["events"], 1);
}

#[tokio::test]
async fn a_session_filled_in_a_rush_ends_with_its_complete_summary() {
    let server = Emulator::builder().start().unwrap();
    let id = Uuid::new_v4().to_string();
    session(&server, None, &id, "busy", 1.0, json!([])).await;
    let mut live = Live::open(&server, 0).await;
    live.until(&id, |_| true).await;
    let path = format!("/v1/sessions/{id}/events/batch");
    for _ in 0..50 {
        let events: Vec<Value> = (0..20)
            .map(|_| json!({"event_type": "model", "metadata": {"total_tokens": 2}}))
            .collect();
        post(&server, None, &path, json!({ "events": events })).await;
    }
    // However the changes were grouped into messages, the last one counts them all.
    let last = live.until(&id, |s| s["events"] == 1000).await;
    assert_eq!(
        (last["model_events"].clone(), last["tokens"].clone()),
        (json!(1000), json!(2000))
    );
}
