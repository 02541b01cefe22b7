// The web view of `honeyhive serve`: routes, requests, live updates. The table of sessions is
// list.mjs's, a session's tree session.mjs's, an event's panel event.mjs's; the pure parts are
// model.mjs's (and chat.mjs's).
//
// Routes (the address's hash): `#/` the list, `#/sessions/<sid>` a session,
// `#/sessions/<sid>/events/<eid>` an event of it. After each render `body[data-view]` names
// the view (list, session, event; auth or error when it could not load) and `body[data-ready]`
// counts the renders.

import {
  buildTree, sortNewestFirst, upsertSession, formatStart, formatDuration, formatCount, parseRoute,
  sessionHref, eventHref,
} from './model.mjs';
import { h, fill } from './dom.mjs';
import { renderSessions, focusSessionRow, wireRows } from './list.mjs';
import { TreeView } from './session.mjs';
import { renderEvent, renderEventMessage } from './event.mjs';

const $ = (id) => document.getElementById(id);
const ui = {
  auth: $('auth-needed'), authDetail: $('auth-detail'), error: $('error'), loading: $('loading'),
  listView: $('list-view'), sessionView: $('session-view'),
  filter: $('filter'), errorsOnly: $('errors-only'), listCount: $('list-count'),
  sessionsBody: $('sessions-body'), listEmpty: $('list-empty'), showMore: $('show-more'),
  live: $('live-status'), pending: $('pending'), pause: $('pause'), note: $('server-note'),
  sessionTitle: $('session-title'), sessionMeta: $('session-meta'), summary: $('summary'),
  download: $('download'), layout: $('session-layout'), tree: $('tree'), event: $('event'),
};

/** How many sessions the list shows before "Show more". */
const LIST_PAGE = 500;
/** A changed session is fetched again this long after its last change. */
const REFRESH_DELAY = 300;
const RECONNECT_DELAY = 5000;

const state = {
  sessions: [],
  revision: 0,
  listLoaded: false,
  listLoading: null,
  filter: '',
  errorsOnly: false,
  limit: LIST_PAGE,
  paused: false,
  pending: new Map(),
  source: null,
  connected: false,
  everConnected: false,
  retry: 0,
  route: { view: 'list' },
  nav: 0,
  session: null, // {id, summary, tree}
  event: null, // {sessionId, eventId, text}
  refreshTimer: 0,
  refreshHeld: false,
  lastSession: null,
};
let renders = 0;

const tree = new TreeView(ui.tree, {
  onOpen: (id) => {
    if (state.session) go(eventHref(state.session.id, id));
  },
});

/** Tells whoever waits (the browser tests) that a view finished rendering. */
function ready(view) {
  document.body.dataset.view = view;
  renders += 1;
  document.body.dataset.ready = String(renders);
}

function go(hash) {
  if (location.hash === hash) navigate();
  else location.hash = hash;
}

/** Renders the view the address names; a failure shows instead of a blank page. */
function navigate() {
  route().catch((e) => {
    console.error(e);
    problem(e, 'The page failed');
  });
}

// ---------------------------------------------------------------------------------------------
// Requests

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function getJson(path) {
  let response;
  try {
    response = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  } catch (e) {
    throw new ApiError(0, `the server does not answer (${e.message || e})`);
  }
  if (!response.ok) {
    let message = '';
    try {
      const body = await response.json();
      if (body && typeof body.message === 'string') message = body.message;
    } catch {
      // Not JSON: the status says it.
    }
    throw new ApiError(response.status, message || `${response.status} ${response.statusText}`.trim());
  }
  try {
    return await response.json();
  } catch {
    throw new ApiError(response.status, 'the server answered with something that is not JSON');
  }
}

const api = {
  sessions: () => getJson('/api/sessions'),
  session: (sid) => getJson(`/api/sessions/${encodeURIComponent(sid)}`),
  event: (sid, eid) => getJson(`/api/sessions/${encodeURIComponent(sid)}/events/${encodeURIComponent(eid)}`),
  exportUrl: (sid) => `/api/sessions/${encodeURIComponent(sid)}/export`,
};

