// The conversation of an event, read from the shapes HoneyHive's events carry it in. Pure: no
// DOM, no network; re-exported by model.mjs and tested with it.
//
// Inputs: `inputs.chat_history` (what the SDKs and this crate's mapping record), else
// `inputs.messages`; OpenAI chat messages, whose content may be text or a list of parts.
// Outputs: `outputs.messages`, else `outputs.choices[].message` (OpenAI's response), else the
// message at the top of `outputs` (`role`, `content`, `tool_calls`, `finish_reason`).
// OpenTelemetry GenAI parts (`text`, `tool_call`, `tool_call_response`, `reasoning`, media) and
// Anthropic's blocks (`tool_use`, `tool_result`, `thinking`, `image`) are read where they show.

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v) => (typeof v === 'string' ? v : null);
const idOf = (v) => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);

/**
 * The messages of an event's conversation, inputs first, the answer last:
 * `[{role, text, parts, toolCalls, toolCallId, toolCallName, name, answer, finishReason,
 *    reasoning, refusal, textPretty}]`; `[]` when the event holds no chat.
 *
 * - `text`: the message's text (text parts joined by newlines), '' when none;
 * - `parts`: what is not text: `[{type, label, imageSrc?}]` (`imageSrc` only for `data:image/`);
 * - `toolCalls`: `[{id, name, arguments, argumentsJson}]`, `arguments` pretty-printed when JSON;
 * - `toolCallId` / `toolCallName`: for a tool result, the call it answers and that call's tool;
 * - `answer`: whether the message is the model's output; `finishReason` when known;
 * - `textPretty`: a tool result's JSON text, pretty-printed.
 */
export function chatMessages(event) {
  if (!isObject(event)) return [];
  const type = typeof event.event_type === 'string' ? event.event_type : '';
  const input = inputMessages(event.inputs);
  const output = outputMessages(event.outputs, type === 'model' || input.length > 0);
  const messages = [];
  for (const m of input) messages.push(...readMessage(m.value, { answer: false }));
  for (const m of output) {
    messages.push(...readMessage(m.value, { answer: true, finishReason: m.finishReason }));
  }
  // Name the tool each result answers, from the calls before it.
  const names = new Map();
  for (const m of messages) {
    for (const call of m.toolCalls) if (call.id && call.name) names.set(call.id, call.name);
    if (m.toolCallId && !m.toolCallName) {
      m.toolCallName = names.get(m.toolCallId) ?? m.name ?? null;
    }
  }
  return messages;
}

function looksLikeMessage(m) {
  return isObject(m) && (typeof m.role === 'string' || Array.isArray(m.parts)
    || Array.isArray(m.tool_calls) || Array.isArray(m.content));
}

/** The input messages, each as `{value}`. */
function inputMessages(inputs) {
  if (!isObject(inputs)) return [];
  let list = null;
  if (Array.isArray(inputs.chat_history) && inputs.chat_history.length > 0) {
    list = inputs.chat_history;
  } else if (Array.isArray(inputs.messages) && inputs.messages.some(looksLikeMessage)) {
    list = inputs.messages;
  }
  if (!list) return [];
  const out = list.map((value) => ({ value }));
  // Anthropic's shape: the system prompt beside the messages.
  if (typeof inputs.system === 'string' && inputs.system.trim() && list === inputs.messages) {
    out.unshift({ value: { role: 'system', content: inputs.system } });
  }
  return out;
}

/** The output messages, each as `{value, finishReason}`; `loose` lets a bare `content` count. */
function outputMessages(outputs, loose) {
  if (Array.isArray(outputs)) {
    return outputs.some(looksLikeMessage) ? outputs.map((value) => ({ value })) : [];
  }
  if (!isObject(outputs)) return [];
  const topReason = str(outputs.finish_reason) ?? str(outputs.stop_reason);
  if (Array.isArray(outputs.messages) && outputs.messages.some(looksLikeMessage)) {
    return outputs.messages.map((value, i) => ({
      value,
      finishReason: i === 0 && outputs.messages.length === 1 ? topReason : null,
    }));
  }
  if (Array.isArray(outputs.choices) && outputs.choices.some(isObject)) {
    const out = [];
    for (const choice of outputs.choices) {
      if (!isObject(choice)) continue;
      let value = isObject(choice.message) ? choice.message : isObject(choice.delta) ? choice.delta : null;
      if (!value && typeof choice.text === 'string') value = { role: 'assistant', content: choice.text };
      if (value) out.push({ value, finishReason: str(choice.finish_reason) });
    }
    return out;
  }
  const isMessage = typeof outputs.role === 'string' || Array.isArray(outputs.tool_calls)
    || isObject(outputs.function_call) || (loose && 'content' in outputs);
  return isMessage ? [{ value: outputs, finishReason: topReason }] : [];
}

