// The web view's pure functions: no DOM, no network. Tested by `node --test tests/web/`.
//
// Everything here takes data the server sent (or the browser's address) and may be handed
// anything: a value of the wrong type gives an empty or neutral answer, never an exception.

/** The event types that have a colour of their own; any other shows as `other`. */
export const KNOWN_TYPES = Object.freeze(['session', 'chain', 'model', 'tool']);

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const text = (v) => (typeof v === 'string' ? v : null);
const finite = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The class suffix and badge of an event type: one of KNOWN_TYPES, else `other`. */
export function typeClass(type) {
  const t = typeof type === 'string' ? type.trim().toLowerCase() : '';
  return KNOWN_TYPES.includes(t) ? t : 'other';
}

// ---------------------------------------------------------------------------------------------
// The tree of a session's events

/**
 * The session as a tree: the root is the session, every row of `rows` a node below it exactly
 * once. A row whose parent is missing, unknown, the session, itself, or on a cycle hangs under
 * the root (a cycle is cut at its earliest-arrived member). Children are sorted by start, rows
 * without a start after the others, arrival order otherwise. A row without a start takes its
 * parent's; a row without an end ends where it starts.
 *
 * Returns `{root, byId, count, t0, t1}`: `byId` maps each id to its node, `count` is the number
 * of nodes with the root, `t0`/`t1` the span of all times (null when nothing has a time). Each
 * node is `{id, name, type, error, start, end, rawStart, rawEnd, parent, children, depth}`.
 */
export function buildTree(sessionId, sessionSummary, rows) {
  const sid = sessionId == null ? '' : String(sessionId);
  const summary = isObject(sessionSummary) ? sessionSummary : {};
  const sStart = finite(summary.start_time);
  let sEnd = finite(summary.end_time);
  if (sEnd === null && sStart !== null && finite(summary.duration) !== null) {
    sEnd = sStart + summary.duration;
  }
  const root = node(sid, text(summary.name) || sid, 'session', sStart, sEnd,
    typeof summary.error === 'string' && summary.error.trim() !== '');
  root.synthetic = false;
  const byId = new Map([[sid, root]]);
  const nodes = [];
  const list = Array.isArray(rows) ? rows : [];
  for (let i = 0; i < list.length; i++) {
    const row = list[i];
    if (!isObject(row)) continue;
    const raw = typeof row.id === 'number' ? String(row.id) : text(row.id);
    const id = raw ? raw : `#${i}`;
    if (id === sid) continue; // the session itself: it is the root already
    const fields = [id, text(row.name) || '', typeof row.type === 'string' ? row.type : 'other',
      finite(row.start), finite(row.end), row.error === true];
    const seen = byId.get(id);
    if (seen) {
      // The same event twice: one node, the later row's fields.
      Object.assign(seen, node(...fields), { children: [], order: seen.order });
      seen.parentId = text(row.parent);
      continue;
    }
    const n = node(...fields);
    n.synthetic = !raw;
    n.parentId = text(row.parent);
    n.order = nodes.length;
    nodes.push(n);
    byId.set(id, n);
  }
  for (const n of nodes) {
    const p = n.parentId;
    n.parent = p && p !== n.id && p !== sid && byId.has(p) ? byId.get(p) : root;
  }
  breakCycles(nodes, root);
  for (const n of nodes) n.parent.children.push(n);
  const byStart = (a, b) => {
    if (a.rawStart === null) return b.rawStart === null ? 0 : 1;
    if (b.rawStart === null) return -1;
    return a.rawStart - b.rawStart;
  };
  // Times, depths and sorted children, top down without recursion (a chain may be deep).
  let t0 = null;
  let t1 = null;
  if (root.rawStart === null) {
    for (const n of nodes) if (n.rawStart !== null && (t0 === null || n.rawStart < t0)) t0 = n.rawStart;
    root.start = t0;
  }
  if (root.end === null) root.end = root.start;
  t0 = root.start;
  t1 = root.end;
  const stack = [root];
  while (stack.length) {
    const n = stack.pop();
    if (n !== root) {
      n.depth = n.parent.depth + 1;
      n.start = n.rawStart ?? n.parent.start;
      n.end = n.rawEnd ?? n.start;
    }
    if (n.start !== null && (t0 === null || n.start < t0)) t0 = n.start;
    if (n.end !== null && (t1 === null || n.end > t1)) t1 = n.end;
    if (n.start !== null && (t1 === null || n.start > t1)) t1 = n.start;
    if (n.children.length > 1) n.children.sort(byStart);
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]);
  }
  // A session without an end of its own lasts until its last event ends.
  if (root.rawEnd === null && t1 !== null && root.start !== null) root.end = t1;
  return { root, byId, count: nodes.length + 1, t0, t1: t0 === null ? null : t1 };
}

