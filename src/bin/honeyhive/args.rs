//! The command line's grammar: commands, flags, their help and their examples.
//!
//! Flag names, and what they mean, follow HoneyHive's own `honeyhive` CLI, so that scripts written
//! for it run unchanged. Values stay raw strings here; `input` turns them into the request.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

const ABOUT: &str = "Send sessions and events to HoneyHive, or run a local HoneyHive-compatible \
                     server";

const EXAMPLES: &str = "\
Examples:
  export HH_INGESTION_API_KEY=hh_ingst_...    # or HH_PROJECT_API_KEY=hh_...
  SESSION_ID=$(honeyhive sessions create --session-name 'support chat' | jq -r .session_id)
  honeyhive sessions create-event-batch --session-id \"$SESSION_ID\" \\
    --events '[{\"event_type\": \"model\", \"event_name\": \"reply\", \"inputs\": {}}]'
  honeyhive sessions create --show-file-schema

  honeyhive serve                                   # a local server on 127.0.0.1:8787
  honeyhive --api-url http://127.0.0.1:8787 sessions get \"$SESSION_ID\"

Exit status: 0 success; 1 the request failed (the API answered an error, or no answer came);
2 usage or input error (nothing was sent).";

/// `honeyhive`: HoneyHive's command line, on the typed client of this crate.
#[derive(Debug, Parser)]
#[command(name = "honeyhive", version, about = ABOUT, after_help = EXAMPLES)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags every command accepts, before or after the command's name.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct Global {
    // Neither the key nor the URL uses clap's `env`: the library reads their variables, in the
    // order the layer and the exporter read them (`config::resolve_api_key`), so that there is
    // one order, not two.
    /// HoneyHive API key, sent as `Authorization: Bearer`; never printed. Else the first set of
    /// HH_INGESTION_API_KEY (an `hh_ingst_` key), HH_PROJECT_API_KEY, HH_API_KEY. For `serve`,
    /// the key clients must send (none required when unset)
    #[arg(
        long,
        global = true,
        value_name = "KEY",
        visible_alias = "project-api-key"
    )]
    pub(crate) api_key: Option<String>,

    // A `help` string rather than a doc comment: rustdoc would flag the bare URL.
    #[arg(
        long,
        help = "Base URL of the HoneyHive data plane; else HH_DATA_PLANE_URL, else HH_API_URL, \
                else https://api.dp1.us.honeyhive.ai. Point it at `honeyhive serve` to work \
                offline",
        global = true,
        value_name = "URL",
        visible_aliases = ["base-url", "data-plane-url"]
    )]
    pub(crate) api_url: Option<String>,

    /// Longest wait for one request, in seconds, e.g. 2.5 [default: 10]
    #[arg(
        long,
        global = true,
        env = "HH_API_TIMEOUT",
        hide_env_values = true,
        value_name = "SECONDS"
    )]
    pub(crate) timeout: Option<String>,

    /// Log the API URL, the masked API key and each request to stderr [env: HH_VERBOSE=true]
    #[arg(long, global = true)]
    pub(crate) verbose: bool,
}

impl Global {
    /// `--verbose`, or `HH_VERBOSE` set to true, 1, yes or on.
    pub(crate) fn verbose(&self) -> bool {
        self.verbose
            || std::env::var("HH_VERBOSE").is_ok_and(|v| {
                ["true", "1", "yes", "on"].contains(&v.trim().to_ascii_lowercase().as_str())
            })
    }