/** One recorded message as one or more normalised ones (tool results in its parts become
 *  messages of their own, as the mapping does). */
function readMessage(m, { answer, finishReason = null }) {
  if (typeof m === 'string') return [message(answer ? 'assistant' : 'unknown', answer, { text: [m] })];
  if (!isObject(m)) return [];
  const read = { text: [], transcripts: [], reasoning: [], refusal: [], parts: [], calls: [], results: [] };
  readContent(m.content, read);
  if (Array.isArray(m.parts)) readContent(m.parts, read);
  if (Array.isArray(m.tool_calls)) {
    for (const c of m.tool_calls) {
      const call = toolCall(c);
      if (call) read.calls.push(call);
    }
  }
  if (isObject(m.function_call)) read.calls.push(toolCall(m.function_call));
  for (const key of ['reasoning', 'reasoning_content']) {
    if (typeof m[key] === 'string' && m[key]) read.reasoning.push(m[key]);
  }
  if (typeof m.refusal === 'string' && m.refusal) read.refusal.push(m.refusal);
  const role = str(m.role) || (answer ? 'assistant' : 'unknown');
  const msg = message(role, answer, read);
  msg.toolCallId = idOf(m.tool_call_id) ?? idOf(m.tool_use_id);
  msg.name = str(m.name);
  msg.finishReason = str(m.finish_reason) ?? str(m.stop_reason) ?? finishReason ?? null;
  if (msg.toolCallId || role === 'tool') prettify(msg);
  const out = [];
  const empty = !msg.text && msg.parts.length === 0 && msg.toolCalls.length === 0
    && !msg.reasoning && !msg.refusal;
  if (!(empty && read.results.length > 0)) out.push(msg);
  for (const r of read.results) {
    const result = message('tool', answer, { text: [r.text] });
    result.toolCallId = r.id;
    result.finishReason = null;
    prettify(result);
    out.push(result);
  }
  return out;
}

function message(role, answer, read) {
  const text = read.text && read.text.length ? read.text : read.transcripts || [];
  return {
    role,
    text: text.join('\n'),
    parts: read.parts || [],
    toolCalls: read.calls || [],
    toolCallId: null,
    toolCallName: null,
    name: null,
    answer,
    finishReason: null,
    reasoning: read.reasoning && read.reasoning.length ? read.reasoning.join('\n') : null,
    refusal: read.refusal && read.refusal.length ? read.refusal.join('\n') : null,
    textPretty: null,
  };
}

/** Sorts the content of a message (text, a list of parts, or an object) into `read`. */
function readContent(content, read) {
  if (content === null || content === undefined) return;
  if (typeof content === 'string') {
    read.text.push(content);
    return;
  }
  if (typeof content === 'number' || typeof content === 'boolean') {
    read.text.push(String(content));
    return;
  }
  const parts = Array.isArray(content) ? content : [content];
  for (const part of parts) {
    if (typeof part === 'string') {
      read.text.push(part);
      continue;
    }
    if (!isObject(part)) continue;
    readPart(part, read);
  }
}

