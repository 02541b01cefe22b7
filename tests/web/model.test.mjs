// The web view's pure functions (src/emulator/web/assets/model.mjs):
//   cd /work/main && node --test tests/web/
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  buildTree, flatten, ancestorsOf, niceTicks, formatDuration, barGeometry, eventDuration,
  formatCount, formatStart, filterSessions, sortNewestFirst, upsertSession, parseRoute,
  sessionHref, eventHref, windowRange, jsonPreview, isEmptyValue, parseJsonText, typeClass,
  chatMessages, formatTick,
} from '../../src/emulator/web/assets/model.mjs';

const SID = 'sess-1';
const T0 = 1_764_900_000_000;
const summary = (over = {}) => ({
  session_id: SID, name: 'support_turn', source: 'tests', start_time: T0, end_time: T0 + 100,
  duration: 100, events: 0, model_events: 0, tokens: 0, errors: 0, error: null, revision: 1,
  ...over,
});
const row = (id, parent, start, end, over = {}) => ({
  id, parent, name: id, type: 'chain', start, end, error: false, ...over,
});

/** Every node of the tree, pre-order, collapsed ignored. */
const allIds = (tree) => flatten(tree, new Set()).map((r) => r.id);
/** Each id's parent id. */
const parents = (tree) => Object.fromEntries(
  [...tree.byId.values()].filter((n) => n.parent).map((n) => [n.id, n.parent.id]),
);

