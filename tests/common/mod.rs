//! Helpers shared by the integration test binaries.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use jsonschema::Validator;

/// The vendored contract schema `file` (such as `create-session.json`), compiled once per test
/// binary.
pub fn schema(file: &str) -> &'static Validator {
    static CACHE: LazyLock<Mutex<HashMap<String, &'static Validator>>> =
        LazyLock::new(Mutex::default);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.entry(file.to_owned()).or_insert_with(|| {
        let path = format!("{}/schemas/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let validator = jsonschema::validator_for(&json).unwrap_or_else(|e| panic!("{path}: {e}"));
        Box::leak(Box::new(validator))
    })
}

/// A plain HTTP client, for requests the typed client would never send.
pub fn raw_http() -> reqwest::Client {
    reqwest::Client::new()
}

/// Peak resident memory of this process, in KiB (Linux; 0 elsewhere): the test's own when it
/// runs alone in its process.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// The URL of a loopback port nothing listens on: a server that is down.
pub fn closed_url() -> String {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    url
}

/// The names of a tree's nodes, depth first, indented by depth, with their types.
pub fn outline(tree: &tracing_honeyhive::wire::SessionTree) -> Vec<String> {
    fn walk(node: &tracing_honeyhive::wire::SessionTree, depth: usize, out: &mut Vec<String>) {
        let event = &node.event;
        out.push(format!(
            "{}{} [{}]",
            "  ".repeat(depth),
            event.event_name.as_deref().unwrap_or("?"),
            event.event_type.as_deref().unwrap_or("?")
        ));
        for child in &node.children {
            walk(child, depth + 1, out);
        }
    }
    let mut out = Vec::new();
    walk(tree, 0, &mut out);
    out
}
