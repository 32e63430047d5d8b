/**
 * docs/dashboard.md against what pushq does (one definition of each fact; the doc is a copy that
 * must not drift): every endpoint of its read-API table answered by a real `pushq replay --ui`
 * server (ReplayServer on 127.0.0.1); the JSON shapes it spells out (`dashboard.json`,
 * `timeline.json`, the series, a task list, a story's request and payload, `replay --tasks
 * --json`) equal to the answers' keys; and the values and limits it names equal to the
 * constants the code defines (states, sorts, limits, the stream's intervals, the checkpoint
 * spacing, the page's update choices, the failure reasons, the series' columns, marker kinds).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileEventLogSync } from '../../src/log/file-log.js';
import { PAYLOAD_SHOWN_BYTES_MAX } from '../../src/server/payload-view.js';
import { RecordedSource } from '../../src/server/read-source.js';
import { ReplayServer } from '../../src/server/replay-server.js';
import { STREAM_INTERVAL_DEFAULT_SECONDS, STREAM_INTERVAL_MAX_SECONDS, STREAM_INTERVAL_MIN_SECONDS } from '../../src/server/series-view.js';
import { TASK_LIST_LIMIT_DEFAULT, TASK_LIST_LIMIT_MAX, TASK_SEARCH_LENGTH_MAX, TASK_SORTS, TASK_STATE_FILTERS } from '../../src/server/task-search.js';
import { CHECKPOINT_EVENTS, LogIndex } from '../../src/server/time-travel.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { pushq } from '../helpers/cli.js';
import { fileConfig, pushQueue } from '../helpers/config.js';
import { api } from '../helpers/serve-process.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'dashboard.md'), 'utf8');
const PAGE = readFileSync(join(ROOT, 'dashboard', 'index.html'), 'utf8');

let dir: string;
let path: string;
let server: ReplayServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pushq-dashboard-doc-'));
  path = join(dir, 'events.log');
  const sim = createSimulation({
    config: fileConfig(pushQueue('orders', 10, { retry: { task_retry_limit: 1, min_backoff_seconds: 0.2 } }), pushQueue('mail', 5)),
    seed: 3,
    log: (h) => createFileEventLogSync(path, h, { durable: false }),
    worker: ({ request }) => ({ status: request.url.startsWith('/fail') ? 500 : 200, latencyMs: 30 }),
  });
  for (let i = 0; i < 6; i++) sim.addTask({ queue: 'orders', name: `order-${i}`, url: `/orders/${i}`, body: JSON.stringify({ order: i }) });
  sim.addTask({ queue: 'orders', name: 'doomed', url: '/fail/0', body: 'no' });
  sim.addTask({ queue: 'mail', name: 'later', etaSeconds: 100, body: 'later' });
  sim.schedule(0.3, (s) => s.pauseQueue('orders'));
  sim.schedule(0.6, (s) => s.resumeQueue('orders'));
  sim.schedule(1, (s) => s.purgeQueue('mail'));
  sim.schedule(1.2, (s) => s.kernel.applySettings(s.state.settings)); // a restart with new settings: marked `settings`
  sim.schedule(1.4, (s) => s.kernel.markStarted()); // pushq started again on the log (ServiceStarted): marked `restart`
  sim.runUntilIdle();
  await sim.kernel.log.close();
  server = await ReplayServer.start(new RecordedSource(LogIndex.fromFile(path).index, path));
});

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A shape as the doc writes it, `{a, b: [{c, d}], e: {f}}`: each key, and what it holds when spelled out. */
type Shape = Map<string, Shape | { each: Shape } | null>;