describe('buildTree', () => {
  test('the session is the root and events hang under their parents, sorted by start', () => {
    const tree = buildTree(SID, summary(), [
      row('b', SID, T0 + 50, T0 + 60),
      row('a', SID, T0 + 10, T0 + 40),
      row('a2', 'a', T0 + 30, T0 + 35),
      row('a1', 'a', T0 + 20, T0 + 25),
    ]);
    assert.equal(tree.root.id, SID);
    assert.equal(tree.root.type, 'session');
    assert.equal(tree.root.name, 'support_turn');
    assert.equal(tree.count, 5);
    assert.deepEqual(allIds(tree), [SID, 'a', 'a1', 'a2', 'b']);
    const rows = flatten(tree, new Set());
    assert.deepEqual(rows.map((r) => r.depth), [0, 1, 2, 2, 1]);
    assert.deepEqual(rows.map((r) => r.hasChildren), [true, true, false, false, false]);
    assert.equal(tree.t0, T0);
    assert.equal(tree.t1, T0 + 100);
  });

  test('null, the session, unknown and self parents all hang under the session', () => {
    const tree = buildTree(SID, summary(), [
      row('n', null, T0 + 1, T0 + 2),
      row('s', SID, T0 + 2, T0 + 3),
      row('u', 'not-an-event', T0 + 3, T0 + 4),
      row('self', 'self', T0 + 4, T0 + 5),
      row('num', 42, T0 + 5, T0 + 6),
    ]);
    assert.deepEqual(tree.root.children.map((n) => n.id), ['n', 's', 'u', 'self', 'num']);
    assert.equal(tree.count, 6);
  });

  test('a cycle is cut at its earliest member, and nothing is lost nor doubled', () => {
    const tree = buildTree(SID, summary(), [
      row('x', 'z', T0 + 1, T0 + 2),
      row('y', 'x', T0 + 2, T0 + 3),
      row('z', 'y', T0 + 3, T0 + 4),
      row('tail', 'z', T0 + 5, T0 + 6),
      row('p', 'q', T0 + 7, T0 + 8),
      row('q', 'p', T0 + 9, T0 + 10),
    ]);
    assert.deepEqual(parents(tree), { x: SID, y: 'x', z: 'y', tail: 'z', p: SID, q: 'p' });
    const ids = allIds(tree);
    assert.equal(ids.length, 7);
    assert.equal(new Set(ids).size, 7);
  });

  test('a cycle reached from outside is cut too, and a long chain does not overflow', () => {
    const rows = [row('in', 'c1', 1, 2), row('c1', 'c2', 1, 2), row('c2', 'c1', 1, 2)];
    const tree = buildTree(SID, summary(), rows);
    assert.deepEqual(parents(tree), { in: 'c1', c1: SID, c2: 'c1' });
    const chain = [];
    for (let i = 0; i < 50_000; i++) chain.push(row(`e${i}`, i ? `e${i - 1}` : SID, T0 + i, T0 + i + 1));
    const deep = buildTree(SID, summary(), chain);
    const flat = flatten(deep, new Set());
    assert.equal(flat.length, 50_001);
    assert.equal(flat.at(-1).depth, 50_000);
    assert.equal(ancestorsOf(deep, 'e3').join(), [SID, 'e0', 'e1', 'e2'].join());
  });

  test('null times take the parent start and end where they start; null starts sort last', () => {
    const tree = buildTree(SID, summary(), [
      row('late', SID, null, null),
      row('p', SID, T0 + 10, T0 + 90),
      row('child', 'p', null, T0 + 50),
      row('open', 'p', T0 + 20, null),
      row('early', SID, T0 + 5, T0 + 6),
    ]);
    assert.deepEqual(tree.root.children.map((n) => n.id), ['early', 'p', 'late']);
    const late = tree.byId.get('late');
    assert.equal(late.start, T0);
    assert.equal(late.end, T0);
    assert.equal(late.rawStart, null);
    const child = tree.byId.get('child');
    assert.deepEqual([child.start, child.end], [T0 + 10, T0 + 50]);
    const open = tree.byId.get('open');
    assert.deepEqual([open.start, open.end], [T0 + 20, T0 + 20]);
    assert.deepEqual(tree.byId.get('p').children.map((n) => n.id), ['open', 'child']);
  });

  test('equal starts keep arrival order', () => {
    const tree = buildTree(SID, summary(), ['c', 'a', 'b'].map((id) => row(id, SID, T0, T0)));
    assert.deepEqual(tree.root.children.map((n) => n.id), ['c', 'a', 'b']);
  });

  test('a session without times spans its events; with none at all, no span', () => {
    const tree = buildTree(SID, summary({ start_time: null, end_time: null, duration: null }), [
      row('a', SID, T0 + 10, T0 + 20),
      row('b', SID, T0 + 30, T0 + 70),
    ]);
    assert.equal(tree.root.start, T0 + 10);
    assert.equal(tree.root.end, T0 + 70);
    assert.deepEqual([tree.t0, tree.t1], [T0 + 10, T0 + 70]);
    const bare = buildTree(SID, null, [row('a', SID, null, null)]);
    assert.equal(bare.t0, null);
    assert.equal(bare.t1, null);
    assert.equal(bare.root.name, SID, 'the id names a session without a name');
    const withDuration = buildTree(SID, summary({ end_time: null, duration: 250 }), []);
    assert.equal(withDuration.root.end, T0 + 250);
  });

  test('events that start before the session or end after it widen the span', () => {
    const tree = buildTree(SID, summary(), [row('a', SID, T0 - 10, T0 + 500)]);
    assert.deepEqual([tree.t0, tree.t1], [T0 - 10, T0 + 500]);
  });

  test('errors, types, duplicates, missing ids and junk rows', () => {
    const tree = buildTree(SID, summary({ error: 'boom' }), [
      row('m', SID, T0, T0 + 1, { type: 'model', error: true }),
      row('m', SID, T0 + 2, T0 + 3, { type: 'model', name: 'again' }),
      row('', SID, T0, T0),
      { parent: SID, name: 'no id' },
      null, 7, 'text', [],
      row(SID, null, T0, T0),
      row('t', 'm', T0, T0, { type: null }),
    ]);
    assert.equal(tree.root.error, true);
    const m = tree.byId.get('m');
    assert.equal(m.name, 'again', 'the later row of an id wins');
    assert.equal(m.error, false);
    assert.deepEqual(m.children.map((n) => n.id), ['t']);
    assert.equal(tree.byId.get('t').type, 'other');
    const ids = allIds(tree);
    assert.equal(ids.length, 5, ids.join());
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(tree.byId.get('#2').synthetic);
    assert.equal(buildTree(SID, summary(), 'nope').count, 1);
    assert.equal(buildTree(undefined, undefined, undefined).root.id, '');
  });

  test('100,000 rows build and flatten, each exactly once', () => {
    const rows = [];
    for (let i = 0; i < 100_000; i++) {
      // Ten chains, each ten levels deep, repeated; some with bad parents.
      const parent = i % 10 === 0 ? SID : i % 997 === 0 ? 'missing' : `e${i - 1}`;
      rows.push(row(`e${i}`, parent, T0 + ((i * 7919) % 100_000), T0 + 100_000, { type: i % 3 ? 'model' : 'tool' }));
    }
    rows[15].parent = 'e18'; // a cycle: e15 → e18 → e17 → e16 → e15
    rows[49].parent = 'e49'; // its own parent
    const started = Date.now();
    const tree = buildTree(SID, summary(), rows);
    const flat = flatten(tree, new Set());
    assert.equal(tree.count, 100_001);
    assert.equal(flat.length, 100_001);
    assert.equal(new Set(flat.map((r) => r.id)).size, 100_001);
    for (let i = 1; i < flat.length; i++) {
      const { node, depth } = flat[i];
      assert.equal(depth, node.parent.depth + 1);
    }
    // Collapse every chain head: only the root and the heads remain.
    const heads = new Set(tree.root.children.map((n) => n.id));
    const folded = flatten(tree, heads);
    assert.equal(folded.length, 1 + heads.size);
    assert.ok(Date.now() - started < 20_000);
  });
});

