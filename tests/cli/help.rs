//! `--help` on every command: each flag explained, with examples, on stdout, exit status 0.

use crate::run_alone;

#[test]
fn every_command_has_help_with_every_flag_and_an_example() {
    let create_flags = [
        "--session-id",
        "--session-name",
        "--event-name",
        "--source",
        "--start-time",
        "--end-time",
        "--duration",
        "--config",
        "--inputs",
        "--outputs",
        "--metadata",
        "--user-properties",
        "--children-ids",
    ];
    let common = ["--filename", "--show-file-schema", "--show-argument-schema"];
    let global = [
        "--api-key",
        "HH_API_KEY",
        "--api-url",
        "HH_API_URL",
        "--timeout",
        "--verbose",
    ];
    let cases: [(&[&str], Vec<&str>); 6] = [
        (&[], vec!["sessions", "serve"]),
        (&["sessions"], vec!["create", "create-event-batch", "get"]),
        (
            &["sessions", "create"],
            [&create_flags[..], &common[..], &global[..]].concat(),
        ),
        (
            &["sessions", "create-event-batch"],
            [
                &["--session-id", "--events", "event_type", "inputs"][..],
                &common[..],
            ]
            .concat(),
        ),
        (&["sessions", "get"], vec!["SESSION_ID", "--json"]),
        (&["serve"], vec!["--addr", "127.0.0.1:8787", "HH_API_URL"]),
    ];
    for (command, mentions) in cases {
        let args = [command, &["--help"]].concat();
        let run = run_alone(&args);
        assert_eq!(run.code, 0, "{run:#?}");
        assert!(run.stderr.is_empty(), "{run:#?}");
        assert!(run.stdout.contains("Examples:"), "{args:?}: {}", run.stdout);
        for mention in mentions {
            assert!(
                run.stdout.contains(mention),
                "{args:?} help should mention {mention}"
            );
        }
    }
}

#[test]
fn the_key_from_the_environment_is_not_shown_in_help() {
    let secret = "hh_secret_in_the_environment_0123456789";
    let mut command = crate::honeyhive(&["sessions", "create", "--help"]);
    command.env("HH_API_KEY", secret);
    let run = crate::finish(command, None);
    assert_eq!(run.code, 0);
    assert!(!run.stdout.contains(secret), "{}", run.stdout);
}