function node(id, name, type, start, end, error) {
  return {
    id, name, type, error, rawStart: start, rawEnd: end, start, end,
    parent: null, children: [], depth: 0,
  };
}

/** Cuts every parent cycle among `nodes` (each has `parent` and `order`): the member of a cycle
 *  that arrived first is moved under `root`. Linear: each node is walked once. */
function breakCycles(nodes, root) {
  const state = new Uint8Array(nodes.length); // 0 unseen, 1 on the current walk, 2 reaches root
  for (const start of nodes) {
    if (state[start.order] !== 0) continue;
    const path = [];
    let n = start;
    while (n !== root && state[n.order] === 0) {
      state[n.order] = 1;
      path.push(n);
      n = n.parent;
    }
    if (n !== root && state[n.order] === 1) {
      const from = path.indexOf(n);
      let first = path[from];
      for (let i = from + 1; i < path.length; i++) if (path[i].order < first.order) first = path[i];
      first.parent = root;
    }
    for (const p of path) state[p.order] = 2;
  }
}

/**
 * The visible rows of `tree` in pre-order: `[{id, node, depth, hasChildren, collapsed}]`. The
 * children of a node whose id is in `collapsed` (a Set) are not shown.
 */
export function flatten(tree, collapsed) {
  const out = [];
  if (!tree || !tree.root) return out;
  const closed = collapsed instanceof Set ? collapsed : new Set();
  const stack = [tree.root];
  while (stack.length) {
    const n = stack.pop();
    const hasChildren = n.children.length > 0;
    const isClosed = hasChildren && closed.has(n.id);
    out.push({ id: n.id, node: n, depth: n.depth, hasChildren, collapsed: isClosed });
    if (hasChildren && !isClosed) {
      for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]);
    }
  }
  return out;
}

/** The ids of the ancestors of `id`, the root first; [] for the root or an unknown id. */
export function ancestorsOf(tree, id) {
  const n = tree && tree.byId ? tree.byId.get(id) : undefined;
  const out = [];
  for (let p = n ? n.parent : null; p; p = p.parent) out.push(p.id);
  return out.reverse();
}

// ---------------------------------------------------------------------------------------------
// Times

/**
 * Tick offsets (ms from the start) for an axis `spanMs` long: multiples of a 1-2-5 step, at
 * most `maxTicks` intervals, from 0 to the span. `[0]` for a span that is zero, negative or
 * not a number.
 */
export function niceTicks(spanMs, maxTicks = 6) {
  if (typeof spanMs !== 'number' || !(spanMs > 0) || !Number.isFinite(spanMs)) return [0];
  const intervals = Math.max(1, Math.floor(Number(maxTicks)) || 1);
  const raw = spanMs / intervals;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
  const ticks = [];
  for (let i = 0; i * step <= spanMs * (1 + 1e-9); i++) {
    ticks.push(Number((i * step).toPrecision(12)));
  }
  return ticks;
}

/** A duration in ms for people: `850 µs`, `12 ms`, `1.24 s`, `2 m 05 s`, `3 h 07 m`; `–` for
 *  null or not a number. */