describe('flatten', () => {
  const tree = buildTree(SID, summary(), [
    row('a', SID, T0 + 1, T0 + 9), row('a1', 'a', T0 + 2, T0 + 3), row('b', SID, T0 + 10, T0 + 20),
  ]);

  test('a collapsed node keeps its row and hides its children', () => {
    const rows = flatten(tree, new Set(['a']));
    assert.deepEqual(rows.map((r) => r.id), [SID, 'a', 'b']);
    assert.equal(rows[1].collapsed, true);
    assert.equal(rows[1].hasChildren, true);
    assert.deepEqual(flatten(tree, new Set([SID])).map((r) => r.id), [SID]);
  });

  test('collapsing a leaf or an unknown id changes nothing; no set means all open', () => {
    assert.equal(flatten(tree, new Set(['a1', 'zz'])).length, 4);
    assert.equal(flatten(tree).length, 4);
    assert.deepEqual(flatten(null, new Set()), []);
  });

  test('ancestors run from the root', () => {
    assert.deepEqual(ancestorsOf(tree, 'a1'), [SID, 'a']);
    assert.deepEqual(ancestorsOf(tree, SID), []);
    assert.deepEqual(ancestorsOf(tree, 'nope'), []);
  });
});

describe('time', () => {
  test('ticks step by 1, 2 or 5 times a power of ten and stay within the span', () => {
    assert.deepEqual(niceTicks(1000, 5), [0, 200, 400, 600, 800, 1000]);
    assert.deepEqual(niceTicks(1000, 4), [0, 500, 1000]);
    assert.deepEqual(niceTicks(95, 10), [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    assert.deepEqual(niceTicks(0.3, 3), [0, 0.1, 0.2, 0.3]);
    assert.deepEqual(niceTicks(0.0042, 5), [0, 0.001, 0.002, 0.003, 0.004]);
    assert.deepEqual(niceTicks(0.0042, 4), [0, 0.002, 0.004]);
    for (const span of [1, 7, 13.5, 99, 1234, 86_400_000, 1e-6]) {
      const ticks = niceTicks(span, 6);
      assert.ok(ticks.length >= 2 && ticks.length <= 7, `${span}: ${ticks}`);
      assert.equal(ticks[0], 0);
      assert.ok(ticks.at(-1) <= span * (1 + 1e-9), `${span}: ${ticks}`);
      const step = ticks[1];
      assert.match(step.toExponential(), /^[125]e/, `${span}: ${step}`);
    }
  });

  test('ticks of nothing are a single zero', () => {
    for (const span of [0, -5, NaN, Infinity, null, undefined, '100']) {
      assert.deepEqual(niceTicks(span, 5), [0], String(span));
    }
    assert.deepEqual(niceTicks(10, 0), [0, 10], 'at least one interval');
  });

  test('durations read as people say them', () => {
    const cases = [
      [null, '–'], [undefined, '–'], [NaN, '–'], ['12', '–'],
      [0, '0 ms'], [0.0000004, '1 ns'], [0.0005, '500 ns'], [0.85, '850 µs'], [0.0425, '43 µs'],
      [0.9996, '1 ms'], [1, '1 ms'], [1.5, '1.5 ms'], [9.96, '10 ms'], [12, '12 ms'],
      [12.4, '12 ms'], [999.4, '999 ms'], [999.6, '1.00 s'], [1240, '1.24 s'],
      [9999, '10.0 s'], [12_345, '12.3 s'], [59_990, '1 m 00 s'], [125_000, '2 m 05 s'],
      [3_599_400, '59 m 59 s'], [3_600_000, '1 h 00 m'], [3_720_000, '1 h 02 m'],
      [90_000_000, '1 d 01 h'], [-1240, '-1.24 s'],
    ];
    for (const [ms, want] of cases) assert.equal(formatDuration(ms), want, String(ms));
  });

  test('ticks drop trailing zeros', () => {
    const cases = [[0, '0'], [1000, '1 s'], [2500, '2.5 s'], [10_000, '10 s'], [1.5, '1.5 ms'],
      [200, '200 ms'], [120_000, '2 m 00 s'], [0.0002, '200 ns'], [0.25, '250 µs']];
    for (const [ms, want] of cases) assert.equal(formatTick(ms), want, String(ms));
  });

  test('bars sit by start and end on the span, clamped, never invisible', () => {
    assert.deepEqual(barGeometry(T0 + 25, T0 + 75, T0, 100), { left: 25, width: 50 });
    assert.deepEqual(barGeometry(T0, T0 + 100, T0, 100), { left: 0, width: 100 });
    assert.deepEqual(barGeometry(T0 + 50, T0 + 50, T0, 100, 1), { left: 50, width: 1 });
    assert.deepEqual(barGeometry(T0 + 100, T0 + 100, T0, 100, 1), { left: 99, width: 1 });
    assert.deepEqual(barGeometry(T0 - 50, T0 + 300, T0, 100), { left: 0, width: 100 });
    assert.deepEqual(barGeometry(T0 + 60, T0 + 10, T0, 100, 2), { left: 60, width: 2 }, 'an end before its start');
    assert.deepEqual(barGeometry(T0 + 60, null, T0, 100, 2), { left: 60, width: 2 });
    assert.deepEqual(barGeometry(T0, T0, T0, 0, 2), { left: 0, width: 2 }, 'a span of nothing');
    assert.deepEqual(barGeometry(null, null, T0, 100, 2), { left: 0, width: 2 });
    assert.deepEqual(barGeometry(T0, T0 + 1, null, 100, 2), { left: 0, width: 2 });
  });

  test('an event lasts from its start to its end, else its duration', () => {
    assert.equal(eventDuration({ start_time: 10, end_time: 35, duration: 1 }), 25);
    assert.equal(eventDuration({ start_time: 10, duration: 7 }), 7);
    assert.equal(eventDuration({}), null);
    assert.equal(eventDuration(null), null);
  });

  test('starts show the time today and the date on other days, in local time', () => {
    const start = new Date(2024, 4, 1, 14, 3, 7).getTime();
    assert.equal(formatStart(start, new Date(2024, 4, 1, 23, 0, 0).getTime()), '14:03:07');
    assert.equal(formatStart(start, new Date(2024, 4, 2, 0, 0, 1).getTime()), '2024-05-01 14:03:07');
    assert.equal(formatStart(start + 0.5, start), '14:03:07', 'fractions of a ms');
    assert.equal(formatStart(null), '–');
    assert.equal(formatStart(1e300), '–');
  });

  test('counts are grouped by thousands', () => {
    assert.equal(formatCount(0), '0');
    assert.equal(formatCount(1234567), '1,234,567');
    assert.equal(formatCount(999), '999');
    assert.equal(formatCount(-1234), '-1,234');
    assert.equal(formatCount(null), '–');
  });
});

describe('the list of sessions', () => {
  const sessions = [
    summary({ session_id: 'aaa-111', name: 'Checkout', source: 'prod', start_time: 3, errors: 0 }),
    summary({ session_id: 'bbb-222', name: 'search', source: 'Staging', start_time: 2, errors: 2 }),
    summary({ session_id: 'ccc-333', name: 'other', source: 'dev', start_time: 1, errors: 0, error: 'x' }),
  ];
  const ids = (list) => list.map((s) => s.session_id);

  test('the filter matches name, source or id, any case, anywhere', () => {
    assert.deepEqual(ids(filterSessions(sessions, 'CHECK', false)), ['aaa-111']);
    assert.deepEqual(ids(filterSessions(sessions, 'staging', false)), ['bbb-222']);
    assert.deepEqual(ids(filterSessions(sessions, '-33', false)), ['ccc-333']);
    assert.deepEqual(ids(filterSessions(sessions, '  ', false)), ids(sessions));
    assert.deepEqual(ids(filterSessions(sessions, 'e', false)), ids(sessions));
    assert.deepEqual(ids(filterSessions(sessions, 'zzz', false)), []);
  });

  test('errors only keeps sessions with an error, and combines with the filter', () => {
    assert.deepEqual(ids(filterSessions(sessions, '', true)), ['bbb-222', 'ccc-333']);
    assert.deepEqual(ids(filterSessions(sessions, 'search', true)), ['bbb-222']);
    assert.deepEqual(filterSessions(null, 'x', true), []);
    assert.deepEqual(ids(filterSessions([null, 5, sessions[0]], undefined, false)), ['aaa-111']);
  });

  test('newest first, no start last, ties in order', () => {
    const list = [
      { session_id: 'a', start_time: 1 }, { session_id: 'b', start_time: null },
      { session_id: 'c', start_time: 5 }, { session_id: 'd', start_time: 1 }, { session_id: 'e' },
    ];
    assert.deepEqual(ids(sortNewestFirst(list)), ['c', 'a', 'd', 'b', 'e']);
    assert.deepEqual(ids(list), ['a', 'b', 'c', 'd', 'e'], 'a copy');
  });

  test('upsert replaces by id, adds new ones in order, ignores stale and junk', () => {
    let list = sortNewestFirst(sessions);
    list = upsertSession(list, summary({ session_id: 'new', start_time: 10, revision: 5 }));
    assert.deepEqual(ids(list), ['new', 'aaa-111', 'bbb-222', 'ccc-333']);
    list = upsertSession(list, summary({ session_id: 'bbb-222', start_time: 2, name: 'renamed', revision: 6 }));
    assert.equal(list.length, 4);
    assert.equal(list[2].name, 'renamed');
    const same = upsertSession(list, summary({ session_id: 'bbb-222', start_time: 2, name: 'old', revision: 3 }));
    assert.equal(same, list, 'an older revision sent again changes nothing');
    list = upsertSession(list, summary({ session_id: 'old', start_time: 0, revision: 7 }));
    assert.equal(ids(list).at(-1), 'old');
    list = upsertSession(list, summary({ session_id: 'tie', start_time: 3, revision: 8 }));
    assert.deepEqual(ids(list).slice(0, 3), ['new', 'tie', 'aaa-111'], 'the newest arrival first among equals');
    assert.equal(upsertSession(list, { name: 'no id' }), list);
    assert.equal(upsertSession(list, null), list);
    assert.deepEqual(ids(upsertSession(undefined, summary({ session_id: 'x' }))), ['x']);
  });
});

describe('routes and windows', () => {
  test('hashes name the list, a session or an event', () => {
    assert.deepEqual(parseRoute(''), { view: 'list' });
    assert.deepEqual(parseRoute('#'), { view: 'list' });
    assert.deepEqual(parseRoute('#/'), { view: 'list' });
    assert.deepEqual(parseRoute(undefined), { view: 'list' });
    assert.deepEqual(parseRoute('#/sessions/abc'), { view: 'session', sessionId: 'abc' });
    assert.deepEqual(parseRoute('#/sessions/abc/'), { view: 'session', sessionId: 'abc' });
    assert.deepEqual(parseRoute('#sessions/abc'), { view: 'session', sessionId: 'abc' });
    assert.deepEqual(parseRoute('#/sessions/abc/events/e1'),
      { view: 'event', sessionId: 'abc', eventId: 'e1' });
    assert.deepEqual(parseRoute('#/sessions/a%2Fb%20c/events/%E2%9C%93%3F'),
      { view: 'event', sessionId: 'a/b c', eventId: '✓?' });
    assert.deepEqual(parseRoute('#/sessions/100%/events/x'),
      { view: 'event', sessionId: '100%', eventId: 'x' }, 'a bad escape is kept as it is');
  });

  test('anything else is the list', () => {
    for (const hash of ['#/sessions', '#/sessions/', '#/other/abc', '#/sessions/a/events',
      '#/sessions/a/events/', '#/sessions/a/b/c', '#/sessions/a/events/b/c', '#/sessions//events/x']) {
      assert.deepEqual(parseRoute(hash), { view: 'list' }, hash);
    }
  });

  test('links built for ids come back as those ids', () => {
    for (const [sid, eid] of [['abc', 'def'], ['a/b', 'c d'], ['#?&%', 'é/✓']]) {
      assert.deepEqual(parseRoute(sessionHref(sid)), { view: 'session', sessionId: sid });
      assert.deepEqual(parseRoute(eventHref(sid, eid)), { view: 'event', sessionId: sid, eventId: eid });
    }
  });

  test('the window covers the viewport plus the overscan, inside the rows', () => {
    assert.deepEqual(windowRange(0, 100, 20, 1000, 5), { start: 0, end: 11 });
    assert.deepEqual(windowRange(2000, 100, 20, 1000, 5), { start: 95, end: 111 });
    assert.deepEqual(windowRange(19_900, 100, 20, 1000, 5), { start: 990, end: 1000 });
    assert.deepEqual(windowRange(1e9, 100, 20, 1000, 5), { start: 994, end: 1000 }, 'scrolled past the end');
    assert.deepEqual(windowRange(-50, 100, 20, 1000, 5), { start: 0, end: 11 });
    assert.deepEqual(windowRange(0, 100, 20, 3, 5), { start: 0, end: 3 });
    assert.deepEqual(windowRange(0, 100, 20, 0, 5), { start: 0, end: 0 });
    assert.deepEqual(windowRange(0, 0, 20, 10, 0), { start: 0, end: 1 });
    assert.deepEqual(windowRange(NaN, NaN, 0, 10, NaN), { start: 0, end: 1 });
    assert.deepEqual(windowRange(10, 100, 20, 1000), { start: 0, end: 14 }, 'default overscan of 8');
  });
});

describe('json helpers', () => {
  test('previews are short', () => {
    assert.equal(jsonPreview({ a: 1, b: [2], c: {} }), '{a, b, c}');
    assert.equal(jsonPreview({}), '{}');
    assert.equal(jsonPreview([]), '[]');
    assert.equal(jsonPreview([1]), '[1 item]');
    assert.equal(jsonPreview([1, 2, 3]), '[3 items]');
    assert.equal(jsonPreview('hi'), '"hi"');
    assert.equal(jsonPreview('x'.repeat(100), 10), `"${'x'.repeat(10)}…"`);
    assert.equal(jsonPreview(null), 'null');
    assert.equal(jsonPreview(false), 'false');
    assert.equal(jsonPreview(undefined), '');
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`key${i}`, i]));
    assert.ok(jsonPreview(many, 30).length <= 40);
    assert.match(jsonPreview(many, 30), /^\{key0, key1, .*, …\}$/);
  });

  test('empties and JSON text', () => {
    for (const v of [null, undefined, {}, [], '', '  ']) assert.equal(isEmptyValue(v), true);
    for (const v of [0, false, 'x', [0], { a: null }]) assert.equal(isEmptyValue(v), false);
    assert.deepEqual(parseJsonText(' {"a": 1} '), { a: 1 });
    assert.equal(parseJsonText('{oops'), undefined);
    assert.equal(parseJsonText('12'), undefined);
    assert.equal(parseJsonText(12), undefined);
  });

  test('types have a class', () => {
    assert.equal(typeClass('model'), 'model');
    assert.equal(typeClass(' Tool '), 'tool');
    assert.equal(typeClass('session'), 'session');
    assert.equal(typeClass('retriever'), 'other');
    assert.equal(typeClass(null), 'other');
  });
});

