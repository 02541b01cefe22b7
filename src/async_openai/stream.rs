//! Server-sent events read as they pass, and the answer they build: Chat Completions' chunks
//! accumulated into the `chat.completion` a non-streamed call returns, and the Responses API's
//! events into its `response` object. Pure: bytes in, in pieces of any size.

use serde_json::{Map, Value, json};

/// The longest line kept while waiting for its end; a longer one (no sender sends one) stops the
/// reading, so memory stays bounded whatever the body.
const MAX_LINE: usize = 32 * 1024 * 1024;

/// The most text one accumulated string keeps; the mapping bounds fields well below this.
const MAX_TEXT: usize = 4 * 1024 * 1024;

/// One event: its `event:` name (empty when none) and its `data:` lines joined.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct SseEvent {
    pub(crate) event: String,
    pub(crate) data: String,
}

/// Splits bytes into events, across pieces cut anywhere.
#[derive(Debug, Default)]
pub(crate) struct SseReader {
    line: Vec<u8>,
    event: SseEvent,
    has_data: bool,
    /// A line passed [`MAX_LINE`]: nothing more is read.
    pub(crate) overflowed: bool,
}

impl SseReader {
    /// Reads `bytes`, handing each completed event to `on_event`.
    pub(crate) fn feed(&mut self, mut bytes: &[u8], on_event: &mut dyn FnMut(SseEvent)) {
        while !self.overflowed && !bytes.is_empty() {
            let Some(end) = bytes.iter().position(|b| *b == b'\n') else {
                self.line.extend_from_slice(bytes);
                self.overflowed = self.line.len() > MAX_LINE;
                return;
            };
            self.line.extend_from_slice(&bytes[..end]);
            bytes = &bytes[end + 1..];
            if self.line.last() == Some(&b'\r') {
                self.line.pop();
            }
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, on_event);
            self.line = line;
            self.line.clear();
        }
    }

    /// The end of the body: an event not followed by a blank line still counts.
    pub(crate) fn finish(&mut self, on_event: &mut dyn FnMut(SseEvent)) {
        if !self.line.is_empty() && !self.overflowed {
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, on_event);
        }
        self.line_done(b"", on_event);
    }

    fn line_done(&mut self, line: &[u8], on_event: &mut dyn FnMut(SseEvent)) {
        if line.is_empty() {
            if self.has_data {
                self.has_data = false;
                on_event(std::mem::take(&mut self.event));
            } else {
                self.event = SseEvent::default();
            }
            return;
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text.as_ref(), ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.event.data.push('\n');
                }
                self.event.data.push_str(value);
                self.has_data = true;
            }
            "event" => value.clone_into(&mut self.event.event),
            _ => {}
        }
    }
}

/// Text appended up to [`MAX_TEXT`].
fn append(to: &mut String, more: &str) {
    if to.len() < MAX_TEXT {
        let room = MAX_TEXT - to.len();
        let mut cut = more.len().min(room);
        while !more.is_char_boundary(cut) {
            cut -= 1;
        }
        to.push_str(&more[..cut]);
    }
}

#[derive(Debug, Default)]
struct ToolCall {
    id: Option<Value>,
    name: String,
    arguments: String,
}

#[derive(Debug, Default)]
struct Choice {
    role: Option<Value>,
    content: Option<String>,
    refusal: Option<String>,
    reasoning: Option<String>,
    calls: Vec<ToolCall>,
    finish: Option<Value>,
}

/// Chat Completions' chunks, accumulated.
#[derive(Debug, Default)]
pub(crate) struct ChatAnswer {
    top: Map<String, Value>,
    choices: Vec<Choice>,
    usage: Option<Value>,
    /// Chunks read.
    pub(crate) chunks: usize,
}

/// The slot at `index`, grown as needed (indexes past a sane bound are ignored).
fn slot<T: Default>(list: &mut Vec<T>, index: Option<u64>) -> Option<&mut T> {
    let index = usize::try_from(index.unwrap_or(0))
        .ok()
        .filter(|i| *i < 1024)?;
    if list.len() <= index {
        list.resize_with(index + 1, T::default);
    }
    list.get_mut(index)
}

