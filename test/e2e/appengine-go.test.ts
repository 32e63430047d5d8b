/**
 * An App Engine app's own Task Queue calls, unchanged, served by pushq: a Go program using
 * Google's Go library for the bundled services (Debian's golang-google-appengine-dev, installed by
 * .ci/ensure-go.sh before the tests) is built here and run against a real `pushq serve` on
 * loopback, with a real worker, by the command docs/app-engine.md gives (GOPATH mode, Debian's
 * GOPATH), taken from the doc. The library sends each call to POST /rpc_http as App Engine's
 * API server receives it; the program prints what every call returned
 * (test/fixtures/appengine-go/main.go).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, api, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const run = promisify(execFile);
const LIBRARY = '/usr/share/gocode/src/google.golang.org/appengine/taskqueue/taskqueue.go';
/** The command docs/app-engine.md gives for Debian's packages (its sh block after "Debian installs it"). */
const RECIPE = (() => {
  const doc = readFileSync(join(ROOT, 'docs', 'app-engine.md'), 'utf8');
  const m = /```sh\n([\s\S]*?)```/.exec(doc.slice(doc.indexOf('Debian installs it')));
  if (m === null) throw new Error('docs/app-engine.md: no sh block after "Debian installs it"');
  return m[1]!.trim();
})();
const RATE_PER_SECOND = 4;
const BATCH = 8;

const YAML = `
queue:
- name: rated
  rate: ${RATE_PER_SECOND}/s
  bucket_size: 1
- name: held
  rate: 0
`;

let dir: string;
let worker: Worker;
let serve: ServeProcess;
let out: any;

beforeAll(async () => {
  if (!existsSync(LIBRARY)) throw new Error(`Google's App Engine Go library is not at ${LIBRARY}: run bash .ci/ensure-go.sh (Debian: apt-get install golang-go golang-google-appengine-dev)`);
  dir = await mkdtemp(join(tmpdir(), 'pushq-appengine-go-'));
  await writeFile(join(dir, 'queue.yaml'), YAML);
  worker = await startWorker();
  serve = await startServe(['--config', join(dir, 'queue.yaml'), '--memory', '--target', `default=${worker.url}`]);
  const port = new URL(serve.url).port;
  // docs/app-engine.md's command, as written but for the port, run by a shell in the program's
  // directory: what a user of Debian's packages types. The environment holds only PATH, HOME and
  // the build cache (kept between runs), so the command itself must say everything else.
  const command = RECIPE.replace(/\bAPI_PORT=8123\b/, `API_PORT=${port}`);
  expect(command).toContain(`API_PORT=${port}`);
  const { stdout } = await run('sh', ['-c', command], {
    cwd: join(ROOT, 'test/fixtures/appengine-go'),
    timeout: 300_000,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? tmpdir(), GOCACHE: join(tmpdir(), 'pushq-gocache') },
  });
  out = JSON.parse(stdout);
}, 330_000);

