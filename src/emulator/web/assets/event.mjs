// One event in the detail panel: its header, its conversation when it holds chat messages,
// then each part of its record as a collapsible JSON tree. Built with DOM methods only: the
// record's text is shown, never interpreted.

import {
  chatMessages, formatDuration, formatStart, formatCount, eventDuration, typeClass, jsonPreview,
  isEmptyValue,
} from './model.mjs';
import { h, longText } from './dom.mjs';

/** The sections of a record, in order: key, title. */
const SECTIONS = [
  ['inputs', 'Inputs'], ['outputs', 'Outputs'], ['config', 'Config'], ['metadata', 'Metadata'],
  ['metrics', 'Metrics'], ['feedback', 'Feedback'], ['error', 'Error'],
  ['user_properties', 'User properties'],
];
/** Record fields the header shows, left out of "Other fields". */
const SHOWN = new Set([...SECTIONS.map(([k]) => k), 'event_name', 'event_type']);
/** Nested JSON open down to this depth. */
const OPEN_DEPTH = 2;
/** Children of an array or object shown before a "Show more" button. */
const CHUNK = 200;
const STRING_LIMIT = 3000;

/**
 * Fills `pane` with the event `record`. `closeHref`: where "Close" goes (the session).
 */
export function renderEvent(pane, record, { closeHref }) {
  const rec = record !== null && typeof record === 'object' ? record : {};
  const chat = safeChat(rec);
  const type = typeClass(rec.event_type);
  const name = typeof rec.event_name === 'string' && rec.event_name ? rec.event_name : '(unnamed)';
  const error = typeof rec.error === 'string' && rec.error.trim() ? rec.error : null;
  const tokens = numberAt(rec.metadata, 'total_tokens') ?? numberAt(rec.metrics, 'total_tokens');
  const model = stringAt(rec.config, 'model') ?? stringAt(rec.metadata, 'response_model');
  const facts = [
    ['Duration', formatDuration(eventDuration(rec))],
    ['Start', typeof rec.start_time === 'number' ? formatStart(rec.start_time, Date.now()) : null],
    ['Model', model],
    ['Tokens', tokens !== null ? formatCount(tokens) : null],
    ['Source', typeof rec.source === 'string' && rec.source ? rec.source : null],
    ['Id', typeof rec.event_id === 'string' ? rec.event_id : null],
  ].filter(([, v]) => v !== null && v !== undefined);
  const head = h('header', { class: 'event-head' },
    h('div', { class: 'event-title-row' },
      h('h3', { id: 'event-title' }, name),
      h('span', { class: `badge badge-${type}`, title: rec.event_type || type },
        type === 'other' && typeof rec.event_type === 'string' && rec.event_type ? rec.event_type : type),
      h('a', { class: 'close', href: closeHref, title: 'Close the event (Escape)' }, 'Close ✕')),
    h('dl', { class: 'facts' }, facts.map(([k, v]) => h('div', {},
      h('dt', {}, k), h('dd', { class: k === 'Id' ? 'mono' : null }, v)))),
    error ? h('div', { class: 'event-error', role: 'note' },
      h('strong', {}, '⚠ Error '), longText(error, 'error-text', 1200)) : null);
  const sections = h('div', { class: 'sections' });
  for (const [key, title] of SECTIONS) {
    const value = rec[key];
    if (isEmptyValue(value)) continue;
    const open = key === 'error' || (chat.length === 0 && (key === 'inputs' || key === 'outputs'));
    sections.append(section(key, title, value, open));
  }
  const rest = {};
  for (const [k, v] of Object.entries(rec)) if (!SHOWN.has(k)) rest[k] = v;
  if (Object.keys(rest).length) sections.append(section('record', 'Other fields', rest, false));
  pane.replaceChildren(...[head, chat.length ? renderChat(chat) : null, sections].filter(Boolean));
  pane.setAttribute('aria-labelledby', 'event-title');
  pane.dataset.eventId = typeof rec.event_id === 'string' ? rec.event_id : '';
  pane.dataset.type = type;
}

/** Fills `pane` with a message instead of an event: loading, or why it could not load. */
export function renderEventMessage(pane, text, { closeHref, isError }) {
  pane.replaceChildren(h('header', { class: 'event-head' },
    h('div', { class: 'event-title-row' },
      h('p', { class: isError ? 'event-problem' : 'muted', role: isError ? 'alert' : null }, text),
      h('a', { class: 'close', href: closeHref }, 'Close ✕'))));
}

function safeChat(rec) {
  try {
    return chatMessages(rec);
  } catch (e) {
    console.error('chat messages unreadable', e);
    return [];
  }
}

const numberAt = (o, k) => (o && typeof o === 'object' && typeof o[k] === 'number' ? o[k] : null);
const stringAt = (o, k) => (o && typeof o === 'object' && typeof o[k] === 'string' && o[k] ? o[k] : null);

// ---------------------------------------------------------------------------------------------
// The conversation

function renderChat(messages) {
  return h('section', { id: 'chat', class: 'chat', 'aria-label': 'Conversation' },
    h('h4', {}, 'Conversation'),
    messages.map(renderMessage));
}

