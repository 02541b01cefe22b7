//! `--show-file-schema` and `--show-argument-schema`: pure JSON on stdout, valid JSON Schemas
//! generated from the wire types, no request, no key needed, and alone on the command line.

use serde_json::{Value, json};
use tracing_honeyhive::schema;

use crate::{Run, TempFile, run, run_alone, server};

/// Field flags of each command, as HoneyHive's CLI names them.
const CREATE_FLAGS: [&str; 13] = [
    "children-ids",
    "config",
    "duration",
    "end-time",
    "event-name",
    "inputs",
    "metadata",
    "outputs",
    "session-id",
    "session-name",
    "source",
    "start-time",
    "user-properties",
];
const BATCH_FLAGS: [&str; 2] = ["events", "session-id"];

fn commands() -> [(&'static str, &'static [&'static str], Value); 2] {
    [
        ("create", &CREATE_FLAGS, schema::create_session()),
        (
            "create-event-batch",
            &BATCH_FLAGS,
            schema::session_event_batch_request(),
        ),
    ]
}

/// Asserts `run` printed one valid JSON Schema and nothing else; the schema.
fn printed_schema(run: &Run) -> Value {
    let schema = run.json();
    assert!(run.stderr.is_empty(), "{run:#?}");
    jsonschema::meta::validate(&schema).expect("a valid JSON Schema");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    schema
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .expect("the schema compiles")
}

#[test]
fn file_schemas_are_the_generated_request_schemas_and_need_no_key_or_server() {
    for (command, flags, expected) in commands() {
        let run = run_alone(&["sessions", command, "--show-file-schema"]);
        let schema = printed_schema(&run);
        assert_eq!(schema, expected, "{command}");
        let mut properties: Vec<String> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .map(|k| k.replace('_', "-"))
            .collect();
        properties.sort();
        assert_eq!(properties, flags, "one flag per field of {command}");
    }
}

#[test]
fn the_batch_file_schema_accepts_the_documented_request_and_rejects_bad_shapes() {
    let schema = printed_schema(&run_alone(&[
        "sessions",
        "create-event-batch",
        "--show-file-schema",
    ]));
    let check = validator(&schema);
    let id = "0f8e4a44-8d0a-4c55-9f9b-6f6f4c1f3a10";
    let good = json!({"session_id": id, "events": [{"event_type": "model", "inputs": {}}]});
    assert!(check.is_valid(&good));
    for bad in [
        json!({"events": []}),
        json!({"session_id": id}),
        json!({"session_id": id, "events": [{"event_type": "llm", "inputs": {}}]}),
        json!({"session_id": id, "events": [{"event_type": "tool"}]}),
        json!({"session_id": id, "events": [{"event_type": "tool", "inputs": {}, "x": 1}]}),
        json!({"session_id": id, "events": [], "project": "p"}),
    ] {
        assert!(!check.is_valid(&bad), "{bad}");
    }
}

#[test]
fn each_argument_schema_is_its_field_of_the_file_schema() {
    for (command, flags, full) in commands() {
        for flag in flags {
            let run = run_alone(&["sessions", command, "--show-argument-schema", flag]);
            let mut schema = printed_schema(&run);
            schema.as_object_mut().map(|s| s.remove("$schema"));
            assert_eq!(
                schema,
                full["properties"][flag.replace('-', "_")],
                "{command} {flag}"
            );
        }
    }
}

#[test]
fn argument_schemas_say_what_each_value_must_be() {
    let schema_of = |flag: &str| {
        printed_schema(&run_alone(&[
            "sessions",
            "create",
            "--show-argument-schema",
            flag,
        ]))
    };
    let inputs = validator(&schema_of("user-properties"));
    assert!(inputs.is_valid(&json!({"plan": "pro"})));
    assert!(!inputs.is_valid(&json!([1])));
    let start = validator(&schema_of("start-time"));
    assert!(start.is_valid(&json!(1_712_025_501_605_i64)));
    assert!(!start.is_valid(&json!("now")));
    let children = validator(&schema_of("children-ids"));
    assert!(children.is_valid(&json!(["3b3a4f47-5d49-4a71-9f39-3c1f0c1a2b77"])));
    assert!(!children.is_valid(&json!(["child"])));
    let events = printed_schema(&run_alone(&[
        "sessions",
        "create-event-batch",
        "--show-argument-schema",
        "events",
    ]));
    assert_eq!(
        events["items"]["properties"]["event_type"]["enum"],
        json!(["model", "tool", "chain", "session"])
    );
    assert_eq!(events["items"]["required"], json!(["event_type", "inputs"]));
}

#[test]
fn schema_flags_send_nothing_even_with_a_server_and_key_configured() {
    let server = server();
    for args in [
        &["sessions", "create", "--show-file-schema"][..],
        &["sessions", "create", "--show-argument-schema", "inputs"],
        &["sessions", "create-event-batch", "--show-file-schema"],
        &[
            "--verbose",
            "sessions",
            "create-event-batch",
            "--show-argument-schema",
            "events",
        ],
    ] {
        printed_schema(&run(&server, args));
    }
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
}

#[test]
fn schema_flags_refuse_every_other_command_flag() {
    let file = TempFile::new("session.json", "{}");
    for (command, flags, _) in commands() {
        for schema_flag in [
            &["--show-file-schema"][..],
            &["--show-argument-schema", "session-id"],
        ] {
            let mut others: Vec<Vec<&str>> = flags.iter().map(|flag| vec![*flag]).collect();
            others.push(vec!["filename"]);
            for other in others {
                let name = format!("--{}", other[0]);
                let value = match other[0] {
                    "filename" => file.path(),
                    "events" | "children-ids" => "[]",
                    "inputs" | "config" | "outputs" | "metadata" | "user-properties" => "{}",
                    "start-time" | "end-time" | "duration" => "1",
                    "session-id" => "0f8e4a44-8d0a-4c55-9f9b-6f6f4c1f3a10",
                    _ => "x",
                };
                let mut args = vec!["sessions", command];
                args.extend_from_slice(schema_flag);
                args.extend([name.as_str(), value]);
                run_alone(&args).refused(2, &[schema_flag[0], "cannot be combined", &name]);
            }
        }
    }
}

#[test]
fn both_schema_flags_together_or_an_unknown_argument_are_refused() {
    run_alone(&[
        "sessions",
        "create",
        "--show-file-schema",
        "--show-argument-schema",
        "inputs",
    ])
    .refused(
        2,
        &[
            "--show-file-schema",
            "--show-argument-schema",
            "cannot be combined",
        ],
    );
    run_alone(&["sessions", "create", "--show-argument-schema", "project"])
        .refused(2, &["`project`", "Valid names", "user-properties"]);
    run_alone(&["sessions", "create", "--show-argument-schema=--inputs"])
        .refused(2, &["without its leading dashes", "`inputs`"]);
    run_alone(&[
        "sessions",
        "create-event-batch",
        "--show-argument-schema",
        "event_type",
    ])
    .refused(2, &["`event_type`", "events, session-id"]);
}
