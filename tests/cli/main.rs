//! The `honeyhive` binary, run as a separate process against the local server on a free loopback
//! port: what reaches the wire for each flag, `--filename` and standard input, the schema flags,
//! every refusal of bad input, API errors, and `serve`.
#![cfg(feature = "cli")]

#[path = "../common/mod.rs"]
mod common;

mod api_errors;
mod bad_input;
mod batch;
mod create;
mod filename;
mod get;
mod help;
mod keys;
mod schemas;
mod serve;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use tracing_honeyhive::emulator::{Emulator, RecordedRequest};

/// The key the test servers require.
const KEY: &str = "hh_cli_tests_0123456789abcdef";

/// The `honeyhive` binary Cargo built for these tests.
const BINARY: &str = env!("CARGO_BIN_EXE_honeyhive");

/// A server requiring [`KEY`].
fn server() -> Emulator {
    Emulator::builder()
        .with_api_key(KEY)
        .start()
        .expect("the local server starts")
}

/// How one run of the binary ended.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Asserts exit status 0 and that stdout is exactly one JSON document; that document.
    fn json(&self) -> Value {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {self:#?}"))
    }

    /// Asserts a refusal with `code`, nothing on stdout, and a message naming each of `parts`.
    fn refused(&self, code: i32, parts: &[&str]) -> &Self {
        assert_eq!(self.code, code, "{self:#?}");
        assert!(self.stdout.is_empty(), "stdout must stay empty: {self:#?}");
        let error_line = self.stderr.lines().any(|line| line.starts_with("error: "));
        assert!(error_line, "an `error: …` line on stderr: {self:#?}");
        for part in parts {
            assert!(
                self.stderr.contains(part),
                "stderr should name {part}: {self:#?}"
            );
        }
        self
    }
}

/// A `honeyhive` command with no `HH_*` variable of the test's own environment.
fn honeyhive(args: &[&str]) -> Command {
    let mut command = Command::new(BINARY);
    command.args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("HH_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs `command` to completion, feeding `stdin` if any.
fn finish(mut command: Command, stdin: Option<&str>) -> Run {
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary starts");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(text.as_bytes()).expect("stdin is written");
    }
    let output = child.wait_with_output().expect("the binary finishes");
    Run {
        code: output.status.code().expect("the binary exits by itself"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// `honeyhive args…` against `server`, with its URL and [`KEY`] from the environment.
fn run(server: &Emulator, args: &[&str]) -> Run {
    run_with_stdin(server, args, None)
}

fn run_with_stdin(server: &Emulator, args: &[&str], stdin: Option<&str>) -> Run {
    let mut command = honeyhive(args);
    command
        .env("HH_API_URL", server.url())
        .env("HH_API_KEY", KEY);
    finish(command, stdin)
}

/// `honeyhive args…` with no server and no key at all.
fn run_alone(args: &[&str]) -> Run {
    finish(honeyhive(args), None)
}

/// The one request `server` received, asserted to be `method path`.
fn only_request(server: &Emulator, method: &str, path: &str) -> RecordedRequest {
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let request = requests.into_iter().next().expect("one request");
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        (method, path)
    );
    request
}

/// Asserts `value` satisfies the vendored contract schema `file`.
fn assert_valid(file: &str, value: &Value) {
    let errors: Vec<String> = common::schema(file)
        .iter_errors(value)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{file} rejects {value}: {errors:#?}");
}

/// A new session on `server`, created through the binary; its id.
fn new_session(server: &Emulator) -> String {
    let created = run(server, &["sessions", "create", "--session-name", "test"]).json();
    created["session_id"]
        .as_str()
        .expect("the answer has a session_id")
        .to_owned()
}

/// A file holding `text` that lives as long as the returned guard.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!(
            "honeyhive-cli-{}-{}-{name}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::write(&path, text).expect("the temporary file is written");
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
