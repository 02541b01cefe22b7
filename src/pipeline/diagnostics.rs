//! The exporter's own messages — refusals, failures, drops — as `tracing` events with target
//! `tracing_honeyhive`, sent to the subscriber the layer is part of (so they reach the
//! application's own log output) and rate-limited by kind. They are emitted on the exporter
//! thread, which the layer ignores: they never become HoneyHive events.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tracing::dispatcher::WeakDispatch;

/// The shortest time between two messages of one kind; the ones in between are counted and the
/// count is given with the next.
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
    kinds: HashMap<&'static str, Seen>,
}

#[derive(Debug)]
struct Seen {
    last: Instant,
    suppressed: u64,
}

impl Diagnostics {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Messages go to this subscriber from now on (else to the thread's default one).
    pub(crate) fn set_dispatch(&self, dispatch: WeakDispatch) {
        self.lock().dispatch = Some(dispatch);
    }

    /// A warning of `kind`, unless one of that kind was given less than ten seconds ago.
    pub(crate) fn warn(&self, kind: &'static str, message: impl FnOnce() -> String) {
        self.emit(Severity::Warn, kind, message);
    }

    /// An informational message of `kind`, rate-limited like warnings.
    pub(crate) fn info(&self, kind: &'static str, message: impl FnOnce() -> String) {
        self.emit(Severity::Info, kind, message);
    }

    fn emit(&self, severity: Severity, kind: &'static str, message: impl FnOnce() -> String) {
        let now = Instant::now();
        let (dispatch, suppressed) = {
            let mut state = self.lock();
            let suppressed = match state.kinds.get_mut(kind) {
                Some(seen) if now.duration_since(seen.last) < INTERVAL => {
                    seen.suppressed += 1;
                    return;
                }
                Some(seen) => {
                    seen.last = now;
                    std::mem::take(&mut seen.suppressed)
                }
                None => {
                    let seen = Seen {
                        last: now,
                        suppressed: 0,
                    };
                    state.kinds.insert(kind, seen);
                    0
                }
            };
            (
                state.dispatch.as_ref().and_then(WeakDispatch::upgrade),
                suppressed,
            )
        };
        let mut text = message();
        if suppressed > 0 {
            text.push_str(&format!(" ({suppressed} similar message(s) suppressed)"));
        }
        let send = || match severity {
            Severity::Warn => tracing::warn!(target: "tracing_honeyhive", kind, "{text}"),
            Severity::Info => tracing::info!(target: "tracing_honeyhive", kind, "{text}"),
        };
        match dispatch {
            Some(dispatch) => tracing::dispatcher::with_default(&dispatch, send),
            None => send(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tracing::Subscriber;
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::{Context, SubscriberExt};

    use super::*;

    #[derive(Clone, Default)]
    struct Count(Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>);

    impl<S: Subscriber> Layer<S> for Count {
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
            self.1.lock().unwrap().push(text);
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn messages_of_one_kind_are_rate_limited_and_the_rest_counted() {
        let count = Count::default();
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(count.clone()));
        let diagnostics = Diagnostics::default();
        diagnostics.set_dispatch(dispatch.downgrade());
        for _ in 0..5 {
            diagnostics.warn("refused", || "batch refused".into());
        }
        diagnostics.warn("other", || "something else".into());
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
        // Pretend the interval passed: the next message says how many were held back.
        {
            let mut state = diagnostics.lock();
            let seen = state.kinds.get_mut("refused").unwrap();
            seen.last = Instant::now().checked_sub(INTERVAL).unwrap_or(seen.last);
        }
        diagnostics.warn("refused", || "batch refused".into());
        let texts = count.1.lock().unwrap().clone();
        assert_eq!(texts.len(), 3);
        assert_eq!(texts[2], "batch refused (4 similar message(s) suppressed)");
    }
}