export function formatDuration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '–';
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms === 0) return '0 ms';
  if (ms < 0.001) return `${Math.max(1, Math.round(ms * 1e6))} ns`;
  if (ms < 1) {
    const us = Math.round(ms * 1000);
    if (us < 1000) return `${us} µs`;
  }
  if (ms < 10 && Number(ms.toFixed(1)) < 10) return `${trimZero(ms.toFixed(1))} ms`;
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 10 && s.toFixed(2) !== '10.00') return `${s.toFixed(2)} s`;
  if (s < 60 && s.toFixed(1) !== '60.0') return `${s.toFixed(1)} s`;
  const total = Math.round(s);
  if (total < 3600) return `${Math.floor(total / 60)} m ${pad2(total % 60)} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 24 * 60) return `${Math.floor(minutes / 60)} h ${pad2(minutes % 60)} m`;
  const hours = Math.round(s / 3600);
  return `${Math.floor(hours / 24)} d ${pad2(hours % 24)} h`;
}

/** A tick of the time axis: a duration without trailing zeros (`1 s`, `2.5 s`), `0` at the
 *  start. */
export function formatTick(ms) {
  if (ms === 0) return '0';
  return formatDuration(ms).replace(/(\.\d*?)0+ /, '$1 ').replace('. ', ' ');
}

const pad2 = (n) => String(n).padStart(2, '0');
const trimZero = (s) => (s.endsWith('.0') ? s.slice(0, -2) : s);

/**
 * Where a bar from `start` to `end` sits on an axis from `t0` lasting `span`, in percent:
 * `{left, width}`, inside 0..100, at least `minWidth` wide so that an instant still shows.
 */
export function barGeometry(start, end, t0, span, minWidth = 0.4) {
  const min = Math.min(100, Math.max(0, finite(minWidth) ?? 0));
  const s = finite(start);
  const base = finite(t0);
  if (s === null || base === null) return { left: 0, width: min };
  const e = Math.max(s, finite(end) ?? s);
  const total = finite(span);
  if (total === null || total <= 0) return { left: 0, width: min };
  const clamp = (v) => Math.min(100, Math.max(0, v));
  let left = clamp(((s - base) / total) * 100);
  const right = clamp(((e - base) / total) * 100);
  const width = Math.max(min, right - left);
  if (left + width > 100) left = 100 - width;
  return { left, width };
}

/** The duration of an event record in ms: end − start, else its `duration`, else null. */
export function eventDuration(record) {
  if (!isObject(record)) return null;
  const s = finite(record.start_time);
  const e = finite(record.end_time);
  if (s !== null && e !== null) return e - s;
  return finite(record.duration);
}

/** A count with thousands separators (`12,345`); `–` when not a number. */
export function formatCount(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  const sign = n < 0 ? '-' : '';
  const [whole, frac] = String(Math.abs(Math.round(n * 100) / 100)).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return sign + grouped + (frac ? `.${frac}` : '');
}

/**
 * When a session started, in local time: `14:03:07` on the day of `now`, else with the date
 * (`2024-05-01 14:03:07`). `–` when unknown.
 */
export function formatStart(ms, now = Date.now()) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '–';
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '–';
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  const today = new Date(typeof now === 'number' ? now : Date.now());
  const sameDay = d.getFullYear() === today.getFullYear() && d.getMonth() === today.getMonth()
    && d.getDate() === today.getDate();
  if (sameDay) return time;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${time}`;
}

// ---------------------------------------------------------------------------------------------
// The list of sessions

/** The sessions whose name, source or id contains `query` (any case); with `errorsOnly`, only
 *  those with an error. */
export function filterSessions(sessions, query, errorsOnly) {
  const list = Array.isArray(sessions) ? sessions.filter(isObject) : [];
  const q = typeof query === 'string' ? query.trim().toLowerCase() : '';
  return list.filter((s) => {
    if (errorsOnly && !(Number(s.errors) > 0 || (typeof s.error === 'string' && s.error))) {
      return false;
    }
    if (!q) return true;
    return [s.name, s.source, s.session_id]
      .some((field) => typeof field === 'string' && field.toLowerCase().includes(q));
  });
}

/** A copy of `sessions`, the latest start first, sessions without a start last; ties keep their
 *  order. */
export function sortNewestFirst(sessions) {
  const list = Array.isArray(sessions) ? sessions.slice() : [];
  const start = (s) => (isObject(s) ? finite(s.start_time) : null);
  return list.sort((a, b) => {
    const x = start(a);
    const y = start(b);
    if (x === null) return y === null ? 0 : 1;
    if (y === null) return -1;
    return y - x;
  });
}

/**
 * `list` with `summary` in it: it replaces the session of the same id (unless that one has a
 * later revision: a resent, older summary), or joins as the newest of its start time. A new
 * array when something changed, `list` itself otherwise.
 */
