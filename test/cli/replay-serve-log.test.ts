/**
 * `pushq replay` on a log written by a real `pushq serve` (a wall clock: times are instants), with a
 * real worker on 127.0.0.1 and a restart of the service while a task waited out its backoff:
 *
 * - task `r` fails its first attempt (500) and waits 1 s of backoff; the service is stopped
 *   meanwhile and started again on the same data directory after the backoff's end, so its second
 *   attempt goes out late (the log's BackoffElapsed is stamped at the restart, not at the backoff's end);
 * - task `again` succeeds, `POST /pushq/reset` frees its name, and a second task `again` succeeds.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';
import { api, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { startReplayUi } from '../helpers/replay-ui-process.js';

let dir = '';
let log = '';
let worker: Worker;

const QUEUE_YAML = `queue:
- name: q
  rate: 10/s
  retry_parameters:
    min_backoff_seconds: 1
    max_backoff_seconds: 1
`;

async function stop(serve: ServeProcess): Promise<void> {
  serve.child.kill('SIGTERM');
  await serve.exited;
}

async function createTask(serve: ServeProcess, name: string, uri: string): Promise<void> {
  const r = await api('POST', `${serve.api}/q/tasks`, { task: { name: `projects/p/locations/l/queues/q/tasks/${name}`, appEngineHttpRequest: { relativeUri: uri } } });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
}

/** Resolves when the worker has answered `n` requests for `url`. */
function answered(url: string, n: number): Promise<void> {
  return worker.waitFor((rs) => rs.filter((r) => r.url === url && r.answered !== undefined).length >= n, 20_000, `${n} answered requests for ${url}`);
}