    /// `--timeout` (or `HH_API_TIMEOUT`) unless blank: positive seconds, at most a day.
    pub(crate) fn timeout(&self) -> Result<Option<Duration>, String> {
        let Some(value) = self.timeout.as_deref().filter(|v| !v.trim().is_empty()) else {
            return Ok(None);
        };
        let seconds: f64 = value
            .trim()
            .parse()
            .map_err(|_| format!("--timeout: `{value}` is not a number of seconds"))?;
        if seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0 {
            Ok(Some(Duration::from_secs_f64(seconds)))
        } else {
            Err(format!(
                "--timeout: `{value}` must be more than 0 and at most 86400 seconds"
            ))
        }
    }
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create sessions, add events to them, show them
    #[command(after_help = SESSIONS_EXAMPLES)]
    Sessions {
        #[command(subcommand)]
        command: Sessions,
    },
    /// Run a local HoneyHive-compatible server and print each session as it completes
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(Serve),
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(crate) enum Sessions {
    /// Start a new session (POST /v1/sessions); prints the stored session as JSON
    #[command(after_help = CREATE_EXAMPLES)]
    Create(Create),
    /// Add a batch of events to a session (POST /v1/sessions/{session_id}/events/batch); prints
    /// {"success": true}
    #[command(after_help = BATCH_EXAMPLES)]
    CreateEventBatch(CreateEventBatch),
    /// Show a session as a tree of its events (GET /v1/sessions/{session_id}, served by
    /// `honeyhive serve`)
    #[command(after_help = GET_EXAMPLES)]
    Get(Get),
}

const SESSIONS_EXAMPLES: &str = "\
Examples:
  honeyhive sessions create --session-name 'support chat'
  honeyhive sessions create-event-batch --session-id \"$SESSION_ID\" --events '[...]'
  honeyhive sessions get \"$SESSION_ID\"
  honeyhive sessions create --help";

const CREATE_EXAMPLES: &str = "\
Examples:
  honeyhive sessions create --session-name 'support chat' --source production \\
    --inputs '{\"question\": \"Where is my order?\"}' --metadata '{\"release\": \"1.4.2\"}'
  honeyhive sessions create --session-id 0f8e4a44-8d0a-4c55-9f9b-6f6f4c1f3a10 \\
    --start-time 1712025501605 --end-time 1712025502855 --duration 1250
  honeyhive sessions create --filename session.json --source staging   # flags override the file
  honeyhive sessions create --show-argument-schema user-properties

Prints the session the server stored, as JSON; its id is `.session_id`.";

const BATCH_EXAMPLES: &str = "\
Examples:
  honeyhive sessions create-event-batch --session-id 0f8e4a44-8d0a-4c55-9f9b-6f6f4c1f3a10 \\
    --events '[{\"event_type\": \"model\", \"event_name\": \"reply\",
                \"inputs\": {\"chat_history\": [{\"role\": \"user\", \"content\": \"Hi\"}]},
                \"outputs\": {\"content\": \"Hello!\"}, \"duration\": 812}]'
  jq -n --arg id \"$SESSION_ID\" '{session_id: $id, events: [{event_type: \"tool\", inputs: {}}]}' \\
    | honeyhive sessions create-event-batch --filename -
  honeyhive sessions create-event-batch --show-argument-schema events

Response:
  {
    \"success\": true
  }";

const GET_EXAMPLES: &str = "\
Examples:
  honeyhive --api-url http://127.0.0.1:8787 sessions get 0f8e4a44-8d0a-4c55-9f9b-6f6f4c1f3a10
  honeyhive sessions get 0f8e4a44-8d0a-4c55-9f9b-6f6f4c1f3a10 --json | jq '.children | length'

HoneyHive's current data plane does not serve this route (it answers 404); the local server does.";

const SERVE_EXAMPLES: &str = "\
Examples:
  honeyhive serve
  honeyhive serve --addr 127.0.0.1:9000 --api-key hh_local_key

Then point any HoneyHive SDK, or this crate, at it (newer tools read HH_DATA_PLANE_URL first,
the Python SDK reads HH_API_URL):
  export HH_DATA_PLANE_URL=http://127.0.0.1:8787 HH_API_URL=http://127.0.0.1:8787

It also takes OpenTelemetry traces over OTLP/HTTP (protobuf or JSON, gzip or not), at HoneyHive's
path /opentelemetry/v1/traces and OTLP's /v1/traces, from any language's SDK or a collector:
  honeyhive serve --otlp-addr 127.0.0.1:4318
  export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318

It validates every request against HoneyHive's documented schemas, answers as HoneyHive does, and
prints each session as a tree on stdout once it has an end time and a short quiet period passed.";

/// `--filename`, `--show-file-schema` and `--show-argument-schema`, shared by the commands that
/// send a request object.
#[derive(Debug, Args)]
pub(crate) struct RequestSource {
    /// Read the whole request object from this JSON file of at most 64 MiB (`-` reads standard
    /// input); flags given beside it replace the file's fields. --show-file-schema prints its
    /// shape
    #[arg(short = 'f', long, value_name = "PATH")]
    pub(crate) filename: Option<String>,

    /// Print the JSON Schema of the whole request object (what --filename reads) and exit. Calls
    /// no API, needs no key; cannot be combined with other command flags
    #[arg(long)]
    pub(crate) show_file_schema: bool,

    /// Print the JSON Schema of one flag's value and exit. Name the flag without its leading
    /// `--`, e.g. `inputs`. Calls no API, needs no key; cannot be combined with other command flags
    #[arg(long, value_name = "FLAG-NAME", allow_hyphen_values = true)]
    pub(crate) show_argument_schema: Option<String>,
}

/// `honeyhive sessions create`: every field of the session is optional.
#[derive(Debug, Args)]
pub(crate) struct Create {
    /// Session id to use, a UUID; the server generates one when omitted
    #[arg(long, value_name = "UUID")]
    pub(crate) session_id: Option<String>,

    /// Display name of the session, e.g. 'support chat'
    #[arg(long, value_name = "NAME")]
    pub(crate) session_name: Option<String>,

    /// Name of the session event; the server falls back to --session-name, then "unknown"
    #[arg(long, value_name = "NAME")]
    pub(crate) event_name: Option<String>,

