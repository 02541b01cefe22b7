//! [`HoneyHiveSpanExt`]: structured values (chat messages, tool arguments, documents) attached to a
//! span or to its whole session without string escaping — HoneyHive's enrich-span and
//! enrich-session.

use serde_json::Value;

use crate::HoneyHiveLayer;
use crate::layer::Target;
use crate::limits;
use crate::recorded::Bucket;

/// Values to merge into an event or a session: each object is merged key by key into the one
/// already there (a later value for the same key wins), and `error` sets the error.
///
/// A value that is not a JSON object is kept under the key `"value"`, since HoneyHive's
/// `inputs`, `outputs`, … are objects. Values nested deeper than [`limits::MAX_DEPTH`] levels
/// are cut there (see [`limits`]).
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct Enrichment {
    pub(crate) values: Vec<(Bucket, Value)>,
    pub(crate) error: Option<String>,
}

impl Enrichment {
    /// Nothing to merge yet.
    pub fn new() -> Self {
        Enrichment::default()
    }

    fn with(mut self, bucket: Bucket, value: Value) -> Self {
        self.values.push((bucket, value));
        self
    }

    /// Merged into `inputs`.
    pub fn with_inputs(self, inputs: Value) -> Self {
        self.with(Bucket::Inputs, inputs)
    }

    /// Merged into `outputs`.
    pub fn with_outputs(self, outputs: Value) -> Self {
        self.with(Bucket::Outputs, outputs)
    }

    /// Merged into `config` (model, provider, prompt template, sampling parameters).
    pub fn with_config(self, config: Value) -> Self {
        self.with(Bucket::Config, config)
    }

    /// Merged into `metadata`.
    pub fn with_metadata(self, metadata: Value) -> Self {
        self.with(Bucket::Metadata, metadata)
    }

    /// Merged into `metrics` (numeric or boolean evaluations).
    pub fn with_metrics(self, metrics: Value) -> Self {
        self.with(Bucket::Metrics, metrics)
    }

    /// Merged into `feedback` (ratings, corrections).
    pub fn with_feedback(self, feedback: Value) -> Self {
        self.with(Bucket::Feedback, feedback)
    }

    /// Merged into `user_properties`.
    pub fn with_user_properties(self, user_properties: Value) -> Self {
        self.with(Bucket::UserProperties, user_properties)
    }

    /// Sets the error message. A session has no error field of its own: on a session it is kept
    /// as `metadata.error`.
    pub fn with_error(mut self, error: impl std::fmt::Display) -> Self {
        self.error = Some(error.to_string());
        self
    }

    /// Bounds the values by the size policy, as they are attached: their depth, and their size
    /// to the event limit, so that they are held at the size they will be sent at. Returns how
    /// many values were cut.
    pub(crate) fn bound(&mut self) -> u32 {
        self.values
            .iter_mut()
            .map(|(_, value)| {
                limits::bound_depth(value, limits::MAX_DEPTH)
                    + limits::fit_value(value, limits::MAX_EVENT_BYTES)
            })
            .sum()
    }

    /// The values as a session holds them: a session has no error field, so the error goes to
    /// `metadata.error`.
    pub(crate) fn into_session_values(self) -> Vec<(Bucket, Value)> {
        let mut values = self.values;
        if let Some(error) = self.error {
            values.push((Bucket::Metadata, serde_json::json!({ "error": error })));
        }
        values
    }
}