afterAll(async () => {
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  await worker?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('taskqueue from Google\'s Go library, through pushq', () => {
  it('adds one task: the worker receives the form POST with App Engine\'s headers and the library\'s namespace header', async () => {
    expect(out.single).toMatch(/\S/);
    await worker.waitFor((rs) => rs.some((r) => r.url === '/single'), EVENT_BOUND_MS, 'the single task');
    const r = worker.forUrl('/single')[0]!;
    expect(r.method).toBe('POST');
    expect(new URLSearchParams(r.body.toString())).toEqual(new URLSearchParams({ n: '1', word: 'hé llo' }));
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(r.headers['x-appengine-queuename']).toBe('default');
    expect(r.headers['x-appengine-taskname']).toBe(out.single);
    expect(r.headers['x-appengine-taskretrycount']).toBe('0');
    expect(r.headers['x-appengine-taskexecutioncount']).toBe('0');
    expect(r.headers['x-appengine-tasketa']).toMatch(/^\d+\.\d{6}$/);
    expect(r.headers['x-appengine-current-namespace']).toBe('');
    expect(r.headers['user-agent']).toMatch(/AppEngine-Google/);
  });

  it('a header with two values (Go http.Header.Add twice) reaches the worker with both', async () => {
    await worker.waitFor((rs) => rs.some((r) => r.url === '/repeated'), EVENT_BOUND_MS, 'the task with a repeated header');
    const r = worker.forUrl('/repeated')[0]!;
    expect(r.headers['x-appengine-taskname']).toBe(out.repeated);
    // Node joins a repeated request header with ", ".
    expect(r.headers['x-tag']).toBe('a, b');
  });

  it('adds a batch: every task is dispatched, under the queue\'s rate (bucket 1)', async () => {
    expect(out.batch).toHaveLength(BATCH);
    expect(new Set(out.batch).size).toBe(BATCH);
    await worker.waitFor((rs) => rs.filter((r) => r.url.startsWith('/batch/')).length === BATCH, 20_000, 'the batch');
    const got = worker.forUrl('/batch/');
    expect(got.map((r) => r.headers['x-appengine-queuename'])).toEqual(Array(BATCH).fill('rated'));
    expect(new Set(got.map((r) => r.headers['x-appengine-taskname']))).toEqual(new Set(out.batch));
    // A token bucket of 1 at 4/s: each dispatch empties it, so task j goes no sooner than
    // (j - i) / rate after task i (the engine's own dispatch times, from each task's story: exact,
    // whatever the load; 1 µs for rounding).
    const dispatchedUs: number[] = [];
    for (const name of out.batch) {
      const story = await api('GET', `${serve.url}/pushq/queues/rated/tasks/${name}/story`);
      expect(story.status).toBe(200);
      dispatchedUs.push(story.json.attempts[0].dispatchedAtUs);
    }
    dispatchedUs.sort((a, b) => a - b);
    const periodUs = 1_000_000 / RATE_PER_SECOND;
    for (let i = 0; i < BATCH; i++) {
      for (let j = i + 1; j < BATCH; j++) expect(dispatchedUs[j]! - dispatchedUs[i]!, `dispatches ${i} → ${j}`).toBeGreaterThanOrEqual((j - i) * periodUs - 1);
    }
    // And as the worker saw them: the batch took at least that long to arrive, give or take the
    // arrival jitter of a loaded machine (a first request also waits for its connection).
    const at = got.map((r) => r.atMs).sort((a, b) => a - b);
    expect(at[at.length - 1]! - at[0]!).toBeGreaterThanOrEqual(((BATCH - 1) / RATE_PER_SECOND) * 1000 - 500);
  });

  it('a named task added twice: the second Add returns taskqueue.ErrTaskAlreadyAdded; in a batch only that slot fails', () => {
    expect(out.namedFirst).toBe('ok');
    expect(out.alreadyAdded).toBe(true);
    expect(out.namedAgain).toBe('taskqueue: task has already been added');
    expect(out.batchAlready).toEqual(['ok', 'taskqueue: task has already been added']);
  });

  it('deletes a task; deleting it again is TOMBSTONED_TASK', () => {
    expect(out.deleted).toBe('ok');
    expect(out.deletedAgain).toMatch(/^API error 11 \(taskqueue: TOMBSTONED_TASK\)/);
    expect(worker.forUrl('/never')).toHaveLength(0);
  });

  it('reads queue stats (tasks waiting, the oldest ETA, the enforced rate) and purges a queue', () => {
    expect(out.statsBefore).toBe(3);
    expect(out.oldestSet).toBe(true);
    expect(out.purged).toBe('ok');
    expect(out.statsAfter).toBe(0);
    expect(out.enforcedRate).toBe(RATE_PER_SECOND);
    expect(out.retryAdded).toBe('ok');
  });

  it('an undefined queue is the library\'s UNKNOWN_QUEUE error, naming the queue', () => {
    expect(out.unknownQueue).toMatch(/^API error 1 \(taskqueue: UNKNOWN_QUEUE\): queue "no-such-queue" is not defined/);
  });

  it('the tasks are in the same engine as the Cloud Tasks API: listed there, with their story', async () => {
    const held = await api('GET', `${serve.api}/held/tasks`);
    expect(held.status).toBe(200);
    // Purged, then one task with retry options added after the purge.
    expect(held.json.tasks).toHaveLength(1);
    const story = await api('GET', `${serve.url}/pushq/queues/default/tasks/${out.single}/story`);
    expect(story.status).toBe(200);
  });
});