/** Resolves when the log holds `n` lines matching `pattern` (the service syncs before it answers, but reads need not wait for that). */
async function logged(pattern: RegExp, n: number): Promise<void> {
  const end = Date.now() + 20_000;
  for (;;) {
    const count = readFileSync(log, 'utf8').split('\n').filter((l) => pattern.test(l)).length;
    if (count >= n) return;
    if (Date.now() > end) throw new Error(`the log did not get ${n} lines matching ${pattern}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pushq-replay-serve-log-'));
  log = join(dir, 'data', 'events.log');
  writeFileSync(join(dir, 'queue.yaml'), QUEUE_YAML);
  // `/r` fails its first attempt only; everything else succeeds.
  worker = await startWorker((r) => (r.url === '/r' && r.headers['x-appengine-taskretrycount'] === '0' ? 500 : 200));
  const args = ['--config', join(dir, 'queue.yaml'), '--target', `default=${worker.url}`, '--data', join(dir, 'data'), '--allow-reset'];
  const first = await startServe(args);
  await createTask(first, 'r', '/r');
  await answered('/r', 1);
  await logged(/"type":"AttemptFailed"/, 1);
  const failedAt = Date.now();
  await stop(first);
  // Down past the backoff's end (1 s after the failure), by at least a second more.
  await new Promise((r) => setTimeout(r, Math.max(0, failedAt + 2_000 - Date.now())));
  const second = await startServe(args);
  await answered('/r', 2);
  await createTask(second, 'again', '/ok');
  await answered('/ok', 1);
  expect((await api('POST', `${second.url}/pushq/reset`, {})).status).toBe(200);
  await createTask(second, 'again', '/ok');
  await answered('/ok', 2);
  await logged(/"type":"AttemptSucceeded"/, 3);
  await stop(second);
}, 90_000);

afterAll(async () => {
  await worker?.close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

it("replay --task: a retry a restart delayed waited from its backoff's end, as --tasks and the queue's wait figures count it", async () => {
  const story = await pushq(['replay', log, '--task', 'r', '--json']);
  expect(story.code, story.stderr).toBe(0);
  const attempts = JSON.parse(story.stdout).attempts;
  expect(attempts).toHaveLength(2);
  const retry = attempts[1];
  // The service was down from before the backoff's end until at least a second after it.
  expect(retry.waited_seconds).toBeGreaterThanOrEqual(1);
  // And what held it explains all of that wait, as it does for every other wait (docs/simulate.md).
  const held = Object.values(retry.held_by_seconds as Record<string, number>).reduce((a, b) => a + b, 0);
  expect(held).toBeCloseTo(retry.waited_seconds, 5);
  const list = await pushq(['replay', log, '--tasks', 'longest-wait', '--json']);
  expect(list.code, list.stderr).toBe(0);
  const row = JSON.parse(list.stdout).tasks.find((t: { task: string }) => t.task === 'r');
  expect(row.waited_seconds).toBe(retry.waited_seconds);
  expect(row.longest_wait_seconds).toBe(retry.waited_seconds);
  const stats = JSON.parse((await pushq(['replay', log, '--json'])).stdout).queues.q.stats;
  expect(stats.wait_seconds.max).toBe(retry.waited_seconds);
  const text = await pushq(['replay', log, '--task', 'r']);
  expect(text.stdout).toContain(`    waited ${retry.waited_seconds}s from when it could go`);
});

it('replay --task --json: a reused name says, as the text does, that its story is the latest of several, and which task it is', async () => {
  const text = await pushq(['replay', log, '--task', 'again']);
  expect(text.code, text.stderr).toBe(0);
  const id = Number(/^task again in queue q \(id (\d+)\): succeeded \(the latest of 2 tasks with this name\)\n/.exec(text.stdout)?.[1]);
  const json = await pushq(['replay', log, '--task', 'again', '--json']);
  expect(json.code, json.stderr).toBe(0);
  expect(JSON.parse(json.stdout)).toMatchObject({ task: 'again', state: 'succeeded', id, same_name: 2 });
  // Before the reset only the first had the name: it is the one told, alone.
  const resetAt = /"type":"QueuePurged","t":(\d+)/.exec(readFileSync(log, 'utf8'))?.[1] as string;
  const before = new Date(Math.floor(Number(resetAt) / 1000) - 1).toISOString();
  const earlier = await pushq(['replay', log, '--task', 'again', '--json', '--at', before]);
  expect(earlier.code, earlier.stderr).toBe(0);
  const first = JSON.parse(earlier.stdout);
  expect(first.same_name).toBe(1);
  expect(first.id).toBeLessThan(id);
});

it("replay --json on a serve log: the figures' instants are seconds since the first event (first_event_at), which --at takes as they are", async () => {
  const r = await pushq(['replay', log, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout);
  const span = (Date.parse(out.last_event_at) - Date.parse(out.first_event_at)) / 1000;
  expect(span).toBeGreaterThan(1);
  const stats = out.queues.q.stats;
  const instants = [stats.first_dispatch_at_seconds, stats.last_dispatch_at_seconds, stats.backlog_max_at_seconds, stats.drained_at_seconds];
  for (const s of instants) {
    expect(s).toBeGreaterThanOrEqual(0);
    // Within the log's span (less than a millisecond beyond: the ISO times are whole milliseconds).
    expect(s).toBeLessThan(span + 0.001);
  }
  // The drain is the last task's end: `--at` there shows the queue drained, and says the same drain.
  const at = await pushq(['replay', log, '--json', '--at', String(stats.drained_at_seconds)]);
  expect(at.code, at.stderr).toBe(0);
  const then = JSON.parse(at.stdout);
  expect(then.at_seconds).toBe(stats.drained_at_seconds);
  expect(then.queues.q.stats.drained_at_seconds).toBe(stats.drained_at_seconds);
  expect(then.queues.q.stats.pending).toBe(0);
});

it("an ISO 8601 --at or ?at= names a real instant: a day its month does not have is refused (typed), not rolled over to the next month", async () => {
  const cli = await pushq(['replay', log, '--at', '2026-02-30T00:00:00Z']);
  expect(cli.code).toBe(2);
  expect(cli.stderr.split('\n')[0]).toBe('pushq replay: --at 2026-02-30T00:00:00Z: not an instant: a date, hour, minute, second or zone out of its range (e.g. a day its month does not have)');
  const ui = await startReplayUi(log);
  try {
    // The API's ?at= takes the same ISO 8601 instants as --at, in a wall-clock log: the same state as its seconds.
    const first = JSON.parse((await pushq(['replay', log, '--json'])).stdout).first_event_at as string;
    const iso = new Date(Date.parse(first) + 1500).toISOString();
    const byIso = await api('GET', `${ui.url}/pushq/dashboard.json?at=${iso}`);
    expect(byIso.status, JSON.stringify(byIso.json)).toBe(200);
    const seconds = byIso.json.atSeconds as number;
    // first_event_at is in whole milliseconds (the log's µs cut): 1.5 s after it, less that cut.
    expect(seconds).toBeGreaterThan(1.499);
    expect(seconds).toBeLessThanOrEqual(1.5);
    expect(byIso.json.at).toBe(seconds);
    const bySeconds = await api('GET', `${ui.url}/pushq/dashboard.json?at=${seconds}`);
    expect(bySeconds.json.summary).toEqual(byIso.json.summary);
    const bad = await api('GET', `${ui.url}/pushq/dashboard.json?at=2026-02-30T00:00:00Z`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain('not an instant');
    const neither = await api('GET', `${ui.url}/pushq/dashboard.json?at=yesterday`);
    expect(neither.status).toBe(400);
    expect(JSON.stringify(neither.json)).toContain('nor an ISO 8601 instant');
  } finally {
    ui.child.kill('SIGTERM');
    await ui.exited;
  }
});
