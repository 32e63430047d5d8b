/**
 * The time `pushq serve` was not running, as the log, `pushq replay` and the figures tell it: a
 * real server on a data directory is killed with -9, started again after a measured gap, and
 *
 * - the log holds a ServiceStarted, committed before the restarted server answers anything, whose
 *   `stoppedAfter` is the last event before the kill (so a crash right after a start shows it too);
 * - a task that could have gone in the gap (its backoff ended, or its ETA came) is told as held by
 *   "pushq not running" for it, in `replay --task` text and JSON, and the queue's
 *   `wait_by_cause_task_seconds` count it as `not_running`, not as tokens or the transport (which
 *   is what they blamed before the start was logged).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';
import { startReplayUi } from '../helpers/replay-ui-process.js';
import { api, killEveryStarted, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const GAP_MS = 2500;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sum = (byCause: Record<string, number>): number => Object.values(byCause).reduce((a, b) => a + b, 0);

let dir = '';
let worker: Worker;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-downtime-'));
  // The first attempt of /fail-once answers 500; every other request 200.
  worker = await startWorker((r, n) => (r.url === '/fail-once' && n === 0 ? 500 : 200));
});

afterAll(async () => {
  await killEveryStarted();
  await worker.close();
  await rm(dir, { recursive: true, force: true });
});

interface LoggedEvent {
  type: string;
  t: number;
  stoppedAfter?: number;
  [key: string]: unknown;
}

/** The events of a data directory's log, committed or not (the file as it is). */
async function events(data: string): Promise<LoggedEvent[]> {
  const lines = (await readFile(join(data, 'events.log'), 'utf8')).split('\n').slice(1).filter((l) => l.startsWith('{"type"'));
  return lines.map((l) => JSON.parse(l) as LoggedEvent);
}

async function waitForEvent(data: string, type: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await events(data)).some((e) => e.type === type)) {
    if (Date.now() > end) throw new Error(`no ${type} in the log after 10 s`);
    await sleep(25);
  }
}

async function setUp(name: string, yaml: string): Promise<{ data: string; args: string[] }> {
  const base = join(dir, name);
  await writeFile(`${base}.yaml`, yaml);
  const data = join(base, 'data');
  return { data, args: ['--config', `${base}.yaml`, '--data', data, '--target', `default=${worker.url}`] };
}

async function killed(s: ServeProcess): Promise<number> {
  s.child.kill('SIGKILL');
  await s.exited;
  return Date.now();
}

async function stopped(s: ServeProcess): Promise<void> {
  s.child.kill('SIGTERM');
  expect(await s.exited).toBe(0);
}

function createTask(s: ServeProcess, queue: string, name: string, uri: string, scheduleTime?: string): Promise<{ status: number; json: unknown }> {
  return api('POST', `${s.api}/${queue}/tasks`, { task: { name: `projects/p/locations/l/queues/${queue}/tasks/${name}`, appEngineHttpRequest: { relativeUri: uri }, ...(scheduleTime === undefined ? {} : { scheduleTime }) } });
}

it('a backoff that ended while pushq was killed: the retry waited for "pushq not running", in the story and the queue figures', async () => {
  const { data, args } = await setUp('backoff', 'queue:\n- name: work\n  rate: 50/s\n  bucket_size: 1\n  retry_parameters:\n    min_backoff_seconds: 0.5\n    max_backoff_seconds: 0.5\n');
  const first = await startServe(args);
  expect((await createTask(first, 'work', 'retried', '/fail-once')).status).toBe(200);
  await waitForEvent(data, 'AttemptFailed');
  const killedAt = await killed(first);
  await sleep(GAP_MS);
  const second = await startServe(args);
  const startedAt = Date.now();
  await worker.waitFor((rs) => rs.filter((r) => r.url === '/fail-once' && r.answered === 200).length === 1, EVENT_BOUND_MS, 'the retry');
  await stopped(second);

  const logged = await events(data);
  const failed = logged.find((e) => e.type === 'AttemptFailed') as LoggedEvent & { retryAt: number };
  const start = logged.find((e) => e.type === 'ServiceStarted') as LoggedEvent;
  // The start is logged once, after the last event before the kill (the failure), in the measured gap.
  expect(logged.filter((e) => e.type === 'ServiceStarted')).toHaveLength(1);
  expect(start.stoppedAfter).toBe(failed.t);
  expect(logged[logged.indexOf(start) - 1]).toBe(failed);
  expect(start.t - failed.t).toBeGreaterThanOrEqual(GAP_MS * 1000);
  expect(start.t).toBeLessThanOrEqual(startedAt * 1000);
  expect(startedAt - killedAt).toBeGreaterThanOrEqual(GAP_MS);

  const json = await pushq(['replay', join(data, 'events.log'), '--task', 'retried', '--json']);
  expect(json.code, json.stderr).toBe(0);
  const retry = JSON.parse(json.stdout).attempts[1];
  // It could go at its backoff's end, in the gap: from there to the start, pushq was not running;
  // the start dispatched it at once (its timers fire as it starts: no more than a few ms).
  const gapUs = start.t - failed.retryAt;
  expect(retry.held_by_seconds.not_running).toBe(gapUs / 1e6);
  expect(retry.waited_seconds).toBeGreaterThan(GAP_MS / 1000 - 0.5);
  expect(retry.waited_seconds - gapUs / 1e6).toBeLessThan(0.1);
  expect(sum(retry.held_by_seconds)).toBeCloseTo(retry.waited_seconds, 6);

  const text = await pushq(['replay', join(data, 'events.log'), '--task', 'retried']);
  expect(text.code, text.stderr).toBe(0);
  expect(text.stdout).toContain(`    waited ${retry.waited_seconds}s from when it could go, held by pushq not running ${gapUs / 1e6}s`);

  const figures = await pushq(['replay', join(data, 'events.log'), '--json']);
  expect(figures.code, figures.stderr).toBe(0);
  const causes = JSON.parse(figures.stdout).queues.work.stats.wait_by_cause_task_seconds;
  expect(Object.keys(causes)).toEqual(['tokens', 'concurrency', 'paused', 'disabled', 'transport', 'not_running']);
  expect(causes.not_running).toBe(gapUs / 1e6);
  expect(sum(causes)).toBeCloseTo(retry.waited_seconds, 6);

  // The dashboard over the log: the start is marked on the timeline, the story says the same.
  const ui = await startReplayUi(join(data, 'events.log'));
  try {
    const timeline = (await api('GET', `${ui.url}/pushq/timeline.json`)).json as { markers: { atSeconds: number; kind: string; queue: string | null }[] };
    const firstT = (logged[0] as LoggedEvent).t;
    expect(timeline.markers.filter((m) => m.kind === 'restart')).toEqual([{ atSeconds: (start.t - firstT) / 1e6, kind: 'restart', queue: null }]);
    const story = (await api('GET', `${ui.url}/pushq/queues/work/tasks/retried/story`)).json as { attempts: { heldBySeconds: Record<string, number> }[] };
    expect(story.attempts[1]?.heldBySeconds.not_running).toBe(gapUs / 1e6);
    const dashboard = (await api('GET', `${ui.url}/pushq/dashboard.json`)).json as { summary: Record<string, { stats: { wait_by_cause_task_seconds: Record<string, number> } }> };
    expect(dashboard.summary.work?.stats.wait_by_cause_task_seconds.not_running).toBe(gapUs / 1e6);
  } finally {
    ui.child.kill('SIGTERM');
    await ui.exited;
  }
}, 40_000);

