//! [`HoneyHiveLayer`]: the `tracing_subscriber::Layer`. Its callbacks only record: they copy field
//! values into the span's draft (one text arena, `recorded/draft.rs`) and, when a span closes,
//! hand it to the pipeline without blocking. JSON, batching and HTTP happen on the exporter
//! thread.

pub(crate) mod builder;
mod visitor;

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tracing::span::{Attributes, Id, Record};
use tracing::{Dispatch, Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};
use uuid::Uuid;

use crate::fields::SESSION_KEY;
use crate::pipeline::{self, Bound, Producer, Reservation};
use crate::recorded::{DraftValue, FieldValue, Fields, FinishedSpan, Name, Role, SessionSeed};
use visitor::{Into, Recorder};

pub use builder::Builder;

/// Which spans start a HoneyHive session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionRoots {
    /// Every root span (a span without a parent) starts a session, unless it carries
    /// `honeyhive.session = false`. The default.
    #[default]
    AllRoots,
    /// Only spans marked with `honeyhive.session = true` or `honeyhive.session_name = "…"`
    /// start a session, wherever they are in the tree; spans outside any session are not sent.
    /// For web servers whose framework opens a root span per request.
    Marked,
}

/// The `tracing_subscriber::Layer` that sends spans to HoneyHive: every session root span
/// becomes a session, every span below it an event. Build it with [`HoneyHiveLayer::builder`].
///
/// ```
/// # #[cfg(feature = "emulator")] {
/// use tracing_subscriber::prelude::*;
/// use tracing_honeyhive::HoneyHiveLayer;
/// # let server = tracing_honeyhive::emulator::Emulator::builder().start().unwrap();
///
/// let (layer, guard) = HoneyHiveLayer::builder()
///     .with_api_url(server.url()) // else HH_API_URL, else HoneyHive's data plane
///     .build()?;
/// let subscriber = tracing_subscriber::registry().with(layer);
/// tracing::subscriber::with_default(subscriber, || {
///     let _turn = tracing::info_span!("chat turn", inputs.question = "Hi?").entered();
///     let _call = tracing::info_span!("llm", gen_ai.request.model = "gpt-4o").entered();
/// });
/// let report = guard.flush(std::time::Duration::from_secs(5)).unwrap();
/// assert_eq!(report.delivered, 2);
/// # assert_eq!(server.events().len(), 1);
/// # }
/// # Ok::<(), tracing_honeyhive::Error>(())
/// ```
pub struct HoneyHiveLayer {
    producer: Option<Producer>,
    settings: Settings,
    with_span: Option<WithSpanFn>,
}

/// What the callbacks need to decide and record; fixed at build.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) session_roots: SessionRoots,
    pub(crate) session_name: Option<String>,
    pub(crate) max_field_bytes: usize,
    pub(crate) max_events_per_span: usize,
    /// Message content is sent: `#[trace]` records arguments and results only then.
    pub(crate) capture_content: bool,
    /// The most verbose events kept in `metadata.logs`.
    pub(crate) logs_level: tracing::level_filters::LevelFilter,
}

impl std::fmt::Debug for HoneyHiveLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HoneyHiveLayer")
            .field("enabled", &self.producer.is_some())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// What the layer keeps in a span's extensions while it is open: the span as it will travel to
/// the exporter, taken warm from the pool when the span opens (its fields and events go into its
/// draft), so that closing it only moves a pointer (`on_close` never allocates), and what closing
/// needs besides.
pub(crate) struct SpanData {
    /// The root span, or the span that joined its session by id.
    owns_session: bool,
    /// The room set aside for this span's close when its trace started here: it writes the
    /// session's end, which is never dropped for room.
    end_room: Option<Reservation>,
    started: Instant,
    pub(crate) span: Box<FinishedSpan>,
}

/// In the extensions of a span whose trace was turned away when it started, the queue being
/// full or refilling ([`Producer::turning_away`]), in place of [`SpanData`]: nothing of the span
/// is recorded, its spans below are turned away too, and each was counted as dropped when it
/// started, by the bound that had filled. Zero-sized, one type per bound, so that marking a
/// span allocates nothing.
struct ShedFull;

/// [`ShedFull`], for a trace turned away by the byte budget.
struct ShedBytes;

/// Which span an extension-trait call applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The span itself.
    Span,
    /// The span that owns the span's session.
    Session,
}