describe('chatMessages', () => {
  // The agent of examples/openai_agent: system, user, a tool call, its result, the answer.
  const agentTurn = {
    event_type: 'model',
    event_name: 'chat canned-gpt',
    inputs: {
      chat_history: [
        { role: 'system', content: 'You are a support agent.' },
        { role: 'user', content: 'Where is my order #1042?' },
        { role: 'assistant', content: null, tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'lookup_order', arguments: '{"order":1042}' } },
        ] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"id":1042,"status":"shipped"}' },
      ],
    },
    outputs: {
      role: 'assistant', content: 'It shipped with DHL.', finish_reason: 'stop',
      messages: [{ role: 'assistant', content: 'It shipped with DHL.', finish_reason: 'stop' }],
    },
    metadata: { total_tokens: 42 },
  };

  test('an OpenAI tool-calling conversation: calls, their result, the answer last', () => {
    const chat = chatMessages(agentTurn);
    assert.deepEqual(chat.map((m) => m.role), ['system', 'user', 'assistant', 'tool', 'assistant']);
    assert.deepEqual(chat.map((m) => m.answer), [false, false, false, false, true]);
    assert.equal(chat[1].text, 'Where is my order #1042?');
    const [call] = chat[2].toolCalls;
    assert.equal(chat[2].text, '');
    assert.equal(call.id, 'call_1');
    assert.equal(call.name, 'lookup_order');
    assert.equal(call.arguments, '{\n  "order": 1042\n}');
    assert.deepEqual(call.argumentsJson, { order: 1042 });
    assert.equal(chat[3].toolCallId, 'call_1');
    assert.equal(chat[3].toolCallName, 'lookup_order');
    assert.equal(chat[3].text, '{"id":1042,"status":"shipped"}');
    assert.equal(chat[3].textPretty, '{\n  "id": 1042,\n  "status": "shipped"\n}');
    assert.equal(chat[4].text, 'It shipped with DHL.');
    assert.equal(chat[4].finishReason, 'stop');
  });

  test('a tool-calling answer, at the top of outputs only', () => {
    const chat = chatMessages({
      event_type: 'model',
      inputs: { chat_history: [{ role: 'user', content: 'Hi' }] },
      outputs: { role: 'assistant', finish_reason: 'tool_calls', tool_calls: [
        { id: 'c1', type: 'function', function: { name: 'lookup', arguments: 'not json' } },
      ] },
    });
    assert.equal(chat.length, 2);
    const answer = chat[1];
    assert.equal(answer.answer, true);
    assert.equal(answer.finishReason, 'tool_calls');
    assert.deepEqual(answer.toolCalls, [{ id: 'c1', name: 'lookup', arguments: 'not json', argumentsJson: undefined }]);
  });

  test('OpenAI content parts: text joined, images described, inline images shown', () => {
    const chat = chatMessages({
      event_type: 'model',
      inputs: { chat_history: [{ role: 'user', content: [
        { type: 'text', text: 'What is in' },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
        { type: 'text', text: 'this picture?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } },
      ] }] },
      outputs: { role: 'assistant', content: [{ type: 'text', text: 'A cat.' }] },
    });
    assert.equal(chat[0].text, 'What is in\nthis picture?');
    assert.equal(chat[0].parts.length, 3);
    assert.equal(chat[0].parts[0].type, 'image_url');
    assert.match(chat[0].parts[0].label, /example\.com\/cat\.png/);
    assert.equal(chat[0].parts[0].imageSrc, undefined, 'remote images are not loaded');
    assert.equal(chat[0].parts[1].imageSrc, 'data:image/png;base64,AAAA');
    assert.match(chat[0].parts[1].label, /inline image\/png \(4 B\)/);
    assert.match(chat[0].parts[2].label, /wav/);
    assert.equal(chat[1].text, 'A cat.');
    assert.equal(chat[1].answer, true);
  });

  test('GenAI parts: text, tool calls, tool call responses, reasoning, media', () => {
    const chat = chatMessages({
      event_type: 'model',
      inputs: { messages: [
        { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
        { role: 'assistant', parts: [
          { type: 'tool_call', id: 't1', name: 'weather', arguments: { city: 'Paris' } },
        ] },
        { role: 'tool', parts: [{ type: 'tool_call_response', id: 't1', response: { temp: 21 } }] },
        { role: 'user', content: [{ type: 'blob', modality: 'audio', mime_type: 'audio/wav', transcript: 'Thanks' }] },
      ] },
      outputs: { messages: [{ role: 'assistant', finish_reason: 'stop', parts: [
        { type: 'reasoning', content: 'Warm.' }, { type: 'text', content: 'It is 21 °C.' },
      ] }] },
    });
    assert.deepEqual(chat.map((m) => m.role), ['user', 'assistant', 'tool', 'user', 'assistant']);
    assert.equal(chat[0].text, 'Weather in Paris?');
    assert.equal(chat[1].toolCalls[0].name, 'weather');
    assert.equal(chat[1].toolCalls[0].arguments, '{\n  "city": "Paris"\n}');
    assert.equal(chat[2].toolCallId, 't1');
    assert.equal(chat[2].toolCallName, 'weather');
    assert.equal(chat[2].text, '{"temp":21}');
    assert.equal(chat[3].text, 'Thanks', 'a transcript stands in for missing text');
    assert.match(chat[3].parts[0].label, /audio · audio\/wav/);
    assert.equal(chat[4].text, 'It is 21 °C.');
    assert.equal(chat[4].reasoning, 'Warm.');
    assert.equal(chat[4].finishReason, 'stop');
    assert.equal(chat[4].answer, true);
  });

  test('the mapping\'s GenAI output: several responses in one message become tool messages', () => {
    const chat = chatMessages({
      event_type: 'model',
      inputs: { chat_history: [{ role: 'user', parts: [
        { type: 'tool_call_response', id: 'c2', response: 'late' },
        { type: 'tool_call_response', id: 'c3', result: { early: true } },
      ] }] },
    });
    assert.deepEqual(chat.map((m) => [m.role, m.toolCallId, m.text]),
      [['tool', 'c2', 'late'], ['tool', 'c3', '{"early":true}']]);
  });

  test('OpenAI\'s response shape: choices and their finish reasons', () => {
    const chat = chatMessages({
      event_type: 'model',
      inputs: { messages: [{ role: 'user', content: 'Go' }] },
      outputs: { id: 'x', choices: [
        { index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] } },
        { index: 1, finish_reason: 'stop', message: { role: 'assistant', content: 'Shipped.' } },
        'junk',
      ] },
    });
    assert.equal(chat.length, 3);
    assert.deepEqual(chat.slice(1).map((m) => [m.finishReason, m.answer]), [['tool_calls', true], ['stop', true]]);
    assert.equal(chat[1].toolCalls[0].arguments, '{}');
  });

  test('Anthropic blocks and legacy function calls', () => {
    const chat = chatMessages({
      event_type: 'model',
      inputs: { system: 'Be terse.', messages: [
        { role: 'user', content: 'Add 2 and 3' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'Use the tool.' },
          { type: 'tool_use', id: 'tu1', name: 'add', input: { a: 2, b: 3 } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu1', content: [{ type: 'text', text: '5' }] }] },
        { role: 'assistant', function_call: { name: 'legacy', arguments: '{"x":1}' } },
      ] },
      outputs: { role: 'assistant', content: [{ type: 'text', text: '5' }], stop_reason: 'end_turn' },
    });
    assert.deepEqual(chat.map((m) => m.role), ['system', 'user', 'assistant', 'tool', 'assistant', 'assistant']);
    assert.equal(chat[0].text, 'Be terse.');
    assert.equal(chat[2].reasoning, 'Use the tool.');
    assert.deepEqual(chat[2].toolCalls[0].argumentsJson, { a: 2, b: 3 });
    assert.equal(chat[3].toolCallName, 'add');
    assert.equal(chat[3].text, '5');
    assert.equal(chat[4].toolCalls[0].name, 'legacy');
    assert.equal(chat[5].finishReason, 'end_turn');
  });

  test('events without chat give nothing', () => {
    assert.deepEqual(chatMessages({ event_type: 'tool', inputs: { order: 1042 }, outputs: { result: { status: 'x' } } }), []);
    assert.deepEqual(chatMessages({ event_type: 'chain', inputs: {}, outputs: { content: 'plain' } }), [],
      'a bare content of a chain is not an answer');
    assert.deepEqual(chatMessages({ event_type: 'model', inputs: { messages: ['a', 'b'] } }), []);
    assert.deepEqual(chatMessages({ event_type: 'session' }), []);
  });

  test('a model answer without inputs, and a bare content on a model event', () => {
    const chat = chatMessages({ event_type: 'model', outputs: { content: 'Only this.' } });
    assert.deepEqual(chat.map((m) => [m.role, m.text, m.answer]), [['assistant', 'Only this.', true]]);
  });

  test('malformed values never throw', () => {
    const junk = [null, undefined, 0, 'x', [], {}, [null], { role: 5 }, { content: { a: 1 } },
      { role: 'user', content: [null, 3, 'loose', { type: 'text' }, { type: 'text', text: 7 }, []] },
      { role: 'assistant', tool_calls: 'nope' }, { role: 'assistant', tool_calls: [null, 5, {}, { function: 'f' }] },
      { role: 'assistant', function_call: 'x' }, { parts: 'x' }, { parts: [null, { type: 'tool_call' }] },
      { role: 'tool', tool_call_id: 12, content: { nested: [1] } }];
    const events = [null, undefined, 5, 'text', [], {}, { inputs: 'x', outputs: 5 },
      { inputs: { chat_history: 'x' }, outputs: { messages: 'x', choices: 'y' } },
      { inputs: { chat_history: junk }, outputs: { messages: junk } },
      { inputs: { messages: junk }, outputs: { choices: junk } },
      { event_type: 'model', outputs: junk },
      { event_type: 'model', outputs: { role: 'assistant', content: junk, tool_calls: junk } }];
    for (const event of events) {
      const chat = chatMessages(event);
      assert.ok(Array.isArray(chat));
      for (const m of chat) {
        assert.equal(typeof m.role, 'string');
        assert.equal(typeof m.text, 'string');
        assert.ok(Array.isArray(m.toolCalls) && Array.isArray(m.parts));
        for (const c of m.toolCalls) assert.equal(typeof c.arguments, 'string');
      }
    }
    const chat = chatMessages({ inputs: { chat_history: junk } });
    const loose = chat.find((m) => m.role === 'user');
    assert.equal(loose.text, 'loose');
    const tool = chat.find((m) => m.role === 'tool');
    assert.equal(tool.toolCallId, '12');
    assert.equal(chat.find((m) => m.role === 'unknown' && m.text === 'x').text, 'x', 'a bare string is kept');
  });
});