impl ChatAnswer {
    /// Adds one `chat.completion.chunk`.
    pub(crate) fn add(&mut self, chunk: &Value) {
        self.chunks += 1;
        for key in ["id", "model", "system_fingerprint", "service_tier"] {
            if let Some(value) = chunk.get(key).filter(|v| !v.is_null()) {
                self.top.insert(key.into(), value.clone());
            }
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(usage.clone());
        }
        let Some(choices) = chunk.get("choices").and_then(Value::as_array) else {
            return;
        };
        for delta_choice in choices {
            let index = delta_choice.get("index").and_then(Value::as_u64);
            let Some(choice) = slot(&mut self.choices, index) else {
                continue;
            };
            if let Some(reason) = delta_choice.get("finish_reason").filter(|r| !r.is_null()) {
                choice.finish = Some(reason.clone());
            }
            let Some(delta) = delta_choice.get("delta") else {
                continue;
            };
            if let Some(role) = delta.get("role").filter(|r| !r.is_null()) {
                choice.role = Some(role.clone());
            }
            for (key, into) in [
                ("content", &mut choice.content),
                ("refusal", &mut choice.refusal),
                ("reasoning_content", &mut choice.reasoning),
            ] {
                if let Some(text) = delta.get(key).and_then(Value::as_str) {
                    append(into.get_or_insert_with(String::new), text);
                }
            }
            for call in delta
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let index = call.get("index").and_then(Value::as_u64);
                let Some(acc) = slot(&mut choice.calls, index) else {
                    continue;
                };
                if let Some(id) = call.get("id").filter(|v| !v.is_null()) {
                    acc.id = Some(id.clone());
                }
                let function = call.get("function").unwrap_or(&Value::Null);
                if let Some(name) = function.get("name").and_then(Value::as_str) {
                    append(&mut acc.name, name);
                }
                if let Some(arguments) = function.get("arguments").and_then(Value::as_str) {
                    append(&mut acc.arguments, arguments);
                }
            }
        }
    }

    /// The answer as a non-streamed call returns it (so far, if the stream stopped early).
    pub(crate) fn completion(&self) -> Value {
        let choices: Vec<Value> = self
            .choices
            .iter()
            .enumerate()
            .map(|(index, choice)| {
                let mut message =
                    json!({"role": choice.role.clone().unwrap_or(json!("assistant"))});
                // The empty text a stream opens with is no content when the model called tools,
                // as a whole answer has none.
                let content = choice.content.as_ref();
                if let Some(content) = content.filter(|c| !c.is_empty() || choice.calls.is_empty())
                {
                    message["content"] = json!(content);
                }
                if let Some(refusal) = &choice.refusal {
                    message["refusal"] = json!(refusal);
                }
                if let Some(reasoning) = &choice.reasoning {
                    message["reasoning_content"] = json!(reasoning);
                }
                if !choice.calls.is_empty() {
                    let calls: Vec<Value> = choice
                        .calls
                        .iter()
                        .map(|c| {
                            json!({"id": c.id, "type": "function",
                                   "function": {"name": c.name, "arguments": c.arguments}})
                        })
                        .collect();
                    message["tool_calls"] = Value::Array(calls);
                }
                json!({"index": index, "message": message, "finish_reason": choice.finish})
            })
            .collect();
        let mut out = self.top.clone();
        out.insert("choices".into(), Value::Array(choices));
        if let Some(usage) = &self.usage {
            out.insert("usage".into(), usage.clone());
        }
        Value::Object(out)
    }
}

/// The Responses API's events, accumulated: the final `response` when it came, else one built
/// from the output items and deltas seen so far.
#[derive(Debug, Default)]
pub(crate) struct ResponsesAnswer {
    started: Option<Value>,
    /// Output items by `output_index`, with their text and arguments as they grew.
    items: Vec<Option<Value>>,
    final_response: Option<Value>,
    /// An `error` event's body.
    pub(crate) error: Option<Value>,
    /// Events read.
    pub(crate) events: usize,
}

impl ResponsesAnswer {
    /// Adds one event's data; true when it ends the response.
    pub(crate) fn add(&mut self, data: &Value) -> bool {
        self.events += 1;
        let kind = data.get("type").and_then(Value::as_str).unwrap_or("");
        let index = data.get("output_index").and_then(Value::as_u64);
        match kind {
            "response.created" | "response.in_progress" => {
                self.started = data.get("response").cloned();
            }
            "response.completed" | "response.incomplete" | "response.failed" => {
                self.final_response = data.get("response").cloned();
                return true;
            }
            "error" => {
                self.error = Some(data.clone());
                return true;
            }
            "response.output_item.added" | "response.output_item.done" => {
                if let (Some(item), Some(slot)) = (data.get("item"), slot(&mut self.items, index)) {
                    *slot = Some(item.clone());
                }
            }
            "response.output_text.delta" => {
                if let Some(item) = slot(&mut self.items, index).and_then(Option::as_mut) {
                    add_text(item, data.get("delta"));
                }
            }
            "response.function_call_arguments.delta" => {
                if let Some(Value::Object(item)) =
                    slot(&mut self.items, index).and_then(Option::as_mut)
                {
                    let arguments = item.entry("arguments").or_insert_with(|| json!(""));
                    if let (Value::String(to), Some(more)) =
                        (arguments, data.get("delta").and_then(Value::as_str))
                    {
                        append(to, more);
                    }
                }
            }
            _ => {}
        }
        false
    }

    /// The response: the final one, else what arrived before the stream stopped.
    pub(crate) fn response(&self) -> Value {
        if let Some(done) = &self.final_response {
            return done.clone();
        }
        let mut out = match &self.started {
            Some(Value::Object(started)) => started.clone(),
            _ => Map::new(),
        };
        out.insert("status".into(), json!("in_progress"));
        out.insert(
            "output".into(),
            Value::Array(self.items.iter().flatten().cloned().collect()),
        );
        Value::Object(out)
    }
}

/// A text delta appended to a message item's last `output_text` part.
fn add_text(item: &mut Value, delta: Option<&Value>) {
    let Some(more) = delta.and_then(Value::as_str) else {
        return;
    };
    let Some(content) = item.get_mut("content").and_then(Value::as_array_mut) else {
        item["content"] = json!([{"type": "output_text", "text": more}]);
        return;
    };
    match content.last_mut() {
        Some(part) if part["type"] == "output_text" => {
            if let Some(Value::String(text)) = part.get_mut("text") {
                append(text, more);
            } else {
                part["text"] = json!(more);
            }
        }
        _ => content.push(json!({"type": "output_text", "text": more})),
    }
}
