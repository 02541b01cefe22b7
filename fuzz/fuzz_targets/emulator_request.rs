//! Arbitrary requests to the local server's routes: never a 5xx, never a panic, an error status
//! always with the documented error body (for the REST routes and the web view's JSON) or a
//! `google.rpc.Status` (for the OTLP trace routes, with either content type, gzipped or not).
#![no_main]

use std::sync::LazyLock;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tracing_honeyhive::emulator::fuzzing::{Handler, STACK_SIZE};

#[derive(Debug, Arbitrary)]
struct Input {
    route: u8,
    id: Option<String>,
    authorized: bool,
    /// For the OTLP routes: which content type, and whether the body is marked gzip.
    json: bool,
    gzip: bool,
    body: Vec<u8>,
}

/// The OTLP trace routes, after the REST ones in the `route` numbering.
const OTLP_ROUTES: [&str; 2] = ["/opentelemetry/v1/traces", "/v1/traces"];

const ROUTES: [(&str, &str); 12] = [
    ("POST", "/v1/sessions"),
    ("POST", "/v1/sessions/{id}/events/batch"),
    ("PUT", "/v1/events/{id}"),
    ("GET", "/v1/sessions/{id}"),
    ("POST", "/v1/events/batch"),
    ("POST", "/session/start"),
    ("PUT", "/events"),
    ("POST", "/events/batch"),
    ("DELETE", "/v1/sessions"),
    // The web view's JSON (its live stream never ends, so it is left out).
    ("GET", "/api/sessions/{id}"),
    ("GET", "/api/sessions/{id}/events/{id}"),
    ("GET", "/api/sessions/{id}/export"),
];

/// A request: method, path, authorized, and for OTLP the content type and gzip flag.
type Job = (String, String, bool, Option<(&'static str, bool)>, Vec<u8>);

/// The handler runs on a thread with the stack deep bodies need; inputs go to it one at a time.
static WORKER: LazyLock<Mutex<(SyncSender<Job>, Receiver<()>)>> = LazyLock::new(|| {
    let (jobs, inbox) = sync_channel::<Job>(0);
    let (done, finished) = sync_channel(0);
    std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn(move || {
            let handler = Handler::default();
            for (method, path, authorized, otlp, body) in inbox {
                match otlp {
                    Some((content_type, gzip)) => {
                        handler.check_otlp(&path, authorized, content_type, gzip, &body)
                    }
                    None => handler.check(&method, &path, authorized, &body),
                }
                done.send(()).unwrap();
            }
        })
        .unwrap();
    Mutex::new((jobs, finished))
});

fuzz_target!(|input: Input| {
    let route = usize::from(input.route) % (ROUTES.len() + OTLP_ROUTES.len());
    let (method, path, otlp) = match ROUTES.get(route) {
        Some((method, template)) => {
            let id = input
                .id
                .unwrap_or_else(|| "6f2c1a9e-4b1d-4c3e-9a57-0d2f8e1b7c44".to_owned());
            (*method, template.replace("{id}", &id), None)
        }
        None => {
            let content_type = if input.json {
                "application/json"
            } else {
                "application/x-protobuf"
            };
            let path = OTLP_ROUTES[route - ROUTES.len()].to_owned();
            ("POST", path, Some((content_type, input.gzip)))
        }
    };
    let worker = WORKER.lock().unwrap();
    worker
        .0
        .send((method.to_owned(), path, input.authorized, otlp, input.body))
        .unwrap();
    // A panic on the handler's thread closes the channel: the unwrap turns it into a crash.
    worker.1.recv().unwrap();
});
