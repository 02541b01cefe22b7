//! Each command: check the input, build the client, send, print. Thin over
//! [`tracing_honeyhive::Client`].

use std::future::Future;

use tracing_honeyhive::emulator::waterfall;
use tracing_honeyhive::{Client, Error};
use uuid::Uuid;

use crate::args::{Cli, Command, Create, CreateEventBatch, Get, Global, Sessions};
use crate::schema::{Request, introspection};
use crate::{Failure, input, output, serve};

pub(crate) fn run(cli: Cli) -> Result<(), Failure> {
    let global = &cli.global;
    match cli.command {
        Command::Sessions { command } => match command {
            Sessions::Create(args) => create(global, &args),
            Sessions::CreateEventBatch(args) => create_event_batch(global, &args),
            Sessions::Get(args) => get(global, &args),
        },
        Command::Serve(args) => serve::run(global, &args),
    }
}

fn create(global: &Global, args: &Create) -> Result<(), Failure> {
    let fields = args.fields();
    if let Some(schema) = introspection(Request::CreateSession, &args.request, &fields) {
        return output::json(&schema?);
    }
    let session =
        input::assemble(Request::CreateSession, &args.request, &fields)?.create_session()?;
    let client = client(global)?;
    verbose(global, &client, "POST", "/v1/sessions");
    let created = block_on(client.create_session(&session))?;
    output::json(&created.record)
}

fn create_event_batch(global: &Global, args: &CreateEventBatch) -> Result<(), Failure> {
    let fields = args.fields();
    if let Some(schema) = introspection(Request::SessionEventBatch, &args.request, &fields) {
        return output::json(&schema?);
    }
    let (session_id, events) = input::assemble(Request::SessionEventBatch, &args.request, &fields)?
        .session_event_batch()?;
    let client = client(global)?;
    let path = format!("/v1/sessions/{session_id}/events/batch");
    verbose(global, &client, "POST", &path);
    block_on(client.create_session_event_batch(session_id, &events))?;
    output::json(&serde_json::json!({"success": true}))
}

fn get(global: &Global, args: &Get) -> Result<(), Failure> {
    let session_id = Uuid::parse_str(args.session_id.trim()).map_err(|_| {
        Failure::usage(format!(
            "SESSION_ID: `{}` is not a UUID",
            args.session_id.chars().take(60).collect::<String>()
        ))
    })?;
    let client = client(global)?;
    verbose(
        global,
        &client,
        "GET",
        &format!("/v1/sessions/{session_id}"),
    );
    let tree = block_on(client.session_tree(session_id))?;
    if args.json {
        output::json(&tree)
    } else {
        output::stdout(&waterfall(&tree))
    }
}

/// A value given by flag or environment, unless blank.
pub(crate) fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

/// The client for the global flags; the key and the URL not given by flag come from their
/// `HH_*` variables, read by the library in its one order.
fn client(global: &Global) -> Result<Client, Failure> {
    let mut builder = Client::builder();
    if let Some(key) = present(&global.api_key) {
        builder = builder.with_api_key(key);
    }
    if let Some(url) = present(&global.api_url) {
        builder = builder.with_api_url(url);
    }
    if let Some(timeout) = global.timeout().map_err(Failure::usage)? {
        builder = builder.with_timeout(timeout);
    }
    builder.build().map_err(config_failure)
}

/// A configuration error in the command line's words: a setting given by flag is named as
/// the flag, one read from the environment as its variable.
pub(crate) fn config_failure(error: Error) -> Failure {
    match error {
        Error::InvalidConfig { field, .. } if field.starts_with("api_key") => Failure::usage(
            "no API key: pass --api-key or set HH_INGESTION_API_KEY or HH_PROJECT_API_KEY \
             (HH_API_KEY is read last); only a loopback --api-url, such as `honeyhive serve`, \
             needs none",
        ),
        Error::InvalidConfig { field, reason } => {
            Failure::usage(format!("{}: {reason}", flag_name(field)))
        }
        other => Failure::usage(other.to_string()),
    }
}

/// The flag for a builder method's setting; a variable's name as it is.
pub(crate) fn flag_name(setting: &str) -> &str {
    match setting {
        "with_api_key" => "--api-key",
        "with_api_url" => "--api-url",
        other => other,
    }
}

/// With `--verbose`, what is about to happen, on stderr: the key only masked, and where it
/// came from.
fn verbose(global: &Global, client: &Client, method: &str, path: &str) {
    if !global.verbose() {
        return;
    }
    let key = match (client.api_key(), client.api_key_source()) {
        (Some(key), Some(source)) => format!("{} ({})", key.masked(), flag_name(source.name())),
        _ => "(none)".to_owned(),
    };
    let url = client.api_url();
    for line in [
        format!("API URL: {url}"),
        format!("API key: {key}"),
        format!(
            "Package: {} {}",
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION")
        ),
        format!("Request: {method} {url}{path}"),
    ] {
        output::diagnostic(&line);
    }
}

/// Runs one request to completion; an error of the API or the transport is exit status 1.
fn block_on<T>(request: impl Future<Output = Result<T, Error>>) -> Result<T, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(request).map_err(|e| {
        // The causes a message does not already tell, such as "Connection refused".
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            let cause_text = cause.to_string();
            if !message.contains(&cause_text) {
                message.push_str(&format!(": {cause_text}"));
            }
            source = cause.source();
        }
        match e {
            Error::InvalidConfig { .. } => Failure::usage(message),
            Error::Status { status: 404, .. } if message.contains("Route not found") => {
                Failure::failed(format!(
                    "{message} (this server does not have the route; `honeyhive serve` does)"
                ))
            }
            _ => Failure::failed(message),
        }
    })
}