export function upsertSession(list, summary) {
  const sessions = Array.isArray(list) ? list : [];
  if (!isObject(summary) || typeof summary.session_id !== 'string') return sessions;
  const at = sessions.findIndex((s) => isObject(s) && s.session_id === summary.session_id);
  const next = sessions.slice();
  if (at >= 0) {
    const old = finite(sessions[at].revision);
    const rev = finite(summary.revision);
    if (old !== null && rev !== null && old > rev) return sessions;
    next[at] = summary;
  } else {
    next.unshift(summary);
  }
  return sortNewestFirst(next);
}

// ---------------------------------------------------------------------------------------------
// Routes and windows

/**
 * The view the address's hash names: `#/` → list, `#/sessions/<sid>` → a session,
 * `#/sessions/<sid>/events/<eid>` → an event of it. Ids are URL-decoded; anything else is the
 * list.
 */
export function parseRoute(hash) {
  let h = typeof hash === 'string' ? hash : '';
  if (h.startsWith('#')) h = h.slice(1);
  if (h.startsWith('/')) h = h.slice(1);
  if (h.endsWith('/')) h = h.slice(0, -1);
  const parts = h.split('/');
  const decode = (s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  if (parts[0] !== 'sessions' || !parts[1]) return { view: 'list' };
  const sessionId = decode(parts[1]);
  if (parts.length === 2) return { view: 'session', sessionId };
  if (parts.length === 4 && parts[2] === 'events' && parts[3]) {
    return { view: 'event', sessionId, eventId: decode(parts[3]) };
  }
  return { view: 'list' };
}

/** The hash of a session's page. */
export const sessionHref = (sid) => `#/sessions/${encodeURIComponent(sid)}`;
/** The hash of an event's page. */
export const eventHref = (sid, eid) => `${sessionHref(sid)}/events/${encodeURIComponent(eid)}`;

/**
 * The rows to render of a list of `total` rows `rowHeight` high, scrolled to `scrollTop` in a
 * viewport `viewportHeight` high, with `overscan` more on each side: `{start, end}`, end
 * excluded, always inside 0..total.
 */
export function windowRange(scrollTop, viewportHeight, rowHeight, total, overscan = 8) {
  const n = Math.max(0, Math.floor(finite(total) ?? 0));
  if (n === 0) return { start: 0, end: 0 };
  const h = finite(rowHeight) > 0 ? rowHeight : 1;
  const extra = Math.max(0, Math.floor(finite(overscan) ?? 0));
  const top = Math.max(0, finite(scrollTop) ?? 0);
  const first = Math.min(Math.floor(top / h), n - 1);
  const visible = Math.ceil(Math.max(0, finite(viewportHeight) ?? 0) / h) + 1;
  const start = Math.max(0, first - extra);
  const end = Math.min(n, first + visible + extra);
  return { start, end };
}

// ---------------------------------------------------------------------------------------------
// JSON

/** A short one-line preview of a JSON value, for a collapsed node: `{a, b, …}`, `[3 items]`,
 *  `"text…"`. */
export function jsonPreview(value, max = 60) {
  if (value === undefined) return '';
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') {
    const short = value.length > max ? `${value.slice(0, max)}…` : value;
    return JSON.stringify(short);
  }
  if (Array.isArray(value)) {
    return value.length === 0 ? '[]' : `[${value.length} ${value.length === 1 ? 'item' : 'items'}]`;
  }
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) return '{}';
    let out = '';
    for (const k of keys) {
      const next = out ? `${out}, ${k}` : k;
      if (next.length > max) return `{${out || k.slice(0, max)}, …}`;
      out = next;
    }
    return `{${out}}`;
  }
  return String(value);
}

/** Whether a section of an event has nothing to show: null, `{}`, `[]` or blank text. */
export function isEmptyValue(value) {
  if (value === null || value === undefined) return true;
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.length === 0;
  if (isObject(value)) return Object.keys(value).length === 0;
  return false;
}

/** `value` parsed when it is JSON text of an object or array, else undefined. */
export function parseJsonText(value) {
  if (typeof value !== 'string') return undefined;
  const t = value.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

export { chatMessages } from './chat.mjs';