    /// Where the session comes from, e.g. production or sdk-python; server default "unknown"
    #[arg(long, value_name = "SOURCE")]
    pub(crate) source: Option<String>,

    /// Start of the session in Unix epoch milliseconds, e.g. 1712025501605
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    pub(crate) start_time: Option<String>,

    /// End of the session in Unix epoch milliseconds, e.g. 1712025502855
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    pub(crate) end_time: Option<String>,

    /// Duration of the session in milliseconds, e.g. 1250
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    pub(crate) duration: Option<String>,

    /// Configuration of the session, a JSON object, e.g. '{"model": "gpt-4o"}'
    #[arg(long, value_name = "JSON")]
    pub(crate) config: Option<String>,

    /// Inputs of the session, a JSON object, e.g. '{"question": "Where is my order?"}'
    #[arg(long, value_name = "JSON")]
    pub(crate) inputs: Option<String>,

    /// Outputs of the session, a JSON object, e.g. '{"answer": "It shipped."}'
    #[arg(long, value_name = "JSON")]
    pub(crate) outputs: Option<String>,

    /// Free-form metadata of the session, a JSON object, e.g. '{"release": "1.4.2"}'
    #[arg(long, value_name = "JSON")]
    pub(crate) metadata: Option<String>,

    /// Properties of the end user, a JSON object, e.g. '{"plan": "pro"}'
    #[arg(long, value_name = "JSON")]
    pub(crate) user_properties: Option<String>,

    /// Ids of the session's child events, a JSON array of UUIDs, e.g. '["3b3a4f47-…"]'
    #[arg(long, value_name = "JSON")]
    pub(crate) children_ids: Option<String>,

    #[command(flatten)]
    pub(crate) request: RequestSource,
}

/// `honeyhive sessions create-event-batch`: both fields required, from flags or the file.
#[derive(Debug, Args)]
pub(crate) struct CreateEventBatch {
    /// Session to add the events to, a UUID (required, here or in --filename)
    #[arg(long, value_name = "UUID")]
    pub(crate) session_id: Option<String>,

    /// Events to add, a JSON array (required, here or in --filename). Each event is an object
    /// with `event_type` (model, tool, chain or session) and `inputs` (an object), and optionally
    /// event_id, parent_id, event_name, source, config, outputs, error, start_time, end_time,
    /// duration, metadata, feedback, metrics, user_properties, children_ids; see
    /// --show-argument-schema events
    #[arg(long, value_name = "JSON")]
    pub(crate) events: Option<String>,

    #[command(flatten)]
    pub(crate) request: RequestSource,
}

/// `honeyhive sessions get`.
#[derive(Debug, Args)]
pub(crate) struct Get {
    /// The session's id, a UUID
    #[arg(value_name = "SESSION_ID")]
    pub(crate) session_id: String,

    /// Print the tree as JSON (the server's answer) instead of a waterfall
    #[arg(long)]
    pub(crate) json: bool,
}

/// `honeyhive serve`.
#[derive(Debug, Args)]
pub(crate) struct Serve {
    /// Address to listen on; port 0 picks a free port
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8787")]
    pub(crate) addr: SocketAddr,

    /// Also listen here, with the same routes: where OTLP exporters send unless told otherwise
    /// (127.0.0.1:4318). OTLP/HTTP traces are taken on --addr too, at /opentelemetry/v1/traces
    /// and /v1/traces
    #[arg(long, value_name = "HOST:PORT")]
    pub(crate) otlp_addr: Option<SocketAddr>,

    /// How a wrong or missing key is answered: 401, or 404 as HoneyHive answers an invalid,
    /// revoked or expired key today
    #[arg(long, value_name = "STATUS", default_value = "401", value_parser = ["401", "404"])]
    pub(crate) refuse_key_with: String,
}

impl Create {
    /// The field flags given, by name without `--`, with their raw values.
    pub(crate) fn fields(&self) -> Vec<(&'static str, &str)> {
        given([
            ("session-id", &self.session_id),
            ("session-name", &self.session_name),
            ("event-name", &self.event_name),
            ("source", &self.source),
            ("start-time", &self.start_time),
            ("end-time", &self.end_time),
            ("duration", &self.duration),
            ("config", &self.config),
            ("inputs", &self.inputs),
            ("outputs", &self.outputs),
            ("metadata", &self.metadata),
            ("user-properties", &self.user_properties),
            ("children-ids", &self.children_ids),
        ])
    }
}

impl CreateEventBatch {
    /// The field flags given, by name without `--`, with their raw values.
    pub(crate) fn fields(&self) -> Vec<(&'static str, &str)> {
        given([("session-id", &self.session_id), ("events", &self.events)])
    }
}

fn given<'a, const N: usize>(
    flags: [(&'static str, &'a Option<String>); N],
) -> Vec<(&'static str, &'a str)> {
    flags
        .into_iter()
        .filter_map(|(flag, value)| value.as_deref().map(|value| (flag, value)))
        .collect()
}