function parseShape(text: string): Shape {
  const tokens = text.match(/[{}[\],:]|[A-Za-z_][\w]*/g) ?? [];
  let i = 0;
  const next = (want?: string): string => {
    const t = tokens[i++];
    if (t === undefined || (want !== undefined && t !== want)) throw new Error(`shape ${JSON.stringify(text)}: expected ${want ?? 'more'} at token ${i - 1}, got ${t}`);
    return t;
  };
  const object = (): Shape => {
    next('{');
    const shape: Shape = new Map();
    while (tokens[i] !== '}') {
      const key = next();
      let held: Shape | { each: Shape } | null = null;
      if (tokens[i] === ':') {
        next(':');
        if (tokens[i] === '[') {
          next('[');
          held = { each: object() };
          next(']');
        } else held = object();
      }
      shape.set(key, held);
      if (tokens[i] === ',') next(',');
    }
    next('}');
    return shape;
  };
  const shape = object();
  if (i !== tokens.length) throw new Error(`shape ${JSON.stringify(text)}: left over after the closing brace`);
  return shape;
}

/** The answer has exactly the keys the doc's shape names, and so on down where it spells them out. */
function expectShape(actual: unknown, shape: Shape, where: string): void {
  expect(actual, where).toBeTypeOf('object');
  expect(Object.keys(actual as object).sort(), where).toEqual([...shape.keys()].sort());
  for (const [key, held] of shape) {
    if (held === null) continue;
    const value = (actual as Record<string, unknown>)[key];
    if (held instanceof Map) expectShape(value, held, `${where}.${key}`);
    else {
      expect(Array.isArray(value) && value.length > 0, `${where}.${key}: a non-empty list to check`).toBe(true);
      for (const item of value as unknown[]) expectShape(item, held.each, `${where}.${key}[]`);
    }
  }
}

/** The shape quoted right after `label` in the doc (`label` `{...}`), or inside the quote (`label {...}`). */
function quoted(label: RegExp): string {
  const m = new RegExp(`${label.source}\\s*\`([^\`]+)\``).exec(DOC) ?? new RegExp(`\`${label.source}\\s*(\\{[^\`]+)\``).exec(DOC);
  if (m === null) throw new Error(`docs/dashboard.md has no ${label.source} followed by a quoted shape`);
  return m[1] as string;
}

/** The `backticked` words of `text`. */
const words = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

const get = (p: string) => api('GET', `${server.url}${p}`);