/// Runs a closure on a span's [`SpanData`], given the subscriber the layer is part of: how
/// [`crate::HoneyHiveSpanExt`] reaches the layer's data without knowing the subscriber's type.
pub(crate) type WithSpanFn = fn(&Dispatch, &Id, Target, &mut dyn FnMut(&mut SpanData));

fn with_span<S>(dispatch: &Dispatch, id: &Id, target: Target, f: &mut dyn FnMut(&mut SpanData))
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(subscriber) = dispatch.downcast_ref::<S>() else {
        return;
    };
    let Some(span) = subscriber.span(id) else {
        return;
    };
    match target {
        Target::Span => {
            if let Some(data) = span.extensions_mut().get_mut::<SpanData>() {
                f(data);
            }
        }
        Target::Session => {
            for ancestor in span.scope() {
                let mut extensions = ancestor.extensions_mut();
                if let Some(data) = extensions.get_mut::<SpanData>()
                    && data.owns_session
                {
                    f(data);
                    return;
                }
            }
        }
    }
}

impl HoneyHiveLayer {
    /// A builder; see [`Builder`] for the settings and their `HH_*` environment variables.
    pub fn builder() -> Builder {
        Builder::default()
    }

    pub(crate) fn new(producer: Option<Producer>, settings: Settings) -> Self {
        HoneyHiveLayer {
            producer,
            settings,
            with_span: None,
        }
    }

    /// Counts values cut to fit the size policy.
    pub(crate) fn count_truncated(&self, n: u32) {
        if n > 0
            && let Some(producer) = &self.producer
        {
            producer.count_truncated(n);
        }
    }

    /// Whether message content is sent: when not, `#[trace]` serialises no argument or result.
    pub(crate) fn capture_content(&self) -> bool {
        self.settings.capture_content
    }

    /// The closure runner, once the layer is part of a subscriber.
    pub(crate) fn span_access(&self) -> Option<WithSpanFn> {
        self.with_span
    }

    /// Records `fields` into the span's draft (its control fields into its recorded form).
    fn record(&self, span: &mut FinishedSpan, into: Into, fields: &dyn RecordFields) {
        let mut visitor = Recorder::new(
            &mut span.draft,
            &mut span.recorded,
            into,
            self.settings.max_field_bytes,
        );
        fields.record_into(&mut visitor);
        self.count_truncated(visitor.truncated);
    }

    /// Whether a span outside any session could start or join one, from its callsite's field
    /// names alone, before anything is recorded: a root span when every root starts a session, or
    /// a span declaring a session control field.
    fn may_start_session(&self, attrs: &Attributes<'_>, has_parent: bool) -> bool {
        self.starts_every_root(has_parent) || declares_session_field(attrs)
    }

    /// Whether a span without a parent starts a session whatever its fields: every root does,
    /// unless its callsite declares a session control field.
    fn starts_every_root(&self, has_parent: bool) -> bool {
        self.settings.session_roots == SessionRoots::AllRoots && !has_parent
    }

    /// Whether a span with no session above it starts one.
    fn starts_session(&self, span: &FinishedSpan, has_parent: bool) -> bool {
        let recorded = &span.recorded;
        match (recorded.session_flag, self.settings.session_roots) {
            (Some(false), _) => false,
            (_, SessionRoots::AllRoots) => !has_parent,
            (flag, SessionRoots::Marked) => flag == Some(true) || recorded.session_name.is_some(),
        }
    }

    /// The session a span starts or joins: its name, from the span's fields.
    fn session_name(&self, span: &FinishedSpan, fields: &Fields, span_name: &'static str) -> Name {
        crate::mapping::session_name(
            span.recorded.session_name.as_deref(),
            fields,
            self.settings.session_name.as_deref(),
            Name::Borrowed(span_name),
        )
    }
}

/// `Attributes`, `Record` and `Event` all record into a visitor.
trait RecordFields {
    fn record_into(&self, visitor: &mut Recorder<'_>);
}

impl RecordFields for Attributes<'_> {
    fn record_into(&self, visitor: &mut Recorder<'_>) {
        self.record(visitor);
    }
}

impl RecordFields for Record<'_> {
    fn record_into(&self, visitor: &mut Recorder<'_>) {
        self.record(visitor);
    }
}

impl RecordFields for Event<'_> {
    fn record_into(&self, visitor: &mut Recorder<'_>) {
        self.record(visitor);
    }
}

