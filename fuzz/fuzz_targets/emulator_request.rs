//! Arbitrary requests to the local server's routes: never a 5xx, never a panic, an error status
//! always with the documented error body.
#![no_main]

use std::sync::LazyLock;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::Mutex;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tracing_honeyhive::emulator::fuzzing::{Handler, STACK_SIZE};

#[derive(Debug, Arbitrary)]
struct Input {
    route: u8,
    id: Option<String>,
    authorized: bool,
    body: Vec<u8>,
}

const ROUTES: [(&str, &str); 9] = [
    ("POST", "/v1/sessions"),
    ("POST", "/v1/sessions/{id}/events/batch"),
    ("PUT", "/v1/events/{id}"),
    ("GET", "/v1/sessions/{id}"),
    ("POST", "/v1/events/batch"),
    ("POST", "/session/start"),
    ("PUT", "/events"),
    ("POST", "/events/batch"),
    ("DELETE", "/v1/sessions"),
];

type Job = (String, String, bool, Vec<u8>);

/// The handler runs on a thread with the stack deep bodies need; inputs go to it one at a time.
static WORKER: LazyLock<Mutex<(SyncSender<Job>, Receiver<()>)>> = LazyLock::new(|| {
    let (jobs, inbox) = sync_channel::<Job>(0);
    let (done, finished) = sync_channel(0);
    std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn(move || {
            let handler = Handler::default();
            for (method, path, authorized, body) in inbox {
                handler.check(&method, &path, authorized, &body);
                done.send(()).unwrap();
            }
        })
        .unwrap();
    Mutex::new((jobs, finished))
});

fuzz_target!(|input: Input| {
    let (method, template) = ROUTES[usize::from(input.route) % ROUTES.len()];
    let id = input
        .id
        .unwrap_or_else(|| "6f2c1a9e-4b1d-4c3e-9a57-0d2f8e1b7c44".to_owned());
    let path = template.replace("{id}", &id);
    let worker = WORKER.lock().unwrap();
    worker
        .0
        .send((method.to_owned(), path, input.authorized, input.body))
        .unwrap();
    // A panic on the handler's thread closes the channel: the unwrap turns it into a crash.
    worker.1.recv().unwrap();
});
