//! `honeyhive serve`: the local HoneyHive-compatible server, printing each session as a tree once
//! it completes, and showing them all in a browser (the link it prints at start).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tracing_honeyhive::config::{self, KeySource};
use tracing_honeyhive::emulator::{Emulator, HONEYHIVE_TRACES_PATH, KeyRefusal, OTLP_TRACES_PATH};

use crate::args::{Global, Serve};
use crate::commands::{config_failure, flag_name, present};
use crate::{Failure, output};

/// How long a session with an end time must go without requests before it is printed: enough for
/// the batch that follows a create carrying `end_time`.
const QUIET: Duration = Duration::from_millis(500);
/// How often the server is looked at.
const POLL: Duration = Duration::from_millis(100);
/// Stack of the thread that prints sessions. It drops each tree it printed, and serde_json drops
/// values recursively: a field nested up to `emulator::MAX_JSON_DEPTH` levels, which the server
/// accepts, needs more than a main thread's 8 MiB in a debug build.
const STACK_SIZE: usize = 128 * 1024 * 1024;

/// Serves until the process is stopped.
pub(crate) fn run(global: &Global, args: &Serve) -> Result<(), Failure> {
    // The key a client in this environment would send: the library says which setting holds
    // it, in its one order, and shows it only masked; the server needs the value itself.
    let resolved = config::resolve_api_key(present(&global.api_key)).map_err(config_failure)?;
    let mut builder = Emulator::builder().with_addr(args.addr);
    if let Some(otlp) = args.otlp_addr {
        builder = builder.with_otlp_addr(otlp);
    }
    if args.refuse_key_with == "404" {
        builder = builder.with_key_refusal(KeyRefusal::NotFound);
    }
    if let Some(value) = resolved.as_ref().and_then(|(_, source)| match source {
        KeySource::Given => global.api_key.clone(),
        variable => std::env::var(variable.name()).ok(),
    }) {
        builder = builder.with_api_key(value.trim());
    }
    let server = builder.start().map_err(|e| {
        let addrs = match args.otlp_addr {
            Some(otlp) => format!("{} and {otlp}", args.addr),
            None => args.addr.to_string(),
        };
        Failure::failed(format!("cannot listen on {addrs}: {e}"))
    })?;
    let url = server.url();
    let otlp = match server.otlp_addr() {
        Some(addr) => format!(
            "  OpenTelemetry traces (OTLP/HTTP): {url}{HONEYHIVE_TRACES_PATH}, and http://{addr}{OTLP_TRACES_PATH}"
        ),
        None => format!(
            "  OpenTelemetry traces (OTLP/HTTP): {url}{HONEYHIVE_TRACES_PATH} and {url}{OTLP_TRACES_PATH}"
        ),
    };
    let auth = match &resolved {
        Some((key, source)) => format!(
            "clients must send the API key {} ({})",
            key.masked(),
            flag_name(source.name())
        ),
        None => "any API key, or none, is accepted".into(),
    };
    for line in [
        format!("honeyhive serve: a local HoneyHive-compatible API on {url}"),
        format!("  point clients at it: export HH_DATA_PLANE_URL={url} HH_API_URL={url}"),
        otlp,
        format!("  sessions in a browser, live: {}", server.view_url()),
        format!("  {auth}"),
        "  completed sessions are printed on stdout; Ctrl-C stops the server".into(),
    ] {
        output::diagnostic(&line);
    }

    std::thread::scope(|scope| {
        let reporter = std::thread::Builder::new()
            .name("honeyhive-serve".into())
            .stack_size(STACK_SIZE)
            .spawn_scoped(scope, || report(global, &server))
            .map_err(|e| Failure::failed(format!("cannot start the reporting thread: {e}")))?;
        reporter
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Prints each session once it completes (again when it changes), and with `--verbose` each
/// request; until the process is stopped.
fn report(global: &Global, server: &Emulator) -> Result<(), Failure> {
    let mut printed: HashMap<String, Instant> = HashMap::new();
    let mut logged = 0;
    loop {
        if global.verbose() {
            let requests = server.requests();
            for request in requests.iter().skip(logged) {
                let status = request.status.map_or("dropped".into(), |s| s.to_string());
                output::diagnostic(&format!("{} {} -> {status}", request.method, request.path));
            }
            logged = requests.len();
        }
        for settled in server.settled_sessions(QUIET) {
            if printed.get(&settled.session_id) == Some(&settled.last_request) {
                continue;
            }
            let Some(tree) = server.tree(&settled.session_id) else {
                continue;
            };
            let updated = printed
                .insert(settled.session_id, settled.last_request)
                .is_some();
            output::stdout(&output::session_report(&tree, updated))?;
        }
        std::thread::sleep(POLL);
    }
}
