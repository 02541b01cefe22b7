//! The page in a real browser: headless Chromium driven through ChromeDriver's WebDriver API
//! (plain HTTP and JSON), against a keyed server fed by the quickstart's own binary.
//!
//! Ignored by a plain `cargo test`: it needs Chromium, ChromeDriver and the quickstart built.
//! `scripts/web-e2e.sh` installs Debian's `chromium` and `chromium-driver` when they are missing,
//! builds the quickstart, and runs it with `QUICKSTART_BIN`, `CHROMEDRIVER`, `CHROMIUM` and
//! `WEB_SCREENSHOTS` (a folder for the screenshots it takes) set.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};
use tracing_honeyhive::emulator::Emulator;
use uuid::Uuid;

use crate::{KEY, post, session};

/// Longest wait for the page to reach a state; a failure, not a measurement.
const PATIENCE: Duration = Duration::from_secs(30);

/// A ChromeDriver process and one browser session in it, both ended when dropped.
struct Browser {
    driver: Child,
    base: String,
    http: reqwest::Client,
    _profile: TempDir,
}

/// A folder removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Browser {
    async fn start() -> Browser {
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = free_port();
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{driver_bin}: {e} (run scripts/web-e2e.sh)"));
        let http = reqwest::Client::new();
        let root = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            let ready = http.get(format!("{root}/status")).send().await;
            if let Ok(ready) = ready {
                let status: Value = ready.json().await.unwrap_or_default();
                if status["value"]["ready"] == json!(true) {
                    break;
                }
            }
            assert!(started.elapsed() < PATIENCE, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = std::env::temp_dir().join(format!("hh-web-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&profile).unwrap();
        // The flags that keep Chromium off the network it has no business with.
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,900",
        ];
        let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args}
        }}});
        let created: Value = http
            .post(format!("{root}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {created}"));
        Browser {
            driver,
            base: format!("{root}/session/{id}"),
            http,
            _profile: TempDir(profile),
        }
    }

    /// A WebDriver command; its `value`.
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        let value = answer["value"].clone();
        if value.get("error").is_some() {
            panic!("WebDriver {path}: {value}");
        }
        value
    }

    async fn open(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// Runs `script` (a function body) in the page with `args`; what it returns.
    async fn run(&self, script: &str, args: Value) -> Value {
        let body = json!({"script": script, "args": args});
        self.command(reqwest::Method::POST, "/execute/sync", Some(body))
            .await
    }

    /// Waits until `script` returns a truthy value; that value.
    async fn until(&self, what: &str, script: &str) -> Value {
        let started = Instant::now();
        loop {
            let value = self.run(script, json!([])).await;
            if !matches!(value, Value::Null | Value::Bool(false)) && value != json!(0) {
                return value;
            }
            if started.elapsed() > PATIENCE {
                let text = self.run("return document.body.innerText", json!([])).await;
                panic!("the page never showed {what}; it shows:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The element that `css` selects.
    async fn find(&self, css: &str) -> String {
        let body = json!({"using": "css selector", "value": css});
        let found = self
            .command(reqwest::Method::POST, "/element", Some(body))
            .await;
        found["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        let path = format!("/element/{element}/click");
        self.command(reqwest::Method::POST, &path, Some(json!({})))
            .await;
    }

    /// Types `text` into the element `css` (WebDriver's key codes work: `\u{E007}` is Enter).
    async fn keys(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        let path = format!("/element/{element}/value");
        self.command(reqwest::Method::POST, &path, Some(json!({"text": text})))
            .await;
    }

    async fn resize(&self, width: u32, height: u32) {
        let rect = json!({"width": width, "height": height});
        self.command(reqwest::Method::POST, "/window/rect", Some(rect))
            .await;
    }

    /// A screenshot into `$WEB_SCREENSHOTS/{name}.png`, when that folder is given.
    async fn screenshot(&self, name: &str) {
        let Ok(folder) = std::env::var("WEB_SCREENSHOTS") else {
            return;
        };
        let png = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(format!("{folder}/{name}.png"), bytes).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends the browser, then the driver.
        let url = self.base.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async { reqwest::Client::new().delete(url).send().await.ok() });
            }
        })
        .join();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Runs the quickstart's binary against `server`, as a user with a key would.
fn quickstart(server: &Emulator) {
    let binary = std::env::var("QUICKSTART_BIN").expect("QUICKSTART_BIN (run scripts/web-e2e.sh)");
    let output = Command::new(binary)
        .env_remove("HH_INGESTION_API_KEY")
        .env_remove("HH_PROJECT_API_KEY")
        .env_remove("HH_DATA_PLANE_URL")
        .env("HH_API_KEY", KEY)
        .env("HH_API_URL", server.url())
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The rows of the tree the page has in its document (it renders those in view only).
const TREE_ROWS: &str = "return document.querySelectorAll('#tree [data-event-id]').length";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, ChromeDriver and the quickstart built: scripts/web-e2e.sh"]
async fn the_page_shows_the_quickstarts_sessions_live_in_chromium() {
    let server = Emulator::builder().with_api_key(KEY).start().unwrap();
    quickstart(&server);
    assert_eq!(server.sessions().len(), 3);
    let browser = Browser::start().await;

    // Without the printed link's token: refused, and nothing of the sessions shown.
    browser.open(&server.url()).await;
    let text = browser
        .run("return document.body.innerText", json!([]))
        .await;
    assert!(
        text.as_str().unwrap().contains("printed at start"),
        "{text}"
    );
    assert!(!text.as_str().unwrap().contains("order #"), "{text}");

    // The list, through the link.
    browser.open(&server.view_url()).await;
    browser
        .until("three sessions", "return document.body.dataset.view === 'list' && document.querySelectorAll('tr[data-session-id]').length === 3")
        .await;
    let url = browser.run("return location.href", json!([])).await;
    assert!(
        !url.as_str().unwrap().contains("token"),
        "the token left the address bar: {url}"
    );
    let names = browser
        .run(
            "return [...document.querySelectorAll('tr[data-session-id]')].map(r => r.innerText)",
            json!([]),
        )
        .await;
    let names = names.to_string();
    for order in ["order #1042", "order #2210", "order #77"] {
        assert!(names.contains(order), "{order} in {names}");
    }
    browser
        .until(
            "the live status",
            "return /live/.test(document.querySelector('#live-status').innerText)",
        )
        .await;
    browser.screenshot("list").await;

    // The filter and the errors-only switch.
    browser.keys("#filter", "2210").await;
    browser
        .until(
            "one match",
            "return document.querySelectorAll('tr[data-session-id]').length === 1",
        )
        .await;
    browser.run("const f = document.querySelector('#filter'); f.value = ''; f.dispatchEvent(new Event('input', {bubbles: true}))", json!([])).await;
    browser
        .until(
            "all again",
            "return document.querySelectorAll('tr[data-session-id]').length === 3",
        )
        .await;
    browser.click("#errors-only").await;
    browser
        .until("the failed session only", "const rows = document.querySelectorAll('tr[data-session-id]'); return rows.length === 1 && rows[0].innerText.includes('order #77')")
        .await;

    // A session: its summary, its tree with the failed tool marked; opened with the keyboard.
    browser.keys("tr[data-session-id]", "\u{E007}").await;
    browser
        .until(
            "the session",
            "return document.body.dataset.view === 'session'",
        )
        .await;
    let summary = browser
        .until(
            "the summary",
            "return document.querySelector('#summary').innerText",
        )
        .await;
    assert!(summary.as_str().unwrap().contains("error"), "{summary}");
    let failed = browser
        .until(
            "a failed row",
            "const f = document.querySelector('#tree .failed'); return f && f.innerText",
        )
        .await;
    assert!(
        failed.as_str().unwrap().contains("check_payment"),
        "{failed}"
    );
    browser.screenshot("session").await;

    // A model event: its chat as a conversation.
    browser.click("#tree .type-model").await;
    browser
        .until("the event", "return document.body.dataset.view === 'event'")
        .await;
    let roles = browser
        .until("the chat", "return [...document.querySelectorAll('#chat .msg')].map(m => m.dataset.role).join(' ')")
        .await;
    assert!(
        roles.as_str().unwrap().starts_with("system user"),
        "{roles}"
    );
    let answer = browser
        .run(
            "return document.querySelector('#chat .answer').innerText",
            json!([]),
        )
        .await;
    assert!(
        answer.as_str().unwrap().contains("look the order up"),
        "{answer}"
    );
    let sections = browser
        .run("return [...document.querySelectorAll('#event [data-section]')].map(s => s.dataset.section)", json!([]))
        .await;
    for section in ["inputs", "outputs", "config", "metadata"] {
        assert!(
            sections.to_string().contains(section),
            "{section} in {sections}"
        );
    }
    browser.screenshot("event-chat").await;

    // The failed tool: its error.
    browser.click("#tree .failed").await;
    let error = browser
        .until("the error", "const e = document.querySelector('#event [data-section=error]'); return e && e.innerText")
        .await;
    assert!(error.as_str().unwrap().contains("timed out"), "{error}");

    // A deep link to that event, in a fresh page load.
    let deep = browser.run("return location.href", json!([])).await;
    browser.open("about:blank").await;
    browser.open(deep.as_str().unwrap()).await;
    browser.until("the linked event", "const e = document.querySelector('#event [data-section=error]'); return document.body.dataset.view === 'event' && e && e.innerText.includes('timed out')").await;

    // A narrow window: the event under the tree, nothing wider than the window.
    browser.resize(480, 900).await;
    browser
        .until(
            "no horizontal scroll",
            "return document.documentElement.scrollWidth <= window.innerWidth + 1",
        )
        .await;
    browser.screenshot("narrow").await;
    browser.resize(1400, 900).await;

    // Live: a session that arrives while the list is open appears without a reload; paused, it
    // waits.
    browser
        .run(
            "window.__sameDocument = true; location.hash = '#/'",
            json!([]),
        )
        .await;
    browser
        .until("the list", "return document.body.dataset.view === 'list'")
        .await;
    browser
        .run(
            "const s = document.querySelector('#errors-only'); if (s.checked) s.click()",
            json!([]),
        )
        .await;
    let live = Uuid::new_v4().to_string();
    let start = server.sessions()[0].start_time.unwrap() + 60_000.0;
    session(
        &server,
        Some(KEY),
        &live,
        "arrived live",
        start,
        json!([tool_calling_chat(start)]),
    )
    .await;
    let first = browser
        .until("the new session", &format!("const r = document.querySelector('tr[data-session-id=\"{live}\"]'); return r && window.__sameDocument && document.querySelector('tr[data-session-id]') === r"))
        .await;
    assert_eq!(first, json!(true));
    // Its event came in a second request: the row follows.
    let events = format!(
        "const r = document.querySelector('tr[data-session-id=\"{live}\"]'); return r.cells[4].innerText === '1'"
    );
    browser.until("the new session's event", &events).await;
    browser.click("#pause").await;
    browser
        .until(
            "paused",
            "return /paused/.test(document.querySelector('#live-status').innerText)",
        )
        .await;
    let held = Uuid::new_v4().to_string();
    session(
        &server,
        Some(KEY),
        &held,
        "held while paused",
        start + 1.0,
        json!([]),
    )
    .await;
    browser
        .until(
            "the held count",
            "return /1 new/.test(document.body.innerText)",
        )
        .await;
    let shown = format!("return !!document.querySelector('tr[data-session-id=\"{held}\"]')");
    assert_eq!(
        browser.run(&shown, json!([])).await,
        json!(false),
        "held while paused"
    );
    browser.click("#pause").await;
    browser.until("the held session", &shown).await;

    // A tool-calling chat (async-openai's shape): the call with its arguments, its result, the
    // answer.
    browser
        .run(&format!("location.hash = '#/sessions/{live}'"), json!([]))
        .await;
    browser
        .until(
            "the live session",
            "return document.body.dataset.view === 'session'",
        )
        .await;
    browser.click("#tree .type-model").await;
    let call = browser
        .until("the tool call", "const c = document.querySelector('#chat .tool-call[data-tool-call-id=\"call_lookup_1\"]'); return c && c.innerText")
        .await;
    let call = call.as_str().unwrap();
    assert!(
        call.contains("lookup_order") && call.contains("\"order\": 7"),
        "pretty-printed: {call}"
    );
    let result = browser
        .run(
            "return document.querySelector('#chat .msg[data-role=tool]').innerText",
            json!([]),
        )
        .await;
    assert!(
        result.as_str().unwrap().contains("call_lookup_1")
            && result.as_str().unwrap().contains("shipped yesterday"),
        "{result}"
    );
    let answer = browser
        .run(
            "return document.querySelector('#chat .answer').innerText",
            json!([]),
        )
        .await;
    assert!(
        answer
            .as_str()
            .unwrap()
            .contains("Order 7 shipped yesterday."),
        "{answer}"
    );
    browser.screenshot("event-tool-call").await;

    // An open session follows its own changes: an event that arrives now joins its tree.
    let path = format!("/v1/sessions/{live}/events/batch");
    let late = json!({"event_id": "arrived-late", "event_type": "tool", "event_name": "lookup_order",
                      "start_time": start + 400.0, "end_time": start + 420.0});
    post(&server, Some(KEY), &path, json!({ "events": [late] })).await;
    browser
        .until("the late event in the open tree", "return window.__sameDocument && !!document.querySelector('#tree [data-event-id=\"arrived-late\"]') && /2 events/.test(document.querySelector('#summary').innerText)")
        .await;

    // A session of 10,000 events: how long the page takes to show it, and the window of rows.
    let big = Uuid::new_v4().to_string();
    ten_thousand_events(&server, &big, start + 2.0).await;
    let took = browser
        .command(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({"script": "const done = arguments[arguments.length - 1]; const t0 = performance.now(); location.hash = '#/sessions/' + arguments[0]; const look = () => { if (document.body.dataset.view === 'session' && document.querySelector('#tree [data-event-id]') && /10,?000/.test(document.querySelector('#summary').innerText)) done(performance.now() - t0); else requestAnimationFrame(look); }; look();", "args": [big]})),
        )
        .await;
    println!(
        "a 10,000-event session shown in {took:.0} ms",
        took = took.as_f64().unwrap()
    );
    let rendered = browser.run(TREE_ROWS, json!([])).await.as_u64().unwrap();
    assert!(
        (1..500).contains(&rendered),
        "windowed: {rendered} rows in the document"
    );
    browser.run("const t = document.querySelector('#tree'); const s = t.scrollHeight > t.clientHeight ? t : document.scrollingElement; s.scrollTop = s.scrollHeight", json!([])).await;
    browser
        .until(
            "the last event",
            "return !!document.querySelector('#tree [data-event-id=\"last-of-10000\"]')",
        )
        .await;
    browser.screenshot("ten-thousand").await;
}

/// A model event as async-openai's instrumentation records the second call of a tool-calling
/// chat: the history with the model's tool call and its result, then the answer.
fn tool_calling_chat(start: f64) -> Value {
    let call = json!({"id": "call_lookup_1", "type": "function",
                      "function": {"name": "lookup_order", "arguments": "{\"order\":7}"}});
    json!({
        "event_type": "model", "event_name": "chat gpt-4o-mini",
        "start_time": start + 1.0, "end_time": start + 350.0,
        "inputs": {"chat_history": [
            {"role": "system", "content": "You answer questions about orders."},
            {"role": "user", "content": "Where is order 7?"},
            {"role": "assistant", "tool_calls": [call]},
            {"role": "tool", "content": "shipped yesterday", "tool_call_id": "call_lookup_1"}
        ]},
        "outputs": {"role": "assistant", "content": "Order 7 shipped yesterday.", "finish_reason": "stop",
                    "messages": [{"role": "assistant", "content": "Order 7 shipped yesterday.", "finish_reason": "stop"}]},
        "config": {"model": "gpt-4o-mini", "provider": "openai", "stream": true},
        "metadata": {"prompt_tokens": 42, "completion_tokens": 9, "total_tokens": 51, "finish_reasons": ["stop"]}
    })
}

/// A session of 10,000 events under `id`: 100 chains of 99 model and tool calls each; the last
/// event's id is `last-of-10000`.
async fn ten_thousand_events(server: &Emulator, id: &str, start: f64) {
    session(server, Some(KEY), id, "ten thousand", start, json!([])).await;
    let path = format!("/v1/sessions/{id}/events/batch");
    let mut n = 0;
    for chunk in 0..10 {
        let mut events = Vec::new();
        for chain in 0..10 {
            let chain_id = Uuid::new_v4().to_string();
            let t = start + f64::from(chunk * 10 + chain) * 100.0;
            events.push(json!({"event_id": chain_id, "event_type": "chain", "event_name": format!("step {}", chunk * 10 + chain), "start_time": t, "end_time": t + 99.0}));
            for call in 0..99 {
                n += 1;
                let kind = if call % 3 == 0 { "tool" } else { "model" };
                let event_id = if n == 9_900 {
                    "last-of-10000".to_owned()
                } else {
                    Uuid::new_v4().to_string()
                };
                let at = t + f64::from(call);
                events.push(json!({"event_id": event_id, "parent_id": chain_id, "event_type": kind, "event_name": format!("call {call}"), "start_time": at, "end_time": at + 0.8}));
            }
        }
        post(server, Some(KEY), &path, json!({ "events": events })).await;
    }
    assert_eq!(server.events_of(id).len(), 10_000);
}
