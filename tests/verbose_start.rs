//! `with_verbose(true)` logs where spans go, once, with the subscriber installed globally right
//! after `build()` as the README sets it up. The global subscriber can be set once per process,
//! so each try runs in a child process: this test binary again, running `child` alone.
#![cfg(feature = "emulator")]

use std::process::Command;

use tracing_honeyhive::HoneyHiveLayer;
use tracing_honeyhive::emulator::Emulator;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Set in the child processes.
const CHILD: &str = "TRACING_HONEYHIVE_VERBOSE_CHILD";

/// How many processes: the line used to be lost about once in twenty.
const TRIES: usize = 40;

#[test]
fn the_start_line_reaches_a_subscriber_installed_right_after_build() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    let server = Emulator::builder().start().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut missing = Vec::new();
    for attempt in 0..TRIES {
        let output = Command::new(&exe)
            .args([
                "--exact",
                "the_start_line_reaches_a_subscriber_installed_right_after_build",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, server.url())
            .env_remove("HH_API_KEY")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "child {attempt} failed: {stdout}");
        let lines = stdout
            .lines()
            .filter(|l| l.contains("sends to") && l.contains(&server.url()))
            .count();
        if lines != 1 {
            missing.push((attempt, stdout.into_owned()));
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {TRIES} processes did not log the start line once: {missing:#?}",
        missing.len()
    );
}

/// The README's set-up: build, install globally with a `fmt` layer, then shut down.
fn child() {
    let url = std::env::var(CHILD).unwrap();
    let (layer, guard) = HoneyHiveLayer::builder()
        .with_api_url(url)
        .with_verbose(true)
        .build()
        .unwrap();
    tracing_subscriber::registry()
        .with(layer)
        .with(tracing_subscriber::fmt::layer().with_ansi(false))
        .init();
    let _ = guard.shutdown(std::time::Duration::from_secs(5));
}
