//! The seven objects of a HoneyHive event, and which field names route to them.

/// The buckets of a HoneyHive event that hold JSON objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Bucket {
    Inputs,
    Outputs,
    Config,
    Metadata,
    Metrics,
    Feedback,
    UserProperties,
}

/// The GenAI attributes whose text is JSON of unbounded size: messages (and a turn's new ones),
/// instructions, tool definitions, a tool call's arguments and result, retrieved documents.
const GEN_AI_JSON: [&str; 8] = [
    "gen_ai.input.messages",
    "gen_ai.input.messages_delta",
    "gen_ai.output.messages",
    "gen_ai.retrieval.documents",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
];

impl Bucket {
    pub(crate) const ALL: [Bucket; 7] = [
        Bucket::Inputs,
        Bucket::Outputs,
        Bucket::Config,
        Bucket::Metadata,
        Bucket::Metrics,
        Bucket::Feedback,
        Bucket::UserProperties,
    ];

    /// The wire name, which is also the field-name prefix that routes to it (`inputs.question`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Bucket::Inputs => "inputs",
            Bucket::Outputs => "outputs",
            Bucket::Config => "config",
            Bucket::Metadata => "metadata",
            Bucket::Metrics => "metrics",
            Bucket::Feedback => "feedback",
            Bucket::UserProperties => "user_properties",
        }
    }

    /// The bucket whose whole object a field holds as JSON text: `honeyhive.inputs`,
    /// `honeyhive.outputs`, … (what `#[trace]` records).
    pub(crate) fn json_field(name: &str) -> Option<Bucket> {
        let rest = name.strip_prefix("honeyhive.")?;
        Bucket::ALL.into_iter().find(|bucket| bucket.name() == rest)
    }

    /// The most text a field keeps: a field holding JSON text (a bucket's whole object, or a
    /// GenAI attribute such as a chat history) is kept whole up to
    /// [`MAX_JSON_FIELD_BYTES`](crate::limits::MAX_JSON_FIELD_BYTES) (a cut would leave no JSON;
    /// its values are bounded once parsed), any other up to `max_field_bytes`.
    pub(crate) fn max_text(name: &str, max_field_bytes: usize) -> usize {
        if Bucket::json_field(name).is_some() || GEN_AI_JSON.contains(&name) {
            crate::limits::MAX_JSON_FIELD_BYTES.max(max_field_bytes)
        } else {
            max_field_bytes
        }
    }

    /// The bucket a field name routes to, and the key inside it: `inputs.question` →
    /// (`Inputs`, `question`); a bare bucket name (`inputs`) → (`Inputs`, ``).
    pub(crate) fn route(name: &str) -> Option<(Bucket, &str)> {
        Bucket::ALL.into_iter().find_map(|bucket| {
            let rest = name.strip_prefix(bucket.name())?;
            if rest.is_empty() {
                Some((bucket, rest))
            } else {
                rest.strip_prefix('.').map(|key| (bucket, key))
            }
        })
    }
}