it('an ETA that came while pushq was killed; the start is committed before the server answers, so a kill right after it still shows it', async () => {
  const { data, args } = await setUp('eta', 'queue:\n- name: later\n  rate: 50/s\n');
  const first = await startServe(args);
  const etaMs = Date.now() + 800;
  expect((await createTask(first, 'later', 'scheduled', '/scheduled', new Date(etaMs).toISOString())).status).toBe(200);
  const killedAt = await killed(first);
  await sleep(GAP_MS);

  // Started, then killed again as soon as it says it listens: the start is in the file, committed.
  const second = await startServe(args);
  await killed(second);
  const log = await readFile(join(data, 'events.log'), 'utf8');
  const lines = log.trimEnd().split('\n');
  const at = lines.findIndex((l) => l.startsWith('{"type":"ServiceStarted"'));
  expect(at, log).toBeGreaterThan(0);
  expect(lines[at + 1]).toMatch(/^\{"commit":\d+,"n":1,"crc":"[0-9a-f]{8}"\}$/);
  const added = (await events(data)).find((e) => e.type === 'TaskAdded') as LoggedEvent & { eta: number };
  const firstStart = JSON.parse(lines[at] as string) as LoggedEvent;
  expect(firstStart.stoppedAfter).toBe(added.t);
  expect(firstStart.t - added.t).toBeGreaterThanOrEqual(GAP_MS * 1000);

  await sleep(300);
  const third = await startServe(args);
  await worker.waitFor((rs) => rs.some((r) => r.url === '/scheduled' && r.answered === 200), EVENT_BOUND_MS, 'the scheduled task');
  await stopped(third);
  expect(Date.now() - killedAt).toBeGreaterThan(GAP_MS);

  const logged = await events(data);
  const starts = logged.filter((e) => e.type === 'ServiceStarted');
  expect(starts).toHaveLength(2);
  // The second start's stop came after the first start's last event: whatever that run logged.
  const beforeSecond = logged[logged.indexOf(starts[1] as LoggedEvent) - 1] as LoggedEvent;
  expect((starts[1] as LoggedEvent).stoppedAfter).toBe(beforeSecond.t);

  const json = await pushq(['replay', join(data, 'events.log'), '--task', 'scheduled', '--json']);
  expect(json.code, json.stderr).toBe(0);
  const story = JSON.parse(json.stdout);
  // However the second run's short life went (it may have dispatched the task before its kill),
  // the first attempt waited from the ETA through the first gap and no limit held it.
  const firstAttempt = story.attempts[0];
  expect(firstAttempt.held_by_seconds.not_running).toBeGreaterThanOrEqual((firstStart.t - added.eta) / 1e6);
  expect(firstAttempt.held_by_seconds.not_running).toBeGreaterThan(GAP_MS / 1000 - 1);
  expect(firstAttempt.waited_seconds - firstAttempt.held_by_seconds.not_running).toBeLessThan(0.2);
  expect(sum(firstAttempt.held_by_seconds)).toBeCloseTo(firstAttempt.waited_seconds, 6);

  // The queue's figures count the same span: a task ready (its ETA come) while nothing ran.
  const figures = await pushq(['replay', join(data, 'events.log'), '--json']);
  expect(figures.code, figures.stderr).toBe(0);
  const causes = JSON.parse(figures.stdout).queues.later.stats.wait_by_cause_task_seconds;
  expect(causes.not_running).toBeGreaterThanOrEqual((firstStart.t - added.eta) / 1e6);
  expect(causes.tokens + causes.concurrency + causes.transport).toBeLessThan(0.2);
}, 40_000);