/// Attaches JSON values to the HoneyHive event of a [`tracing::Span`], or to its whole session.
///
/// It does nothing when the span is disabled, is not part of a session, or its subscriber has no
/// [`HoneyHiveLayer`].
///
/// ```
/// # #[cfg(feature = "emulator")] {
/// use serde_json::json;
/// use tracing_subscriber::prelude::*;
/// use tracing_honeyhive::{Enrichment, HoneyHiveLayer, HoneyHiveSpanExt};
/// # let server = tracing_honeyhive::emulator::Emulator::builder().start().unwrap();
///
/// let (layer, guard) = HoneyHiveLayer::builder().with_api_url(server.url()).build()?;
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     let turn = tracing::info_span!("support chat");
///     let _turn = turn.enter();
///     let llm = tracing::info_span!("chat completion", honeyhive.event_type = "model");
///     llm.set_inputs(json!({"chat_history": [
///         {"role": "system", "content": "You are terse."},
///         {"role": "user", "content": "Where is my order?"},
///     ]}));
///     llm.set_outputs(json!({"role": "assistant", "content": "It shipped."}));
///     llm.enrich_session(Enrichment::new().with_user_properties(json!({"user_id": "u-17"})));
/// });
/// guard.flush(std::time::Duration::from_secs(5)).unwrap();
/// # let event = &server.events()[0];
/// # assert_eq!(event.inputs.as_ref().unwrap()["chat_history"][1]["content"], "Where is my order?");
/// # assert_eq!(server.sessions()[0].user_properties, Some(json!({"user_id": "u-17"})));
/// # }
/// # Ok::<(), tracing_honeyhive::Error>(())
/// ```
pub trait HoneyHiveSpanExt {
    /// Merges `enrichment` into this span's event (HoneyHive's enrich-span).
    fn enrich(&self, enrichment: Enrichment);

    /// Merges `enrichment` into this span's session (HoneyHive's enrich-session): on the root
    /// span of the session, or on the span that joined it by `honeyhive.session_id`.
    fn enrich_session(&self, enrichment: Enrichment);

    /// Merges `inputs` into the event's inputs.
    fn set_inputs(&self, inputs: Value) {
        self.enrich(Enrichment::new().with_inputs(inputs));
    }

    /// Merges `outputs` into the event's outputs.
    fn set_outputs(&self, outputs: Value) {
        self.enrich(Enrichment::new().with_outputs(outputs));
    }

    /// Merges `config` into the event's config.
    fn set_config(&self, config: Value) {
        self.enrich(Enrichment::new().with_config(config));
    }

    /// Merges `metadata` into the event's metadata.
    fn set_metadata(&self, metadata: Value) {
        self.enrich(Enrichment::new().with_metadata(metadata));
    }

    /// Merges `metrics` into the event's metrics.
    fn set_metrics(&self, metrics: Value) {
        self.enrich(Enrichment::new().with_metrics(metrics));
    }

    /// Merges `feedback` into the event's feedback.
    fn set_feedback(&self, feedback: Value) {
        self.enrich(Enrichment::new().with_feedback(feedback));
    }

    /// Merges `user_properties` into the event's user properties.
    fn set_user_properties(&self, user_properties: Value) {
        self.enrich(Enrichment::new().with_user_properties(user_properties));
    }

    /// Sets the event's error.
    fn set_error(&self, error: impl std::fmt::Display) {
        self.enrich(Enrichment::new().with_error(error));
    }
}

impl HoneyHiveSpanExt for tracing::Span {
    fn enrich(&self, enrichment: Enrichment) {
        apply(self, Target::Span, enrichment);
    }

    fn enrich_session(&self, enrichment: Enrichment) {
        apply(self, Target::Session, enrichment);
    }
}

fn apply(span: &tracing::Span, target: Target, enrichment: Enrichment) {
    let mut enrichment = Some(enrichment);
    span.with_subscriber(|(id, dispatch)| {
        let Some(layer) = dispatch.downcast_ref::<HoneyHiveLayer>() else {
            return;
        };
        let Some(with_span) = layer.span_access() else {
            return;
        };
        // Bounded before the span's extensions are locked (the walks are as long as the value):
        // its depth, and its size to the event limit, so that it is held at the size it will
        // be sent at and never costs its event the room it would not need.
        let cut = enrichment.as_mut().map_or(0, Enrichment::bound);
        with_span(dispatch, id, target, &mut |data| {
            let Some(Enrichment { values, error }) = enrichment.take() else {
                return;
            };
            layer.count_truncated(cut);
            match target {
                Target::Span => {
                    data.span.recorded.json.extend(values);
                    if error.is_some() {
                        data.span.recorded.error = error;
                    }
                }
                Target::Session => {
                    let values = Enrichment { values, error }.into_session_values();
                    data.span.session_json.extend(values);
                }
            }
        });
    });
}
