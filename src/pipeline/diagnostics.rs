//! The exporter's own messages — refusals, failures, drops — as `tracing` events with target
//! `tracing_honeyhive`, sent to the subscriber the layer is part of (so they reach the
//! application's own log output) and rate-limited by kind. They are emitted on the exporter
//! thread, which the layer ignores: they never become HoneyHive events.
//!
//! A message of a kind given less than ten seconds after the last one is held back, but not
//! lost: the count and the last such message are summarised once the interval has passed (the
//! worker checks on every tick), and at the latest at shutdown.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tracing::dispatcher::WeakDispatch;

/// The shortest time between two messages of one kind.
const INTERVAL: Duration = Duration::from_secs(10);

/// How serious a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    Warn,
    Info,
}

#[derive(Debug, Default)]
pub(crate) struct Diagnostics {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    dispatch: Option<WeakDispatch>,
    /// A line to give once the subscriber is known (`with_verbose`).
    announce: Option<String>,
    kinds: HashMap<&'static str, Seen>,
}

#[derive(Debug)]
struct Seen {
    last: Instant,
    suppressed: u64,
    /// The last message held back, and its severity.
    held: Option<(Severity, String)>,
}

impl Diagnostics {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Messages go to this subscriber from now on (else to the thread's default one); a start
    /// line waiting for it is given now.
    pub(crate) fn set_dispatch(&self, dispatch: WeakDispatch) {
        // The layer hears of its subscriber (`on_register_dispatch`) before `tracing` has
        // computed the levels and callsite interests that subscriber enables: a message sent at
        // once could find every level still off, as it is before a process's first subscriber,
        // and vanish (the start line was lost about once in twenty runs). Computing them again
        // first, with that subscriber current, waits for the registration where there are
        // several subscribers and agrees with it where there is one.
        if let Some(subscriber) = dispatch.upgrade() {
            tracing::dispatcher::with_default(
                &subscriber,
                tracing::callsite::rebuild_interest_cache,
            );
        }
        let announce = {
            let mut state = self.lock();
            state.dispatch = Some(dispatch);
            state.announce.take()
        };
        if let Some(line) = announce {
            self.emit(Severity::Info, "start", || line);
        }
    }

    /// A line to give once, as soon as the subscriber the layer is part of is known (or at
    /// shutdown, if it never is).
    pub(crate) fn announce(&self, line: String) {
        let ready = {
            let mut state = self.lock();
            if state.dispatch.is_none() {
                state.announce = Some(line);
                return;
            }
            line
        };
        self.emit(Severity::Info, "start", || ready);
    }

    /// A warning of `kind`, held back if one of that kind was given less than ten seconds ago.
    pub(crate) fn warn(&self, kind: &'static str, message: impl FnOnce() -> String) {
        self.emit(Severity::Warn, kind, message);
    }

    /// An informational message of `kind`, rate-limited like warnings.
    pub(crate) fn info(&self, kind: &'static str, message: impl FnOnce() -> String) {
        self.emit(Severity::Info, kind, message);
    }

    fn emit(&self, severity: Severity, kind: &'static str, message: impl FnOnce() -> String) {
        let now = Instant::now();
        let dispatch = {
            let mut state = self.lock();
            match state.kinds.get_mut(kind) {
                Some(seen) if now.duration_since(seen.last) < INTERVAL => {
                    seen.suppressed += 1;
                    seen.held = Some((severity, message()));
                    return;
                }
                Some(seen) => {
                    // What was held back since the last message is summarised first.
                    let summary = summary(seen);
                    seen.last = now;
                    let dispatch = state.dispatch.as_ref().and_then(WeakDispatch::upgrade);
                    drop(state);
                    if let Some((severity, text)) = summary {
                        send(dispatch.as_ref(), severity, kind, &text);
                    }
                    dispatch
                }
                None => {
                    let seen = Seen {
                        last: now,
                        suppressed: 0,
                        held: None,
                    };
                    state.kinds.insert(kind, seen);
                    state.dispatch.as_ref().and_then(WeakDispatch::upgrade)
                }
            }
        };
        send(dispatch.as_ref(), severity, kind, &message());
    }

    /// Summarises what was held back: for kinds whose interval has passed, or for every kind
    /// when `all` (at shutdown). Gives a start line still waiting when `all`.
    pub(crate) fn summarise(&self, all: bool) {
        let now = Instant::now();
        let (dispatch, summaries, announce) = {
            let mut state = self.lock();
            let summaries: Vec<(&'static str, Severity, String)> = state
                .kinds
                .iter_mut()
                .filter(|(_, seen)| all || now.duration_since(seen.last) >= INTERVAL)
                .filter_map(|(kind, seen)| {
                    let (severity, text) = summary(seen)?;
                    seen.last = now;
                    Some((*kind, severity, text))
                })
                .collect();
            let announce = if all { state.announce.take() } else { None };
            let dispatch = state.dispatch.as_ref().and_then(WeakDispatch::upgrade);
            (dispatch, summaries, announce)
        };
        if let Some(line) = announce {
            send(dispatch.as_ref(), Severity::Info, "start", &line);
        }
        for (kind, severity, text) in summaries {
            send(dispatch.as_ref(), severity, kind, &text);
        }
    }
}

/// The summary of what `seen` held back, if anything, which is then forgotten.
fn summary(seen: &mut Seen) -> Option<(Severity, String)> {
    let count = std::mem::take(&mut seen.suppressed);
    let (severity, last) = seen.held.take()?;
    Some((
        severity,
        format!("{count} more similar message(s) held back; the last: {last}"),
    ))
}

fn send(dispatch: Option<&tracing::Dispatch>, severity: Severity, kind: &str, text: &str) {
    let log = || match severity {
        Severity::Warn => tracing::warn!(target: "tracing_honeyhive", kind, "{text}"),
        Severity::Info => tracing::info!(target: "tracing_honeyhive", kind, "{text}"),
    };
    match dispatch {
        Some(dispatch) => tracing::dispatcher::with_default(dispatch, log),
        None => log(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tracing::Subscriber;
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::{Context, SubscriberExt};

    use super::*;

    #[derive(Clone, Default)]
    struct Texts(Arc<Mutex<Vec<String>>>);

    impl Texts {
        fn all(&self) -> Vec<String> {
            self.0.lock().unwrap().clone()
        }
    }

    impl<S: Subscriber> Layer<S> for Texts {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            struct Text<'a>(&'a mut String);
            impl tracing::field::Visit for Text<'_> {
                fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                    if f.name() == "message" {
                        self.0.push_str(&format!("{v:?}"));
                    }
                }
            }
            let mut text = String::new();
            event.record(&mut Text(&mut text));
            self.0.lock().unwrap().push(text);
        }
    }

