//! What goes where: the JSON result (or a tree) on stdout, everything else on stderr.

use std::io::{ErrorKind, Write};

use serde::Serialize;
use tracing_honeyhive::emulator::waterfall;
use tracing_honeyhive::wire::SessionTree;

use crate::Failure;

/// `value` as indented JSON on stdout, as HoneyHive's CLI prints its results.
pub(crate) fn json(value: &impl Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::failed(format!("cannot print the result as JSON: {e}")))?;
    stdout(&format!("{text}\n"))
}

/// `text` on stdout. A reader that went away (`| head`) is not an error.
pub(crate) fn stdout(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => {
            Err(Failure::failed(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// One line on stderr; a closed stderr is ignored.
pub(crate) fn diagnostic(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// A completed session as `serve` prints it: a heading, then its waterfall.
pub(crate) fn session_report(tree: &SessionTree, updated: bool) -> String {
    let event = &tree.event;
    let id = event.session_id.as_deref().unwrap_or("?");
    let name = event.event_name.as_deref().unwrap_or("unknown");
    let events = count(tree) - 1;
    let plural = if events == 1 { "" } else { "s" };
    let duration = event.duration.filter(|d| d.is_finite()).unwrap_or(0.0);
    let again = if updated { ", updated" } else { "" };
    format!(
        "session {id} \"{name}\": {events} event{plural}, {duration:.0} ms{again}\n{}\n",
        waterfall(tree)
    )
}

fn count(tree: &SessionTree) -> usize {
    1 + tree.children.iter().map(count).sum::<usize>()
}
