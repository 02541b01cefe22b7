// The table of sessions: one row per session (`tr[data-session-id]`), focusable, opened by a
// click or Enter; arrows move between rows.

import { filterSessions, formatStart, formatDuration, formatCount, sessionHref } from './model.mjs';
import { h, fill } from './dom.mjs';

/**
 * Renders `sessions` (newest first) into the list's elements, filtered by `filter` and
 * `errorsOnly`, at most `limit` rows (a "Show more" button adds `page` more). The row that had
 * the focus keeps it.
 */
export function renderSessions(ui, { sessions, filter, errorsOnly, limit, page }) {
  const now = Date.now();
  const shown = filterSessions(sessions, filter, errorsOnly);
  const active = document.activeElement;
  const focused = active && active.closest ? active.closest('tr[data-session-id]') : null;
  ui.sessionsBody.replaceChildren(...shown.slice(0, limit).map((s) => sessionRow(s, now)));
  const total = sessions.length;
  ui.listCount.textContent = total === 0 ? ''
    : shown.length === total ? `${formatCount(total)} ${total === 1 ? 'session' : 'sessions'}`
      : `${formatCount(shown.length)} of ${formatCount(total)} sessions`;
  ui.listEmpty.hidden = shown.length > 0;
  ui.sessionsBody.closest('.table-wrap').hidden = shown.length === 0;
  if (total === 0) {
    fill(ui.listEmpty, 'No sessions yet. Point an app at the address ', h('code', {}, 'honeyhive serve'),
      ' printed at start: its sessions show here as they arrive.');
  } else {
    ui.listEmpty.textContent = 'No session matches the filter.';
  }
  ui.showMore.hidden = shown.length <= limit;
  ui.showMore.textContent = `Show ${formatCount(Math.min(page, shown.length - limit))} more`;
  if (focused) focusSessionRow(ui.sessionsBody, focused.dataset.sessionId);
}

function sessionRow(s, now) {
  const id = s.session_id;
  const errors = Number(s.errors) || 0;
  const name = typeof s.name === 'string' && s.name ? s.name : '(unnamed)';
  const start = typeof s.start_time === 'number' ? new Date(s.start_time) : null;
  return h('tr', { 'data-session-id': id, tabindex: '0', class: errors > 0 ? 'has-errors' : null },
    h('td', { class: 'col-name' },
      h('a', { href: sessionHref(id), tabindex: '-1' }, name),
      h('span', { class: 'sid mono', title: id }, id.length > 13 ? `${id.slice(0, 8)}…` : id)),
    h('td', { class: 'col-source' }, typeof s.source === 'string' ? s.source : ''),
    h('td', { class: 'col-start', title: start && !Number.isNaN(start.getTime()) ? start.toString() : null },
      formatStart(s.start_time, now)),
    h('td', { class: 'num col-duration' }, formatDuration(s.duration)),
    h('td', { class: 'num col-events' }, formatCount(s.events)),
    h('td', { class: 'num col-model' }, formatCount(s.model_events)),
    h('td', { class: 'num col-tokens' }, formatCount(s.tokens)),
    h('td', { class: 'num col-errors' }, errors > 0 ? `⚠ ${formatCount(errors)}` : '0'));
}

/** Focuses the row of session `id`, if shown. */
export function focusSessionRow(tbody, id) {
  for (const tr of tbody.rows) {
    if (tr.dataset.sessionId === id) {
      tr.focus();
      return;
    }
  }
}

/** Opens a row's session on a click (outside its link, which goes there itself) or Enter;
 *  arrows move between rows. */
export function wireRows(tbody, open) {
  tbody.addEventListener('click', (e) => {
    if (e.target.closest('a')) return;
    const tr = e.target.closest('tr[data-session-id]');
    if (tr) open(tr.dataset.sessionId);
  });
  tbody.addEventListener('keydown', (e) => {
    const tr = e.target.closest('tr[data-session-id]');
    if (!tr || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      open(tr.dataset.sessionId);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = e.key === 'ArrowDown' ? tr.nextElementSibling : tr.previousElementSibling;
      if (next) next.focus();
    }
  });
}