    fn set_up() -> (Diagnostics, Texts, tracing::Dispatch) {
        let texts = Texts::default();
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(texts.clone()));
        let diagnostics = Diagnostics::default();
        diagnostics.set_dispatch(dispatch.downgrade());
        (diagnostics, texts, dispatch)
    }

    /// Pretends the interval of `kind` has passed.
    fn age(diagnostics: &Diagnostics, kind: &str) {
        let mut state = diagnostics.lock();
        let seen = state.kinds.get_mut(kind).unwrap();
        seen.last = Instant::now().checked_sub(INTERVAL).unwrap_or(seen.last);
    }

    #[test]
    fn messages_held_back_are_summarised_with_their_count_and_the_last_one() {
        let (diagnostics, texts, _dispatch) = set_up();
        for i in 0..5 {
            diagnostics.warn("refused", || format!("event {i} refused"));
        }
        diagnostics.warn("other", || "something else".into());
        assert_eq!(texts.all(), ["event 0 refused", "something else"]);
        diagnostics.summarise(false);
        assert_eq!(texts.all().len(), 2, "not before the interval has passed");
        age(&diagnostics, "refused");
        diagnostics.summarise(false);
        assert_eq!(
            texts.all()[2],
            "4 more similar message(s) held back; the last: event 4 refused"
        );
        diagnostics.summarise(true);
        assert_eq!(texts.all().len(), 3, "nothing more was held back");
    }

    #[test]
    fn at_shutdown_everything_held_back_is_summarised() {
        let (diagnostics, texts, _dispatch) = set_up();
        diagnostics.warn("refused", || "first".into());
        diagnostics.warn("refused", || "second".into());
        diagnostics.summarise(true);
        assert_eq!(
            texts.all(),
            [
                "first",
                "1 more similar message(s) held back; the last: second"
            ]
        );
    }

    #[test]
    fn the_next_message_after_the_interval_follows_the_summary() {
        let (diagnostics, texts, _dispatch) = set_up();
        diagnostics.warn("refused", || "a".into());
        diagnostics.warn("refused", || "b".into());
        age(&diagnostics, "refused");
        diagnostics.warn("refused", || "c".into());
        assert_eq!(
            texts.all(),
            ["a", "1 more similar message(s) held back; the last: b", "c"]
        );
    }

    #[test]
    fn a_start_line_waits_for_the_subscriber() {
        let texts = Texts::default();
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(texts.clone()));
        let diagnostics = Diagnostics::default();
        diagnostics.announce("sending to somewhere".into());
        assert!(texts.all().is_empty());
        diagnostics.set_dispatch(dispatch.downgrade());
        assert_eq!(texts.all(), ["sending to somewhere"]);
    }
}