// ---------------------------------------------------------------------------------------------
// Views and problems

function show(view) {
  ui.listView.hidden = view !== 'list';
  ui.sessionView.hidden = view !== 'session';
  ui.loading.hidden = view !== 'loading';
}

function clearProblems() {
  ui.auth.hidden = true;
  ui.error.hidden = true;
}

/** Shows why a view could not load instead of the view. */
function problem(err, what) {
  show('none');
  if (err instanceof ApiError && err.status === 401) {
    ui.authDetail.textContent = err.message;
    ui.auth.hidden = false;
    ready('auth');
    return;
  }
  const text = err instanceof Error ? err.message : String(err);
  fill(ui.error, h('p', {}, h('strong', {}, `${what}: `), text),
    h('p', {}, h('a', { href: '#/' }, 'All sessions'), ' · ',
      h('button', { type: 'button', class: 'link', onclick: navigate }, 'Try again')));
  ui.error.hidden = false;
  ready('error');
}

async function route() {
  const r = parseRoute(location.hash);
  const previous = state.route;
  state.route = r;
  const nav = ++state.nav;
  const current = () => nav === state.nav;
  clearProblems();
  if (r.view === 'list') {
    document.title = 'Sessions · HoneyHive local';
    if (!state.listLoaded) {
      show('loading');
      try {
        await loadList();
      } catch (e) {
        if (current()) problem(e, 'The sessions could not be loaded');
        return;
      }
      if (!current()) return;
    }
    show('list');
    renderList();
    if (previous.view !== 'list' && state.lastSession) focusSessionRow(ui.sessionsBody, state.lastSession);
    ready('list');
    return;
  }
  const sid = r.sessionId;
  // Fetched when it is another session, or again when coming back from the list with news.
  const fresh = !state.session || state.session.id !== sid;
  const listed = state.sessions.find((s) => s.session_id === sid);
  const stale = !fresh && previous.view === 'list' && listed
    && Number(listed.revision) > Number(state.session.summary.revision);
  if (fresh || stale) {
    show('loading');
    closeEvent();
    let data;
    try {
      data = await api.session(sid);
    } catch (e) {
      if (current()) problem(e, `Session ${sid} could not be loaded`);
      return;
    }
    if (!current()) return;
    show('session'); // first, so that the tree measures itself
    setSession(sid, data, fresh);
  }
  show('session');
  state.lastSession = sid;
  if (r.view === 'session') {
    closeEvent();
    tree.setSelected(null);
    if (fresh || previous.view === 'list') tree.focus();
    document.title = `${state.session.summary.name || sid} · HoneyHive local`;
    ready('session');
    return;
  }
  tree.setSelected(r.eventId);
  if (fresh) tree.focus();
  if ((await openEvent(sid, r.eventId, current)) && current()) ready('event');
}

// ---------------------------------------------------------------------------------------------
// The list of sessions

function loadList() {
  if (!state.listLoading) {
    state.listLoading = api.sessions().then((body) => {
      const list = body && Array.isArray(body.sessions) ? body.sessions : [];
      // Live updates may have come before the list: they are as new or newer.
      let sessions = sortNewestFirst(list);
      for (const s of state.sessions) sessions = upsertSession(sessions, s);
      state.sessions = sessions;
      state.revision = Math.max(state.revision, Number(body && body.revision) || 0);
      if (body && typeof body.note === 'string' && body.note.trim()) ui.note.textContent = body.note;
      state.listLoaded = true;
      startLive();
    }).finally(() => {
      state.listLoading = null;
    });
  }
  return state.listLoading;
}

function renderList() {
  renderSessions(ui, {
    sessions: state.sessions, filter: state.filter, errorsOnly: state.errorsOnly,
    limit: state.limit, page: LIST_PAGE,
  });
}

let listFrame = 0;
function scheduleList() {
  if (listFrame) return;
  listFrame = requestAnimationFrame(() => {
    listFrame = 0;
    if (state.route.view === 'list' && state.listLoaded && ui.error.hidden && ui.auth.hidden) {
      renderList();
      ready('list');
    }
  });
}