function readPart(part, read) {
  const type = typeof part.type === 'string' ? part.type : '';
  const words = str(part.text) ?? str(part.content);
  switch (type) {
    case 'text':
    case 'input_text':
    case 'output_text':
    case '':
      if (words !== null) {
        read.text.push(words);
        return;
      }
      break;
    case 'reasoning':
    case 'thinking': {
      const thought = str(part.thinking) ?? words;
      if (thought !== null) {
        read.reasoning.push(thought);
        return;
      }
      break;
    }
    case 'refusal':
      if (typeof part.refusal === 'string') {
        read.refusal.push(part.refusal);
        return;
      }
      break;
    case 'tool_call':
    case 'function_call':
    case 'tool_use':
      read.calls.push(toolCall(part));
      return;
    case 'server_tool_call':
      read.calls.push(toolCall({ id: part.id, name: part.name, arguments: part.server_tool_call }));
      return;
    case 'tool_call_response':
    case 'tool_result':
    case 'function_call_output':
    case 'server_tool_call_response': {
      const id = idOf(part.id) ?? idOf(part.tool_use_id) ?? idOf(part.call_id);
      const value = firstPresent(part, ['response', 'result', 'content', 'output',
        'server_tool_call_response']);
      read.results.push({ id, text: resultText(value) });
      return;
    }
    default:
      break;
  }
  if (typeof part.transcript === 'string') read.transcripts.push(part.transcript);
  read.parts.push(describePart(part, type));
}

function firstPresent(obj, keys) {
  for (const k of keys) if (k in obj) return obj[k];
  return undefined;
}

/** A tool's result as text: text as it is, anything else as JSON; text parts joined. */
function resultText(value) {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((p) => isObject(p) && typeof p.text === 'string')) {
    return value.map((p) => p.text).join('\n');
  }
  return safeJson(value, 0);
}

/** A tool call in any of the shapes: `{id, function: {name, arguments}}`, `{id, name,
 *  arguments}`, Anthropic's `{id, name, input}`. */
function toolCall(c) {
  if (!isObject(c)) return null;
  const f = isObject(c.function) ? c.function : c;
  const name = str(f.name) ?? str(c.name) ?? '';
  let args;
  if ('arguments' in f) args = f.arguments;
  else if ('input' in c) args = c.input;
  else if ('args' in c) args = c.args;
  return { id: idOf(c.id) ?? idOf(c.call_id), name, ...prettyArguments(args) };
}

/** Arguments as text to show, pretty when they are JSON (text or value), and the parsed value. */
export function prettyArguments(args) {
  if (args === undefined || args === null) return { arguments: '', argumentsJson: undefined };
  if (typeof args === 'string') {
    try {
      const parsed = JSON.parse(args);
      return { arguments: safeJson(parsed, 2), argumentsJson: parsed };
    } catch {
      return { arguments: args, argumentsJson: undefined };
    }
  }
  if (typeof args === 'object') return { arguments: safeJson(args, 2), argumentsJson: args };
  return { arguments: String(args), argumentsJson: args };
}

function safeJson(value, indent) {
  try {
    return JSON.stringify(value, null, indent) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A tool result whose text is a JSON object or array, pretty-printed beside it. */
function prettify(msg) {
  const t = msg.text.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return;
  try {
    msg.textPretty = JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    // Not JSON: shown as it is.
  }
}

/** What a non-text part is, in a few words, and an image to show when it is inline data. */
function describePart(part, type) {
  const url = str(part.image_url) ?? (isObject(part.image_url) ? str(part.image_url.url) : null)
    ?? str(part.url) ?? str(part.uri)
    ?? (isObject(part.source) && part.source.type === 'base64' && typeof part.source.data === 'string'
      ? `data:${str(part.source.media_type) ?? 'application/octet-stream'};base64,${part.source.data}`
      : null);
  const kind = str(part.modality) ?? (type || 'part');
  const bits = [kind];
  for (const k of ['mime_type', 'media_type', 'format', 'file_id', 'filename', 'generic_type']) {
    if (typeof part[k] === 'string' && part[k]) bits.push(part[k]);
  }
  if (isObject(part.input_audio) && typeof part.input_audio.format === 'string') {
    bits.push(part.input_audio.format);
  }
  if (url) bits.push(shortUrl(url));
  const out = { type: type || 'part', label: bits.join(' · ') };
  if (url && /^data:image\/(png|jpeg|gif|webp);/i.test(url)) out.imageSrc = url;
  return out;
}

/** A URL short enough for a label: inline data as its type and size. */
export function shortUrl(url) {
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    const head = url.slice(5, comma < 0 ? 40 : Math.min(comma, 45));
    const size = comma < 0 ? url.length : url.length - comma - 1;
    return `inline ${head.split(';')[0] || 'data'} (${size < 1024 ? `${size} B` : `${Math.round(size / 1024)} kB`})`;
  }
  return url.length > 120 ? `${url.slice(0, 117)}…` : url;
}
