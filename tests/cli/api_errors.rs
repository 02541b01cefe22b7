//! When the API answers an error, or does not answer: exit status 1, the status and the server's
//! message on stderr, nothing on stdout, and never the API key.

use tracing_honeyhive::emulator::Fault;
use uuid::Uuid;

use crate::{KEY, finish, honeyhive, run, server};

#[test]
fn a_wrong_key_gives_401_and_no_output_shows_the_key() {
    let server = server();
    let wrong = "hh_wrong_key_for_this_test_0123456789";
    let mut command = honeyhive(&["--verbose", "sessions", "create", "--api-key", wrong]);
    command.env("HH_API_URL", server.url());
    let run = finish(command, None);
    run.refused(1, &["401", "Invalid API key"]);
    assert!(
        run.stderr.contains("hh_****6789"),
        "the masked key: {}",
        run.stderr
    );
    assert!(!run.stderr.contains(wrong) && !run.stdout.contains(wrong));
}

#[test]
fn the_verbose_log_shows_the_url_and_masked_key_never_the_key() {
    let server = server();
    let run = run(&server, &["--verbose", "sessions", "create"]);
    run.json();
    assert!(run.stderr.contains(&server.url()), "{}", run.stderr);
    assert!(
        run.stderr.contains("API key: hh_****cdef"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("POST"), "{}", run.stderr);
    assert!(!run.stderr.contains(KEY) && !run.stdout.contains(KEY));
}

#[test]
fn a_batch_to_an_unknown_session_gives_404_and_its_message() {
    let server = server();
    let unknown = Uuid::new_v4().to_string();
    run(
        &server,
        &[
            "sessions",
            "create-event-batch",
            "--session-id",
            &unknown,
            "--events",
            "[]",
        ],
    )
    .refused(1, &["404", "Session not found", &unknown]);
}

#[test]
fn a_server_error_gives_exit_1_with_status_and_message() {
    let server = server();
    server.inject(Fault::status(503).with_retry_after("1"));
    run(&server, &["sessions", "create"]).refused(1, &["503", "injected fault"]);
    server.inject(Fault::status(400).with_body(
        "application/json",
        r#"{"statusCode": 400, "message": "events[0].inputs: expected an object", "success": false}"#,
    ));
    run(&server, &["sessions", "create"])
        .refused(1, &["400", "events[0].inputs: expected an object"]);
}

#[test]
fn no_answer_gives_exit_1() {
    let url = {
        let server = server();
        server.url()
    };
    let mut command = honeyhive(&["sessions", "create"]);
    command.env("HH_API_URL", &url).env("HH_API_KEY", KEY);
    finish(command, None).refused(1, &["transport error", "/v1/sessions"]);

    let server = server();
    server.inject(Fault::drop_connection());
    run(&server, &["sessions", "create"]).refused(1, &["/v1/sessions"]);
}

#[test]
fn get_on_a_server_without_the_route_says_so() {
    let server = server();
    let unknown = Uuid::new_v4().to_string();
    server.inject(Fault::status(404).with_body(
        "application/json",
        r#"{"statusCode": 404, "message": "Route not found", "success": false}"#,
    ));
    run(&server, &["sessions", "get", &unknown])
        .refused(1, &["404", "Route not found", "honeyhive serve"]);
}