/// Whether a span's callsite declares a field that decides whether it starts or joins a
/// session (`honeyhive.session`, `honeyhive.session_name`, `honeyhive.session_id`).
fn declares_session_field(attrs: &Attributes<'_>) -> bool {
    declares(
        attrs,
        &[
            crate::fields::SESSION_ID,
            crate::fields::SESSION,
            crate::fields::SESSION_NAME,
        ],
    )
}

/// Whether a span's callsite declares any of `names`, whatever was recorded.
fn declares(attrs: &Attributes<'_>, names: &[&str]) -> bool {
    let fields = attrs.metadata().fields();
    names.iter().any(|name| fields.field(name).is_some())
}

/// The bound a span's trace was turned away by, if it was.
fn shed_bound(extensions: &tracing_subscriber::registry::Extensions<'_>) -> Option<Bound> {
    if extensions.get::<ShedFull>().is_some() {
        Some(Bound::Count)
    } else if extensions.get::<ShedBytes>().is_some() {
        Some(Bound::Bytes)
    } else {
        None
    }
}

/// Turns a span away with its trace: counted now, marked for the spans below it.
fn shed<S>(span: &SpanRef<'_, S>, producer: &Producer, bound: Bound)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    producer.count_turned_away(bound);
    let mut extensions = span.extensions_mut();
    match bound {
        Bound::Count => extensions.insert(ShedFull),
        Bound::Bytes => extensions.insert(ShedBytes),
    }
}

/// Wall-clock now, in Unix epoch milliseconds.
pub(crate) fn now_ms() -> i64 {
    now_precise().0
}

/// Wall-clock now, in whole Unix epoch milliseconds and the part of a millisecond past them.
fn now_precise() -> (i64, f64) {
    split_ms(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default(),
    )
}

/// A time since the Unix epoch in whole milliseconds, and the part of a millisecond past them.
pub(crate) fn split_ms(since: std::time::Duration) -> (i64, f64) {
    let ms = i64::try_from(since.as_millis()).unwrap_or(i64::MAX);
    (ms, f64::from(since.subsec_nanos() % 1_000_000) / 1e6)
}