describe('docs/dashboard.md', () => {
  it('every endpoint of its read-API table answers, and nothing else is listed', async () => {
    const rows = [...DOC.matchAll(/^\| `GET ([^`]+)` \|/gm)].map((m) => m[1] as string);
    expect(rows).toEqual(['/pushq/dashboard.json?at=S', '/pushq/timeline.json', '/pushq/series.json?queue=Q', '/pushq/series/stream?queue=Q&interval=S', '/pushq/queues/Q/tasks?state=&q=&sort=&limit=&at=', '/pushq/queues/Q/tasks/T/story?at=S']);
    for (const row of rows) {
      const url = row.replace(/\bQ\b/g, 'orders').replace(/\bT\b/g, 'doomed').replace(/interval=S/, 'interval=1').replace(/at=S/, 'at=0.5').replace(/=(&|$)/g, '$1');
      if (row.startsWith('/pushq/series/stream')) {
        const ac = new AbortController();
        const res = await fetch(`${server.url}${url}`, { signal: ac.signal });
        expect(res.status, row).toBe(200);
        expect(res.headers.get('content-type'), row).toMatch(/^text\/event-stream/);
        ac.abort();
        continue;
      }
      expect((await get(url)).status, `${row} as ${url}`).toBe(200);
    }
  });

  it('the JSON shapes it spells out are the answers\' keys', async () => {
    expectShape((await get('/pushq/dashboard.json?at=0.5')).json, parseShape(quoted(/`dashboard\.json`:/)), 'dashboard.json');
    expectShape((await get('/pushq/timeline.json')).json, parseShape(quoted(/`timeline\.json`:/)), 'timeline.json');
    const series = (await get('/pushq/series.json?queue=orders')).json;
    expectShape(series, parseShape(quoted(/`series\.json` and each event of the stream:/)), 'series.json');
    for (const s of series.series) expectShape(s.limits, parseShape(quoted(/`limits`/)), 'series[].limits');
    expectShape((await get('/pushq/queues/*/tasks?state=all&q=order')).json, parseShape(quoted(/A task list:/)), 'task list');
    const story = (await get('/pushq/queues/orders/tasks/doomed/story')).json;
    expectShape(story.request, parseShape(quoted(/request:/)), 'story.request');
    expectShape(story.payload, parseShape(quoted(/payload:/)), 'story.payload');
    for (const field of ['waitedSeconds', 'heldBySeconds']) expect(story.attempts[0], field).toHaveProperty(field);
    const cli = await pushq(['replay', path, '--tasks', 'gave-up', '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    expectShape(JSON.parse(cli.stdout), parseShape(quoted(/`--json`:/)), 'replay --tasks --json');
  });

  it('the values and limits it names are the code\'s', async () => {
    const table = /^\| `GET \/pushq\/queues\/Q\/tasks\?.*$/m.exec(DOC)![0];
    const states = /`state` ([^;]+);/.exec(table)![1]!.replace(/\(default\)/, '').replace(/\(or (\w+)\)/, ', $1');
    expect(states.split(/,\s*/).map((s) => s.trim()).sort()).toEqual([...TASK_STATE_FILTERS].sort());
    expect(table).toContain('`state` live (default)');
    expect(/`sort` ([^;]+);/.exec(table)![1]!.replace(/\s*\(default\)/, '').split(/,\s*/)).toEqual([...TASK_SORTS]);
    expect(table).toContain(`\`limit\` 1 to ${TASK_LIST_LIMIT_MAX.toLocaleString('en')} (default ${TASK_LIST_LIMIT_DEFAULT})`);
    expect(table).toContain(`(at most ${TASK_SEARCH_LENGTH_MAX} characters)`);
    // The page's search box takes no more than the API does (a longer text would be a 400).
    expect(/<input type="search" id="task-search" maxlength="(\d+)"/.exec(PAGE)?.[1]).toBe(String(TASK_SEARCH_LENGTH_MAX));
    expect(DOC).toContain(`A list of up to ${TASK_LIST_LIMIT_DEFAULT} tasks`);
    expect(DOC).toContain(`every S seconds (${STREAM_INTERVAL_MIN_SECONDS} to ${STREAM_INTERVAL_MAX_SECONDS}, default ${STREAM_INTERVAL_DEFAULT_SECONDS})`);
    expect(DOC).toContain(`every ${CHECKPOINT_EVENTS.toLocaleString('en')} events a **checkpoint**`);
    expect(DOC).toContain(`the first ${PAYLOAD_SHOWN_BYTES_MAX / 1024} KiB`);
    // The update intervals the page offers.
    const offered = [...PAGE.matchAll(/<option value="([\d.]+)"/g)].map((m) => m[1]);
    const said = /at the interval picked \(([^)]+) s\)/.exec(DOC)![1]!.split(/,\s*|\s+or\s+/);
    expect(said).toEqual(offered);
    // Failure reasons, series columns and marker kinds: the doc's lists, the answers' keys.
    const series = (await get('/pushq/series.json?queue=orders')).json;
    const reasons = words(/by reason \(([^)]+)\)/.exec(DOC)![1]!);
    expect(reasons.sort()).toEqual(Object.keys(series.series[0].failures).sort());
    const columns = words(/`columns` the series of docs\/simulate\.md \(([^)]+)\)/.exec(DOC)![1]!);
    expect(columns.sort()).toEqual(Object.keys(series.series[0].columns).sort());
    const kinds = words(/`kind` (`[^.]+?) or `(\w+)`/.exec(DOC)![0]!).slice(1);
    const markers = (await get('/pushq/timeline.json')).json.markers as { kind: string }[];
    expect(kinds.sort()).toEqual([...new Set(markers.map((m) => m.kind))].sort());
  });
});