wireRows(ui.sessionsBody, (id) => go(sessionHref(id)));
ui.filter.addEventListener('input', () => {
  state.filter = ui.filter.value;
  state.limit = LIST_PAGE;
  scheduleList();
});
ui.errorsOnly.addEventListener('change', () => {
  state.errorsOnly = ui.errorsOnly.checked;
  state.limit = LIST_PAGE;
  scheduleList();
});
ui.showMore.addEventListener('click', () => {
  state.limit += LIST_PAGE;
  scheduleList();
});

// ---------------------------------------------------------------------------------------------
// A session and its event

function setSession(sid, data, reset) {
  const summary = data && typeof data.session === 'object' && data.session ? data.session : {};
  const rows = data && Array.isArray(data.events) ? data.events : [];
  const built = buildTree(sid, summary, rows);
  state.session = { id: sid, summary, tree: built };
  ui.sessionTitle.textContent = summary.name || sid;
  const meta = [];
  if (summary.source) meta.push(summary.source);
  if (typeof summary.start_time === 'number') meta.push(`started ${formatStart(summary.start_time, Date.now())}`);
  meta.push(sid);
  ui.sessionMeta.textContent = meta.join(' · ');
  const errors = Number(summary.errors) || 0;
  const events = typeof summary.events === 'number' ? summary.events : rows.length;
  // "10,000 events", "1 error": the number first, strong.
  const count = (n, one, many, cls) => {
    const value = Number(n) || 0;
    return h('span', { class: cls || null }, h('strong', {}, formatCount(value)), ' ', value === 1 ? one : many);
  };
  fill(ui.summary,
    h('span', {}, 'Duration ', h('strong', {},
      formatDuration(summary.duration ?? (built.t1 !== null ? built.t1 - built.t0 : null)))),
    count(events, 'event', 'events'),
    count(summary.model_events, 'model call', 'model calls'),
    count(summary.tokens, 'token', 'tokens'),
    errors > 0 ? h('span', { class: 'errors nonzero' }, '⚠ ', count(errors, 'error', 'errors'))
      : count(0, 'error', 'errors', 'errors'),
    summary.error ? h('span', { class: 'session-error' }, `Session error: ${summary.error}`) : null);
  ui.download.href = api.exportUrl(sid);
  ui.download.setAttribute('download', `session-${sid.replace(/[^\w.-]+/g, '_')}.json`);
  tree.setTree(built, { reset });
}

function closeEvent() {
  state.event = null;
  ui.event.hidden = true;
  ui.event.replaceChildren();
  ui.layout.classList.remove('with-event');
}

/** Shows the event `eid` of `sid` in the panel; `current()` says whether the page still wants
 *  it. False when the page shows a problem instead. */
async function openEvent(sid, eid, current) {
  const closeHref = sessionHref(sid);
  const same = state.event && state.event.sessionId === sid && state.event.eventId === eid;
  ui.event.hidden = false;
  ui.layout.classList.add('with-event');
  if (!same) renderEventMessage(ui.event, 'Loading the event…', { closeHref });
  let record;
  try {
    record = await api.event(sid, eid);
  } catch (e) {
    if (!current()) return;
    if (e instanceof ApiError && e.status === 401) {
      problem(e, 'The event could not be loaded');
      return false;
    }
    state.event = null;
    renderEventMessage(ui.event, `The event could not be loaded: ${e.message}`, { closeHref, isError: true });
    return true;
  }
  if (!current()) return true;
  const text = JSON.stringify(record);
  if (same && state.event.text === text) return true;
  const scroll = ui.event.scrollTop;
  state.event = { sessionId: sid, eventId: eid, text };
  renderEvent(ui.event, record, { closeHref });
  document.title = `${record && record.event_name ? record.event_name : eid} · HoneyHive local`;
  if (same) ui.event.scrollTop = scroll;
  return true;
}

ui.event.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && state.session) {
    e.preventDefault();
    go(sessionHref(state.session.id));
    tree.focus();
  }
});

/** The open session changed: fetch it again (once changes stop for a moment), keeping the
 *  scroll, what is collapsed and the open event. */
function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(refreshSession, REFRESH_DELAY);
}