impl<S> tracing_subscriber::Layer<S> for HoneyHiveLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        if let Some(producer) = &self.producer {
            producer.register(subscriber);
        }
    }

    fn on_layer(&mut self, _subscriber: &mut S) {
        self.with_span = Some(with_span::<S>);
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(producer) = &self.producer else {
            return;
        };
        if pipeline::is_internal_thread() {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        let parent_span = span.parent();
        let mut shed_parent = None;
        let parent = parent_span.as_ref().and_then(|p| {
            let extensions = p.extensions();
            let Some(data) = extensions.get::<SpanData>() else {
                shed_parent = shed_bound(&extensions);
                return None;
            };
            Some((Arc::clone(&data.span.session), data.span.event_id))
        });
        // A span of a trace turned away goes with it, unless it may join a session of its own.
        if let Some(bound) = shed_parent
            && !declares(attrs, &[crate::fields::SESSION_ID])
        {
            return shed(&span, producer, bound);
        }
        // A root sure to start a session is turned away before anything of it is recorded.
        if self.starts_every_root(parent_span.is_some())
            && !declares_session_field(attrs)
            && let Some(bound) = producer.turning_away()
        {
            return shed(&span, producer, bound);
        }
        if parent.is_none() && !self.may_start_session(attrs, parent_span.is_some()) {
            // Outside any session and unable to start one: nothing to record.
            return;
        }
        let metadata = span.metadata();
        let mut finished = producer.fresh();
        // One allocation of the right size at most, instead of growing as fields are recorded.
        finished.draft.reserve_fields(metadata.fields().len());
        self.record(&mut finished, Into::Span, attrs);
        let (start_ms, start_fraction) = now_precise();
        // A grouping key joins the session it names; one that is not a UUID names a derived one,
        // and is kept visible as `metadata["honeyhive.session_key"]`.
        let key = finished
            .recorded
            .session_id
            .take()
            .filter(|key| !key.trim().is_empty());
        let mut session_fields = Fields::default();
        let joined = key.map(|key| {
            let id = crate::ids::session_id_for_key(&key);
            if !crate::ids::is_uuid(&key) {
                let text = finished.draft.push_str(&key, usize::MAX, &mut 0);
                finished.draft.set(SESSION_KEY, DraftValue::Text(text));
                // On the session too, where HoneyHive's docs promise it.
                session_fields.set(SESSION_KEY, FieldValue::Str(key));
            }
            id
        });
        // Below a span turned away, a span can only join a session of its own.
        let starts = joined.is_none()
            && parent.is_none()
            && shed_parent.is_none()
            && self.starts_session(&finished, parent_span.is_some());
        if joined.is_none() && parent.is_none() && !starts {
            // Neither in a session nor starting one.
            producer.recycle(finished);
            if let Some(bound) = shed_parent {
                shed(&span, producer, bound);
            }
            return;
        }
        // A trace starts here (a root, or a span joining a session by id): it is taken only
        // while the queue is not refilling, with room set aside for the span that ends it.
        let mut end_room = None;
        if joined.is_some() || starts {
            match producer.reserve_end() {
                Ok(room) => end_room = Some(room),
                Err(bound) => {
                    producer.recycle(finished);
                    return shed(&span, producer, bound);
                }
            }
        }
        let (session, role, event_id, owns_session) = if let Some(session_id) = joined {
            let seed = SessionSeed {
                id: session_id,
                joined: true,
                trace: false,
                name: self.session_name(&finished, &finished.draft.to_fields(), span.name()),
                source: finished.recorded.source.clone(),
                start_ms,
                fields: session_fields,
            };
            // Under the caller's event when the span names one (`honeyhive.parent_id`), as a
            // request from another service does, else under the session.
            let parent = finished.recorded.parent_id.unwrap_or(session_id);
            (Arc::new(seed), Role::Event { parent }, Uuid::new_v4(), true)
        } else if let Some((session, parent)) = parent {
            (session, Role::Event { parent }, Uuid::new_v4(), false)
        } else {
            let fields = finished.draft.to_fields();
            let seed = SessionSeed {
                id: Uuid::new_v4(),
                joined: false,
                trace: false,
                name: self.session_name(&finished, &fields, span.name()),
                source: finished.recorded.source.clone(),
                start_ms,
                fields,
            };
            let id = seed.id;
            (Arc::new(seed), Role::Session, id, true)
        };
        finished.session = session;
        finished.role = role;
        finished.event_id = event_id;
        finished.name = metadata.name().into();
        finished.target = metadata.target().into();
        finished.level = *metadata.level();
        finished.start_ms = start_ms;
        finished.start_fraction = start_fraction;
        span.extensions_mut().insert(SpanData {
            owns_session,
            end_room,
            started: Instant::now(),
            span: finished,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if self.producer.is_none() || pipeline::is_internal_thread() {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(data) = extensions.get_mut::<SpanData>() {
            self.record(&mut data.span, Into::Span, values);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if self.producer.is_none() || pipeline::is_internal_thread() {
            return;
        }
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        let Some(data) = extensions.get_mut::<SpanData>() else {
            return;
        };
        let metadata = event.metadata();
        let finished = &mut *data.span;
        let wanted = *metadata.level() <= self.settings.logs_level;
        let keep = wanted && finished.draft.logs() < self.settings.max_events_per_span;
        let sets_error = *metadata.level() == Level::ERROR && finished.recorded.error.is_none();
        // Some crates (swiftide) record a span's own fields on events inside it, often at DEBUG:
        // they are the span's, whatever the logs level.
        let lifts = metadata
            .fields()
            .iter()
            .any(|f| crate::recorded::belongs_to_span(f.name()));
        if keep || sets_error || lifts {
            finished
                .draft
                .begin_log(now_ms(), *metadata.level(), metadata.target());
            self.record(finished, Into::Event, event);
            if sets_error {
                finished.recorded.error = Some(finished.draft.last_log_text(metadata.name()));
            }
            if keep {
                return;
            }
            // Recorded only for the error it reports, or the span's own fields it carries.
            finished.draft.drop_last_log();
        }
        if wanted {
            finished.recorded.logs_dropped = finished.recorded.logs_dropped.saturating_add(1);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(producer) = &self.producer else {
            return;
        };
        if pipeline::is_internal_thread() {
            return;
        }
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let Some(data) = span.extensions_mut().remove::<SpanData>() else {
            return;
        };
        let SpanData {
            owns_session,
            end_room,
            started,
            span: mut finished,
        } = data;
        finished.duration_ms = started.elapsed().as_secs_f64() * 1e3;
        finished.owns_joined_session = owns_session && finished.session.joined;
        match end_room {
            Some(room) => producer.send_end(finished, room),
            None => producer.send(finished),
        }
    }
}
