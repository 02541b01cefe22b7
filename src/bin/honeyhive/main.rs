//! `honeyhive`: HoneyHive's command line, rebuilt on this crate's typed client.
//!
//! `sessions create` and `sessions create-event-batch` accept the invocations HoneyHive documents
//! for its own CLI (same flags, `--filename`, `--show-file-schema`, `--show-argument-schema`),
//! check every input before sending, and print only the JSON result on stdout. `sessions get`
//! shows a session as a tree; `serve` runs the local HoneyHive-compatible server.
//!
//! Exit status: 0 success; 1 the request failed (the API answered an error, or no answer came);
//! 2 usage or input error (nothing was sent).

#![forbid(unsafe_code)]

mod args;
mod commands;
mod input;
mod output;
mod schema;
mod serve;

use std::process::ExitCode;

use clap::Parser;

/// Why a command stopped, and its exit status.
#[derive(Debug)]
pub(crate) struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// Bad usage or input: nothing was sent. Exit status 2, as for clap's own usage errors.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }

    /// The request (or the server) failed: the API answered an error, no answer came, or the
    /// address cannot be listened on. Exit status 1.
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Failure {
            code: 1,
            message: message.into(),
        }
    }
}

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            output::diagnostic(&format!("error: {}", failure.message));
            ExitCode::from(failure.code)
        }
    }
}
