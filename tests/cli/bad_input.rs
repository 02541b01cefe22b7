//! Bad input is refused before any request: exit status 2, nothing on stdout, and a message
//! naming the flag (or file) and the problem.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tracing_honeyhive::emulator::Emulator;

use crate::{KEY, Run, TempFile, honeyhive, new_session, run, run_alone, server};

const ID: &str = "0f8e4a44-8d0a-4c55-9f9b-6f6f4c1f3a10";

/// Runs `args` against a fresh server, asserts a refusal naming `parts`, and that nothing was
/// sent.
fn refused(args: &[&str], parts: &[&str]) -> Run {
    let server = server();
    let run = run(&server, args);
    run.refused(2, parts);
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
    run
}

/// As [`refused`], for a batch to a session that exists.
fn batch_refused(server: &Emulator, session_id: &str, events: &str, parts: &[&str]) {
    let before = server.requests().len();
    let args = [
        "sessions",
        "create-event-batch",
        "--session-id",
        session_id,
        "--events",
        events,
    ];
    run(server, &args).refused(2, parts);
    assert_eq!(server.requests().len(), before, "nothing was sent");
}

#[test]
fn invalid_json_is_refused_with_its_line_and_column() {
    refused(
        &["sessions", "create", "--inputs", r#"{"question": }"#],
        &["--inputs", "invalid JSON", "line 1, column 14"],
    );
    refused(
        &["sessions", "create", "--metadata", "{\n  \"a\": 1,\n}"],
        &["--metadata", "invalid JSON", "line 3, column 1"],
    );
    refused(
        &[
            "sessions",
            "create-event-batch",
            "--session-id",
            ID,
            "--events",
            "[{",
        ],
        &["--events", "invalid JSON", "line 1"],
    );
    let file = TempFile::new("broken.json", "{\"session_name\": \"x\",\n\"inputs\": {]}");
    refused(
        &["sessions", "create", "--filename", file.path()],
        &[
            "--filename",
            file.path(),
            "invalid JSON",
            "line 2, column 12",
        ],
    );
}

#[test]
fn a_json_value_of_the_wrong_kind_for_the_flag_is_refused() {
    for (flag, value, expected, got) in [
        (
            "--inputs",
            "[1]",
            "expected a JSON object",
            "got an array ([1])",
        ),
        (
            "--config",
            "\"gpt-4o\"",
            "expected a JSON object",
            "got a string",
        ),
        ("--outputs", "null", "expected a JSON object", "got null"),
        ("--metadata", "42", "expected a JSON object", "got a number"),
        (
            "--user-properties",
            "true",
            "expected a JSON object",
            "got a boolean",
        ),
        (
            "--children-ids",
            "{}",
            "expected a JSON array",
            "got an object",
        ),
    ] {
        refused(&["sessions", "create", flag, value], &[flag, expected, got]);
    }
    refused(
        &["sessions", "create", "--children-ids", "[\"child-1\"]"],
        &["--children-ids", "[0]", "`child-1` is not a UUID"],
    );
    refused(
        &[
            "sessions",
            "create-event-batch",
            "--session-id",
            ID,
            "--events",
            "{}",
        ],
        &["--events", "expected a JSON array", "got an object"],
    );
}

#[test]
fn a_non_numeric_time_is_refused_instead_of_becoming_now() {
    for flag in ["--start-time", "--end-time"] {
        refused(
            &["sessions", "create", flag, "now"],
            &[
                flag,
                "`now` is not a number",
                "Unix epoch milliseconds",
                "current time",
            ],
        );
        refused(
            &["sessions", "create", flag, ""],
            &[flag, "is not a number"],
        );
        refused(
            &["sessions", "create", flag, "1712025501605.5"],
            &[flag, "not a whole number of milliseconds"],
        );
        refused(
            &["sessions", "create", flag, "1e30"],
            &[flag, "out of range"],
        );
    }
    for bad in ["fast", "NaN", "inf"] {
        refused(
            &["sessions", "create", "--duration", bad],
            &["--duration", "is not a number of milliseconds"],
        );
    }
    let file = TempFile::new("times.json", r#"{"start_time": "now"}"#);
    refused(
        &["sessions", "create", "-f", file.path()],
        &[
            "--filename",
            "at start_time",
            "expected a whole number",
            "got a string",
        ],
    );
}

#[test]
fn unknown_fields_and_invalid_event_types_are_refused() {
    let server = server();
    let session_id = new_session(&server);
    batch_refused(
        &server,
        &session_id,
        r#"[{"event_type": "tool", "inputs": {}, "model": "gpt-4o"}]"#,
        &["--events", "at [0]", "unknown field `model`", "event_type"],
    );
    batch_refused(
        &server,
        &session_id,
        r#"[{"event_type": "chain", "inputs": {}}, {"event_type": "llm", "inputs": {}}]"#,
        &[
            "--events",
            "at [1].event_type",
            "`llm` is not one of model, tool, chain, session",
        ],
    );
    batch_refused(
        &server,
        &session_id,
        r#"[{"event_type": "model"}]"#,
        &[
            "--events",
            "at [0]",
            "missing the required field \"inputs\"",
        ],
    );
    batch_refused(
        &server,
        &session_id,
        r#"[{"event_type": "model", "inputs": []}]"#,
        &[
            "--events",
            "at [0].inputs",
            "expected a JSON object",
            "got an array",
        ],
    );
    let file = TempFile::new("legacy.json", r#"{"project": "old", "session_name": "s"}"#);
    refused(
        &["sessions", "create", "--filename", file.path()],
        &["--filename", "unknown field `project`", "session_name"],
    );
}

#[test]
fn a_missing_or_unreadable_file_is_refused() {
    let missing =
        std::env::temp_dir().join(format!("honeyhive-missing-{}.json", uuid::Uuid::new_v4()));
    let missing = missing.to_str().expect("a UTF-8 path");
    refused(
        &["sessions", "create", "--filename", missing],
        &["--filename", missing, "cannot read the file"],
    );
    refused(
        &["sessions", "create-event-batch", "-f", missing],
        &["--filename", missing, "cannot read the file"],
    );
    let array = TempFile::new("array.json", "[]");
    refused(
        &["sessions", "create", "-f", array.path()],
        &["expected a JSON object (the whole request)", "got an array"],
    );
    let yaml = TempFile::new("session.yaml", "session_name: x\n");
    refused(
        &["sessions", "create", "-f", yaml.path()],
        &["invalid JSON", "convert YAML"],
    );
}

#[test]
fn a_batch_without_its_required_fields_or_with_a_bad_id_is_refused() {
    refused(
        &["sessions", "create-event-batch"],
        &["missing --session-id and --events"],
    );
    refused(
        &["sessions", "create-event-batch", "--events", "[]"],
        &["missing --session-id", "give it as flags"],
    );
    let file = TempFile::new("no-events.json", &format!(r#"{{"session_id": "{ID}"}}"#));
    refused(
        &["sessions", "create-event-batch", "-f", file.path()],
        &["missing --events", file.path()],
    );
    refused(
        &[
            "sessions",
            "create-event-batch",
            "--session-id",
            "42",
            "--events",
            "[]",
        ],
        &["--session-id", "`42` is not a UUID"],
    );
    refused(
        &["sessions", "create", "--session-id", "abc"],
        &["--session-id", "not a UUID"],
    );
    refused(
        &["sessions", "get", "abc"],
        &["SESSION_ID", "`abc` is not a UUID"],
    );
}

#[test]
fn usage_errors_exit_2_and_a_missing_key_is_named() {
    run_alone(&["sessions", "create", "--no-such-flag"]).refused(2, &["--no-such-flag"]);
    let bare = run_alone(&["sessions"]);
    assert_eq!(bare.code, 2, "{bare:#?}");
    assert!(
        bare.stdout.is_empty() && bare.stderr.contains("Usage"),
        "{bare:#?}"
    );
    run_alone(&["--timeout", "0", "sessions", "create"]).refused(2, &["--timeout"]);
    run_alone(&["--timeout", "soon", "sessions", "create"]).refused(2, &["--timeout"]);
    // Without a key, a HoneyHive URL is refused before any request.
    run_alone(&[
        "--api-url",
        "https://api.example.invalid",
        "sessions",
        "create",
    ])
    .refused(2, &["no API key", "--api-key", "HH_API_KEY"]);
    run_alone(&[
        "--api-url",
        "not a url",
        "--api-key",
        "k",
        "sessions",
        "create",
    ])
    .refused(2, &["--api-url"]);
}

/// Runs `command` with `stdin`, and kills it if it has not finished within `patience`: a
/// command that reads without end fails the test instead of hanging it.
fn finish_within(mut command: Command, stdin: Stdio, patience: Duration) -> Run {
    let mut child = command
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let deadline = Instant::now() + patience;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the binary can be waited for") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {patience:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        pipe.read_to_string(&mut stdout).expect("stdout is UTF-8");
    }
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_string(&mut stderr).expect("stderr is UTF-8");
    }
    Run {
        code: status.code().expect("the binary exits by itself"),
        stdout,
        stderr,
    }
}

#[cfg(unix)]
#[test]
fn an_endless_file_or_standard_input_is_refused_at_the_size_limit() {
    let server = server();
    let zero = || std::fs::File::open("/dev/zero").expect("/dev/zero opens");
    for (args, stdin, named) in [
        (
            &["sessions", "create-event-batch", "--filename", "/dev/zero"][..],
            Stdio::null(),
            "--filename /dev/zero",
        ),
        (
            &["sessions", "create", "-f", "/dev/zero"][..],
            Stdio::null(),
            "--filename /dev/zero",
        ),
        (
            &["sessions", "create-event-batch", "--filename", "-"][..],
            Stdio::from(zero()),
            "--filename - (standard input)",
        ),
    ] {
        let mut command = honeyhive(args);
        command
            .env("HH_API_URL", server.url())
            .env("HH_API_KEY", KEY);
        // Reading the limit takes well under a second; the patience only bounds a failure.
        let run = finish_within(command, stdin, Duration::from_secs(30));
        run.refused(2, &[named, "larger than 64 MiB (67108864 bytes)"]);
    }
    assert!(server.requests().is_empty(), "nothing was sent");
}