function renderMessage(m) {
  const classes = ['msg'];
  if (m.answer) classes.push('answer');
  const answers = m.toolCallId || (m.role === 'tool' && m.name)
    ? h('span', { class: 'tool-result-for' }, 'result of ',
      h('span', { class: 'tool-name' }, m.toolCallName || m.name || 'a tool call'),
      m.toolCallId ? h('code', { class: 'tool-call-id' }, m.toolCallId) : null)
    : null;
  const head = h('div', { class: 'msg-head' },
    h('span', { class: 'msg-role' }, m.role),
    m.answer ? h('span', { class: 'answer-tag' }, 'answer') : null,
    m.name && !answers ? h('span', { class: 'msg-name' }, m.name) : null,
    answers,
    m.finishReason ? h('span', { class: 'finish-reason' }, `finish: ${m.finishReason}`) : null);
  const body = [];
  if (m.reasoning) {
    body.push(h('details', { class: 'msg-reasoning' }, h('summary', {}, 'Reasoning'),
      longText(m.reasoning, 'msg-text')));
  }
  if (m.text) body.push(longText(m.textPretty || m.text, m.textPretty ? 'msg-text mono' : 'msg-text'));
  if (m.refusal) body.push(h('div', { class: 'msg-refusal' }, 'Refused: ', longText(m.refusal, 'msg-text')));
  if (m.parts.length) {
    body.push(h('ul', { class: 'msg-parts' }, m.parts.map((p) => h('li', { class: 'part' },
      p.imageSrc ? h('img', { src: p.imageSrc, alt: p.label, loading: 'lazy' }) : null,
      h('span', { class: 'part-label' }, p.label)))));
  }
  for (const call of m.toolCalls) {
    body.push(h('div', { class: 'tool-call', 'data-tool-call-id': call.id || null },
      h('div', { class: 'tool-call-head' }, 'calls ',
        h('span', { class: 'tool-name' }, call.name || '(unnamed tool)'),
        call.id ? h('code', { class: 'tool-call-id' }, call.id) : null),
      call.arguments ? longText(call.arguments, 'tool-args mono', STRING_LIMIT, 'pre') : null));
  }
  if (!body.length) body.push(h('p', { class: 'msg-empty' }, '(no content)'));
  return h('article', { class: classes.join(' '), 'data-role': m.role }, head, body);
}

// ---------------------------------------------------------------------------------------------
// Sections and the JSON tree

function section(key, title, value, open) {
  const body = key === 'error' && typeof value === 'string'
    ? longText(value, 'error-text mono', STRING_LIMIT, 'pre')
    : jsonTree(value);
  return h('details', { class: 'section', 'data-section': key, open },
    h('summary', {}, h('span', { class: 'section-name' }, title),
      h('span', { class: 'preview' }, key === 'error' ? '' : jsonPreview(value))),
    h('div', { class: 'section-body' }, body));
}

/** A JSON value as a tree of nested `<details>`, open for the first levels; the children of a
 *  closed node are built when it is first opened. */
export function jsonTree(value) {
  const root = h('div', { class: 'json' });
  if (isContainer(value)) appendChildren(root, value, 0);
  else root.append(leaf(null, value));
  return root;
}

const isContainer = (v) => v !== null && typeof v === 'object' && Object.keys(v).length > 0;

function appendChildren(el, value, depth) {
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  const more = (from) => {
    const slice = entries.slice(from, from + CHUNK);
    for (const [k, v] of slice) el.insertBefore(node(k, v, depth), button);
    if (from + CHUNK >= entries.length) button.remove();
    else button.textContent = `Show ${Math.min(CHUNK, entries.length - from - CHUNK)} more of ${entries.length}`;
    next = from + CHUNK;
  };
  let next = 0;
  const button = h('button', { type: 'button', class: 'more' });
  button.addEventListener('click', () => more(next));
  el.append(button);
  more(0);
}

function node(key, value, depth) {
  if (!isContainer(value)) return leaf(key, value);
  const open = depth < OPEN_DEPTH;
  const children = h('div', { class: 'json-children' });
  const details = h('details', { class: 'json-node', open },
    h('summary', {}, keyLabel(key), h('span', { class: 'json-preview' }, jsonPreview(value))),
    children);
  let built = false;
  const build = () => {
    if (built || !details.open) return;
    built = true;
    appendChildren(children, value, depth + 1);
  };
  if (open) build();
  else details.addEventListener('toggle', build);
  return details;
}

function keyLabel(key) {
  if (key === null) return null;
  return h('span', { class: typeof key === 'number' ? 'json-key json-index' : 'json-key' }, String(key));
}

function leaf(key, value) {
  let shown;
  if (typeof value === 'string') {
    shown = longText(value, 'json-string', STRING_LIMIT, 'span');
  } else {
    const kind = value === null ? 'null' : typeof value === 'object' ? 'empty' : typeof value;
    const text = value === undefined ? '' : Array.isArray(value) ? '[]'
      : value !== null && typeof value === 'object' ? '{}' : String(value);
    shown = h('span', { class: `json-${kind}` }, text);
  }
  const block = typeof value === 'string' && (value.length > 60 || value.includes('\n'));
  return h('div', { class: block ? 'json-leaf block' : 'json-leaf' }, keyLabel(key), shown);
}