async function refreshSession() {
  const s = state.session;
  if (!s) return;
  if (state.paused) {
    state.refreshHeld = true;
    return;
  }
  const nav = state.nav;
  const current = () => nav === state.nav && state.session && state.session.id === s.id;
  let data;
  try {
    data = await api.session(s.id);
  } catch (e) {
    if (current() && e instanceof ApiError && e.status === 401) problem(e, 'The session could not be loaded');
    return; // Otherwise keep what is shown; the next change tries again.
  }
  if (!current()) return;
  setSession(s.id, data, false);
  const r = state.route;
  if (r.view === 'event' && r.sessionId === s.id) {
    tree.setSelected(r.eventId);
    if (!(await openEvent(s.id, r.eventId, current))) return;
  }
  if (current() && (r.view === 'session' || r.view === 'event')) ready(r.view);
}

// ---------------------------------------------------------------------------------------------
// Live updates

function startLive() {
  if (typeof EventSource !== 'function') {
    setLiveStatus('disconnected (this browser has no live updates)');
    return;
  }
  if (state.source) state.source.close();
  clearTimeout(state.retry);
  const source = new EventSource(`/api/live?since=${encodeURIComponent(state.revision)}`);
  state.source = source;
  source.onopen = () => {
    state.connected = true;
    state.everConnected = true;
    setLiveStatus();
  };
  source.onerror = () => {
    state.connected = false;
    setLiveStatus();
    // A refused stream (an answer other than 200) is not retried by the browser: retry here.
    if (source.readyState === EventSource.CLOSED && state.source === source) {
      state.retry = setTimeout(startLive, RECONNECT_DELAY);
    }
  };
  source.addEventListener('session', (message) => {
    let summary;
    try {
      summary = JSON.parse(message.data);
    } catch {
      return;
    }
    if (!summary || typeof summary.session_id !== 'string') return;
    // A summary sent again (the stream reconnected) is no news.
    const known = state.sessions.find((s) => s.session_id === summary.session_id);
    if (known && Number(known.revision) >= Number(summary.revision)) return;
    if (state.paused) {
      state.pending.set(summary.session_id, summary);
      setLiveStatus();
    } else {
      apply(summary);
    }
  });
}

function apply(summary) {
  state.sessions = upsertSession(state.sessions, summary);
  const revision = Number(summary.revision);
  if (Number.isFinite(revision)) state.revision = Math.max(state.revision, revision);
  scheduleList();
  if (state.session && state.session.id === summary.session_id) scheduleRefresh();
}

function setLiveStatus(override) {
  let text;
  let kind;
  if (override) {
    text = override;
    kind = 'disconnected';
  } else if (state.source && !state.connected) {
    text = state.source.readyState === EventSource.CONNECTING && !state.everConnected
      ? 'connecting…' : 'disconnected (retrying)';
    kind = text === 'connecting…' ? 'connecting' : 'disconnected';
  } else if (state.paused) {
    text = 'paused';
    kind = 'paused';
  } else {
    text = 'live';
    kind = 'live';
  }
  ui.live.textContent = text;
  ui.live.dataset.state = kind;
  const waiting = state.pending.size;
  ui.pending.hidden = !state.paused || waiting === 0;
  ui.pending.textContent = `${formatCount(waiting)} new`;
  ui.pause.textContent = state.paused ? (waiting ? `Resume (${formatCount(waiting)} new)` : 'Resume') : 'Pause';
}

ui.pause.addEventListener('click', () => {
  state.paused = !state.paused;
  if (!state.paused) {
    const held = [...state.pending.values()];
    state.pending.clear();
    for (const summary of held) apply(summary);
    if (state.refreshHeld) {
      state.refreshHeld = false;
      scheduleRefresh();
    }
  }
  setLiveStatus();
});

// ---------------------------------------------------------------------------------------------
// Start

window.addEventListener('hashchange', navigate);
navigate();
// The list's revision starts the live stream, whatever the first view.
loadList().catch(() => {
  // The list view shows why when it is opened; a session view still works without live updates.
  setLiveStatus('disconnected (the list could not be loaded)');
});
