// A session's tree of events beside the waterfall of their times, windowed: only the rows in
// view are in the DOM (fixed row height, a spacer as tall as every row), so a session of
// 100,000 events opens and scrolls as fast as one of ten.

import {
  flatten, ancestorsOf, windowRange, barGeometry, niceTicks, formatDuration, formatTick, typeClass,
} from './model.mjs';
import { h } from './dom.mjs';

/** Pixels per row; the stylesheet reads it from `--row-h`. */
export const ROW_HEIGHT = 28;
const INDENT = 16;
/** Deeper rows stop moving right and say how deep they are. */
const MAX_INDENT = 24;
const OVERSCAN = 12;

export class TreeView {
  /**
   * `scroller`: the element that scrolls (`#tree`). `onOpen(id)`: a row was clicked or Enter
   * was pressed on it.
   */
  constructor(scroller, { onOpen }) {
    this.scroller = scroller;
    this.onOpen = onOpen;
    this.axis = h('div', { class: 'axis' });
    this.head = h('div', { class: 'tree-head', 'aria-hidden': 'true' },
      h('div', { class: 'col-name' }, 'Event'), this.axis);
    this.layer = h('div', { class: 'tree-rows', role: 'presentation' });
    this.spacer = h('div', { class: 'tree-spacer', role: 'presentation' }, this.layer);
    scroller.replaceChildren(this.head, this.spacer);
    scroller.style.setProperty('--row-h', `${ROW_HEIGHT}px`);
    scroller.tabIndex = -1;
    this.tree = null;
    this.rows = [];
    this.index = new Map();
    this.collapsed = new Set();
    this.selectedId = null;
    this.focusId = null;
    this.ticks = [0];
    this.range = { start: -1, end: -1 };
    this.frame = 0;
    scroller.addEventListener('scroll', () => this.schedule());
    scroller.addEventListener('click', (e) => this.click(e));
    scroller.addEventListener('keydown', (e) => this.key(e));
    scroller.addEventListener('focusin', (e) => {
      const row = e.target.closest && e.target.closest('.row');
      if (row) this.focusId = row.dataset.eventId;
    });
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver(() => {
        this.drawAxis();
        this.render(true);
      }).observe(scroller);
    }
  }

  /** Shows `tree` (from buildTree). `reset`: a new session, so scroll to the top with every row
   *  open; else (the same session again) keep what is collapsed, the scroll and the focus. */
  setTree(tree, { reset }) {
    this.tree = tree;
    if (reset) {
      this.collapsed = new Set();
      this.selectedId = null;
      this.focusId = tree.root.id;
      this.scroller.scrollTop = 0;
    }
    this.reflow();
    this.drawAxis();
    this.render(true);
  }

  /** Marks the row of `id` selected (null: none), opening its ancestors and scrolling it into
   *  view. */
  setSelected(id) {
    this.selectedId = id;
    if (id !== null && this.tree && this.tree.byId.has(id) && !this.index.has(id)) {
      for (const a of ancestorsOf(this.tree, id)) this.collapsed.delete(a);
      this.reflow();
    }
    if (id !== null && this.index.has(id)) {
      this.focusId = id;
      this.reveal(this.index.get(id), true);
    }
    this.render(true);
  }

  /** Puts the keyboard focus on the focused row (the session's at first). */
  focus() {
    const i = this.index.get(this.focusId) ?? 0;
    if (this.rows.length) this.moveTo(i);
  }

  reflow() {
    this.rows = flatten(this.tree, this.collapsed);
    this.index = new Map();
    for (let i = 0; i < this.rows.length; i++) this.index.set(this.rows[i].id, i);
    this.spacer.style.height = `${this.rows.length * ROW_HEIGHT}px`;
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render(false);
    });
  }

  /** The height of rows in view, under the sticky axis. */
  viewHeight() {
    return Math.max(ROW_HEIGHT, this.scroller.clientHeight - this.head.offsetHeight);
  }

  /** Renders the rows in view; `force` even when the same rows are in view. */
  render(force) {
    if (!this.tree) return;
    const { start, end } = windowRange(this.scroller.scrollTop, this.viewHeight(), ROW_HEIGHT,
      this.rows.length, OVERSCAN);
    if (!force && start === this.range.start && end === this.range.end) return;
    this.range = { start, end };
    const active = document.activeElement;
    const hadFocus = active === this.scroller || (active && active.classList && active.classList.contains('row')
      && this.scroller.contains(active));
    const tabbable = this.index.has(this.focusId) && this.index.get(this.focusId) >= start
      && this.index.get(this.focusId) < end ? this.focusId : this.rows[start] && this.rows[start].id;
    const frag = document.createDocumentFragment();
    frag.append(this.grid(start, end));
    for (let i = start; i < end; i++) frag.append(this.row(this.rows[i], i, tabbable));
    this.layer.replaceChildren(frag);
    if (hadFocus) {
      const el = this.rowElement(this.focusId);
      if (el) el.focus({ preventScroll: true });
      else if (active !== this.scroller) this.scroller.focus({ preventScroll: true });
    }
  }

  rowElement(id) {
    for (const el of this.layer.children) if (el.dataset.eventId === id) return el;
    return null;
  }

  /** The grid lines of the axis's ticks behind the rows in view. */
  grid(start, end) {
    const grid = h('div', { class: 'grid', 'aria-hidden': 'true' });
    grid.style.top = `${start * ROW_HEIGHT}px`;
    grid.style.height = `${(end - start) * ROW_HEIGHT}px`;
    const span = this.span();
    if (span > 0) {
      for (const t of this.ticks) {
        const line = h('span', { class: 'grid-line' });
        line.style.left = `${(t / span) * 100}%`;
        grid.append(line);
      }
    }
    return grid;
  }

  span() {
    const { t0, t1 } = this.tree || {};
    return t0 === null || t1 === null || t0 === undefined ? 0 : t1 - t0;
  }

  row(r, i, tabbable) {
    const n = r.node;
    const type = n === this.tree.root ? 'session' : typeClass(n.type);
    const selected = n.id === this.selectedId;
    const classes = ['row', `type-${type}`];
    if (n.error) classes.push('failed');
    if (selected) classes.push('selected');
    const el = h('div', {
      class: classes.join(' '),
      role: 'treeitem',
      'aria-level': r.depth + 1,
      'aria-selected': String(selected),
      'aria-expanded': r.hasChildren ? String(!r.collapsed) : null,
      tabindex: n.id === tabbable ? '0' : '-1',
      'data-event-id': n.id,
    });
    el.style.top = `${i * ROW_HEIGHT}px`;
    const indent = h('span', { class: 'indent' });
    indent.style.width = `${Math.min(r.depth, MAX_INDENT) * INDENT}px`;
    const toggle = r.hasChildren
      ? h('button', {
        type: 'button', class: 'toggle', tabindex: '-1',
        'aria-label': r.collapsed ? 'Expand' : 'Collapse',
      }, r.collapsed ? '▸' : '▾')
      : h('span', { class: 'toggle' });
    const label = type === 'other' && typeof n.type === 'string' && n.type.trim() ? n.type : type;
    const duration = n.start !== null && n.end !== null ? formatDuration(n.end - n.start) : '';
    const name = h('div', { class: 'cell-name' },
      indent,
      r.depth > MAX_INDENT ? h('span', { class: 'depth', title: `depth ${r.depth}` }, `${r.depth}`) : null,
      toggle,
      n.error ? h('span', { class: 'mark', title: 'This event has an error', 'aria-label': 'failed' }, '⚠') : null,
      h('span', { class: 'name', title: n.name || n.id }, n.name || '(unnamed)'),
      h('span', { class: `badge badge-${type}`, title: n.type || type }, label),
      r.collapsed ? h('span', { class: 'hidden-count' }, `+${countBelow(n)}`) : null,
      h('span', { class: 'dur' }, duration));
    const bars = h('div', { class: 'cell-bar' });
    const span = this.span();
    if (this.tree.t0 !== null && n.start !== null) {
      const { left, width } = barGeometry(n.start, n.end, this.tree.t0, span, 0.3);
      const bar = h('span', { class: 'bar', title: duration });
      bar.style.left = `${left}%`;
      bar.style.width = `${width}%`;
      bars.append(bar);
    }
    el.append(name, bars);
    return el;
  }

  /** The time axis: labelled ticks, as many as fit. */
  drawAxis() {
    const span = this.span();
    const width = this.axis.clientWidth || 400;
    this.ticks = niceTicks(span, Math.max(1, Math.floor(width / 90)));
    this.axis.replaceChildren();
    if (!this.tree || this.tree.t0 === null) {
      this.axis.append(h('span', { class: 'tick-none' }, 'no times recorded'));
      return;
    }
    for (const t of this.ticks) {
      const pct = span > 0 ? (t / span) * 100 : 0;
      const tick = h('span', { class: 'tick' }, formatTick(t));
      tick.style.left = `${pct}%`;
      if (pct > 92) tick.classList.add('tick-end');
      this.axis.append(tick);
    }
  }

  toggle(id) {
    if (this.collapsed.has(id)) this.collapsed.delete(id);
    else this.collapsed.add(id);
    this.focusId = id;
    this.reflow();
    this.render(true);
    const el = this.rowElement(id);
    if (el) el.focus({ preventScroll: true });
  }

  /** Moves the focus to row `i`, scrolling it into view. */
  moveTo(i) {
    if (!this.rows.length) return;
    const at = Math.max(0, Math.min(this.rows.length - 1, i));
    this.focusId = this.rows[at].id;
    this.reveal(at, false);
    this.render(true);
    const el = this.rowElement(this.focusId);
    if (el) el.focus({ preventScroll: true });
  }

  /** Scrolls row `i` into view (to the middle with `center` when it is out of view). */
  reveal(i, center) {
    const top = i * ROW_HEIGHT;
    const view = this.viewHeight();
    const s = this.scroller;
    if (top >= s.scrollTop && top + ROW_HEIGHT <= s.scrollTop + view) return;
    if (center) s.scrollTop = Math.max(0, top - view / 2 + ROW_HEIGHT / 2);
    else if (top < s.scrollTop) s.scrollTop = top;
    else s.scrollTop = top + ROW_HEIGHT - view;
  }

  click(e) {
    const row = e.target.closest('.row');
    if (!row) return;
    const id = row.dataset.eventId;
    if (e.target.closest('button.toggle')) {
      this.toggle(id);
      return;
    }
    this.focusId = id;
    this.onOpen(id);
  }

  key(e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const row = e.target.closest && e.target.closest('.row');
    const id = row ? row.dataset.eventId : this.focusId;
    const i = this.index.get(id);
    if (i === undefined) {
      if (e.key === 'ArrowDown' || e.key === 'Home') {
        e.preventDefault();
        this.moveTo(0);
      }
      return;
    }
    const r = this.rows[i];
    const page = Math.max(1, Math.floor(this.viewHeight() / ROW_HEIGHT) - 1);
    switch (e.key) {
      case 'ArrowDown': this.moveTo(i + 1); break;
      case 'ArrowUp': this.moveTo(i - 1); break;
      case 'PageDown': this.moveTo(i + page); break;
      case 'PageUp': this.moveTo(i - page); break;
      case 'Home': this.moveTo(0); break;
      case 'End': this.moveTo(this.rows.length - 1); break;
      case 'ArrowRight':
        if (r.hasChildren && r.collapsed) this.toggle(id);
        else if (r.hasChildren) this.moveTo(i + 1);
        break;
      case 'ArrowLeft':
        if (r.hasChildren && !r.collapsed) this.toggle(id);
        else if (r.node.parent) this.moveTo(this.index.get(r.node.parent.id) ?? i);
        break;
      case 'Enter':
      case ' ':
        this.focusId = id;
        this.onOpen(id);
        break;
      default:
        return;
    }
    e.preventDefault();
  }
}

/** How many events are below `node`, at any depth (counted once per tree). */
function countBelow(node) {
  if (node.below !== undefined) return node.below;
  let count = 0;
  const stack = [...node.children];
  while (stack.length) {
    const n = stack.pop();
    count += 1;
    for (const c of n.children) stack.push(c);
  }
  node.below = count;
  return count;
}
