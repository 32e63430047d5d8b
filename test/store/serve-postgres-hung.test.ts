/**
 * `pushq serve --store postgres://...` (one node) on a store that takes statements and does not
 * answer them:
 * - the node's PostgreSQL backends and the postmaster stopped (SIGSTOP: real processes), where
 *   the lease's renewals are not answered either, so its own bound (about 8-13 s) comes too,
 *   after the store's;
 * - a lock another session holds on pushq_events (an operator's LOCK TABLE), which neither the
 *   renewals nor the lease touch, so the lease's bound never comes.
 * A create and a read of the log (the dashboard's past, a task's story) must each be answered 503
 * within the store's bound (--store-timeout-seconds), not wait for as long as the hang lasts:
 * STORE_TIMEOUT (a new connection to the stopped postmaster: STORE_UNAVAILABLE at the connect
 * bound; past the lease's bound, LOG_UNAVAILABLE); once the store answers again the node carries
 * on and every acknowledged task is delivered. Before the bound, both hung without end. A start
 * held up by a lock says what it waits for (the table, the session holding it) while it waits,
 * and gives up at its bound.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { waitUntil } from '../cluster/cluster-harness.js';
import { createWork, serveStoreFixture } from './serve-store-fixture.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const QUEUE_YAML = `
queue:
- name: work
  rate: 100/s
  bucket_size: 20
`;

const fx = serveStoreFixture('pushq-pgserve-hung-', QUEUE_YAML);
const { workers, children } = fx;

/** The bound given to the node: a hung statement is given up at 2 + 3 s at the latest. */
const BOUND_SECONDS = 2;
/** Far past that bound even on a loaded machine, and far short of "never". */
const ANSWER_WITHIN_MS = 40_000;

type Answer = { status: number; error?: { status: string; message: string } };

/** `path` on the serve's origin (GET, or POST with `body`), or null when not answered within ANSWER_WITHIN_MS. */
async function call(s: ServeProcess, path: string, body?: unknown): Promise<Answer | null> {
  const init: RequestInit = { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) };
  if (body !== undefined) Object.assign(init, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const res = await fetch(`${new URL(s.api).origin}${path}`, init).catch((err: unknown) => {
    if ((err as Error).name === 'TimeoutError') return null;
    throw err;
  });
  if (res === null) return null;
  const json = (await res.json()) as { error?: { status: string; message: string } };
  return json.error === undefined ? { status: res.status } : { status: res.status, error: json.error };
}

function createBody(name: string): unknown {
  return { task: { name: `projects/p/locations/l/queues/work/tasks/${name}`, appEngineHttpRequest: { relativeUri: `/k/${name}` } } };
}

const CREATE_PATH = '/v2/projects/p/locations/l/queues/work/tasks';

function expectTimedOut(a: Answer | null, what: string, stderr: string): void {
  expect(a, `${what}: answered within ${ANSWER_WITHIN_MS} ms\n${stderr}`).not.toBeNull();
  expect(a!.status, `${what}: ${JSON.stringify(a)}`).toBe(503);
  expect(a!.error?.status).toBe('UNAVAILABLE');
  expect(a!.error?.message).toContain('STORE_TIMEOUT');
  expect(a!.error?.message).not.toContain('pushq-test-secret');
}

/** What a node says on stderr, and in its refusals, once its lease on the store has lapsed (store-log.ts). */
const LEASE_LAPSED = 'was not renewed in time';

/**
 * Answered 503 while the store's processes are stopped: by either of the store's bounds, or, once
 * the stop has outlasted the node's lease, as a node whose lease lapsed (see the SIGSTOP test).
 */
async function expectAnsweredWhileHung(a: Answer | null, what: string, s: ServeProcess): Promise<void> {
  expect(a, `${what}: answered within ${ANSWER_WITHIN_MS} ms\n${s.stderr()}`).not.toBeNull();
  expect(a!.status, `${what}: ${JSON.stringify(a)}`).toBe(503);
  expect(a!.error?.status).toBe('UNAVAILABLE');
  expect(a!.error?.message).not.toContain('pushq-test-secret');
  if (a!.error?.message.includes(LEASE_LAPSED)) {
    // A refusal of a node whose lease lapsed (LOG_UNAVAILABLE), which says so on stderr when the
    // lapse comes (before it answers, but the two pipes may reach this process in either order).
    expect(a!.error.message, what).toMatch(/\(LOG_UNAVAILABLE\)$/);
    await waitUntil('the node saying its lease lapsed', () => s.stderr().includes(LEASE_LAPSED), EVENT_BOUND_MS);
  } else expect(a!.error?.message, what).toMatch(/STORE_TIMEOUT|STORE_UNAVAILABLE/);
}

async function startNode(url: string): Promise<{ s: ServeProcess; w: Worker }> {
  const w = await startWorker(() => 200);
  workers.push(w);
  const s = await startServe(['--config', fx.queueYamlPath, '--store', url, '--store-timeout-seconds', String(BOUND_SECONDS), '--target', `default=${w.url}`], 60_000);
  children.push(s);
  expect(await createWork(s.api, 'first')).toBe(200);
  await w.waitFor((r) => r.some((x) => x.url === '/k/first'), EVENT_BOUND_MS);
  return { s, w };
}

/** After the hang: creates are acknowledged again, and every acknowledged task is delivered. */
async function carriesOn(s: ServeProcess, w: Worker, acknowledged: string[]): Promise<void> {
  await waitUntil('a create acknowledged again', async () => (await createWork(s.api, 'after').catch(() => 0)) === 200, 40_000);
  acknowledged.push('after');
  await waitUntil('every acknowledged task delivered', () => acknowledged.every((n) => w.received.some((r) => r.url === `/k/${n}`)), 20_000);
  expect(s.child.exitCode, s.stderr()).toBeNull();
  s.child.kill('SIGTERM');
  expect(await s.exited, s.stderr()).toBe(0);
}

describe('pushq serve --store postgres:// on a store that does not answer', () => {
  it('its backends and the postmaster stopped (SIGSTOP): a read of the log and a create answer 503 within the bound; woken, it carries on', async () => {
    const url = await fx.pg.database();
    const { s, w } = await startNode(url);
    const db = new URL(url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: fx.pg.adminUrl });
    await admin.connect();
    let stopped: number[] = [];
    try {
      const r = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db]);
      const backends = r.rows.map((x) => x.pid);
      expect(backends.length).toBeGreaterThan(0);
      // The postmaster too (every backend's parent), so that no new connection answers either.
      const postmaster = Number(readFileSync(`/proc/${backends[0]}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
      stopped = [postmaster, ...backends];
      for (const pid of stopped) process.kill(pid, 'SIGSTOP');
      // Each statement goes to one of the node's connections, all stopped (STORE_TIMEOUT: the
      // client's bound), or to a new one that the stopped postmaster never answers
      // (STORE_UNAVAILABLE: the connect bound), as the pool chooses: a connection it had closed
      // after 10 s idle is opened again. Either way answered, 503, within the bound.
      // (The stopped connection's STORE_TIMEOUT alone: test/store/pg-hung-backend.test.ts.)
      // The lease's renewals are not answered either: once the stop outlasts its validity (sent +
      // 15 s - 15%), the node refuses changes as a node without its lease (LOG_UNAVAILABLE), also
      // 503, at once. At load 19 the read's answer came late enough for the create to meet that.
      // (A lapsed lease's refusal alone: test/store/serve-postgres-stalled.test.ts.)
      await expectAnsweredWhileHung(await call(s, '/pushq/dashboard.json?at=0'), "a read of the dashboard's past", s);
      await expectAnsweredWhileHung(await call(s, CREATE_PATH, createBody('during')), 'a create', s);
    } finally {
      for (const pid of stopped) process.kill(pid, 'SIGCONT');
      await admin.end();
    }
    await carriesOn(s, w, ['first']);
  }, 180_000);

  it('a lock another session holds on pushq_events: a create and a task story answer 503 STORE_TIMEOUT naming the lock and the session holding it; released, it carries on', async () => {
    const url = await fx.pg.database();
    const { s, w } = await startNode(url);
    const holder = new pg.Client({ connectionString: url, application_name: 'nightly-report' });
    await holder.connect();
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    let released = false;
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE pushq_events IN ACCESS EXCLUSIVE MODE');
      const story = await call(s, '/pushq/queues/work/tasks/first/story');
      expectTimedOut(story, "a task's story", s.stderr());
      expect(story!.error?.message).toMatch(/lock on pushq's tables/);
      // Who holds it: named in the answer, and on stderr while the read waited.
      // (The read's own wait, or the background flush's before it, whose failure the read is answered with.)
      const holding = new RegExp(`waiting for \\w+ on table pushq_events, held up by session pid ${holderPid} \\(user postgres, application "nightly-report", from 127\\.0\\.0\\.1, in a transaction since `);
      expect(story!.error?.message).toMatch(new RegExp(`seen while it waited: ${holding.source}`));
      expect(s.stderr()).toMatch(new RegExp(`(^|\\n)pushq serve: ${holding.source}`));
      const created = await call(s, CREATE_PATH, createBody('during'));
      expectTimedOut(created, 'a create', s.stderr());
      expect(created!.error?.message).toMatch(holding);
      await holder.query('COMMIT');
      released = true;
    } finally {
      if (!released) await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
    await carriesOn(s, w, ['first']);
  }, 180_000);

  it('a start held up by a lock on pushq_streams says what it waits for (the table, the holding session) and gives up STORE_TIMEOUT at its bound; released in time, it starts', async () => {
    const url = await fx.pg.database();
    // The tables made first (a start on an empty database creates them), then the lock taken.
    const { s } = await startNode(url);
    s.child.kill('SIGTERM');
    expect(await s.exited, s.stderr()).toBe(0);
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    let released = false;
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE pushq_streams IN ACCESS EXCLUSIVE MODE');
      const refused = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--config', fx.queueYamlPath, '--store', url, '--store-timeout-seconds', '4'], { timeoutMs: 60_000 });
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`starting: waiting for AccessShareLock on table pushq_streams, held up by session pid ${holderPid} \\(user postgres`));
      expect(refused.stderr).toContain('(STORE_TIMEOUT)');
      expect(refused.stderr).not.toContain('pushq-test-secret');

      // With the default bound (30 s), released while it waits: it goes on and starts.
      const starting = startServe(['--config', fx.queueYamlPath, '--store', url], 60_000);
      const admin = new pg.Client({ connectionString: fx.pg.adminUrl });
      await admin.connect();
      try {
        await waitUntil('the start waiting for the lock', async () => (await admin.query(`SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'pushq serve %' AND wait_event_type = 'Lock'`)).rowCount! > 0, 30_000);
      } finally {
        await admin.end();
      }
      await holder.query('COMMIT');
      released = true;
      const started = await starting;
      children.push(started);
      expect(await createWork(started.api, 'late')).toBe(200);
      started.child.kill('SIGTERM');
      expect(await started.exited, started.stderr()).toBe(0);
    } finally {
      if (!released) await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
  }, 180_000);
});
