/**
 * `pushq serve --store postgres://...` on one node, against a real PostgreSQL (the throwaway
 * cluster): acknowledged CreateTasks survive kill -9 (they are in the store), a restart replays
 * from the store; bad stores are refused at start with the URL (password hidden), exit 1, nothing
 * written; losing the store while running answers UNAVAILABLE and carries on when it returns.
 */
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PG_PASSWORD, freePort } from '../helpers/pg-cluster.js';
import { pushq } from '../helpers/cli.js';
import { startServe } from '../helpers/serve-process.js';
import { startWorker } from '../helpers/worker.js';
import { count, rows } from '../cluster/cluster-harness.js';
import { redactUrl } from '../../src/store/store.js';
import { SHORT_LEASE, createWork, serveStoreFixture } from './serve-store-fixture.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const QUEUE_YAML = `
queue:
- name: work
  rate: 200/s
  bucket_size: 20
  retry_parameters:
    min_backoff_seconds: 0.1
    max_backoff_seconds: 0.2
`;

const fx = serveStoreFixture('pushq-pgserve-', QUEUE_YAML);
const { workers, children } = fx;
const create = createWork;

describe('pushq serve --store postgres://', () => {
  it('delivers every acknowledged task after kill -9 and a restart that replays from the store', async () => {
    const url = await fx.pg.database();
    const w = await startWorker((_r, n) => (n === 0 ? { status: 500, delayMs: 150 } : { status: 200, delayMs: 20 }));
    workers.push(w);
    const args = ['--config', fx.queueYamlPath, '--store', url, '--target', `default=${w.url}`];
    // Its lease the default 15 s, renewed every 5 s: at least two thirds of it remain at the kill,
    // for the refused start below (8 s, as it was, ran out first at load 16: that start was taken).
    const first = await startServe(args, 60_000);
    children.push(first);
    expect(first.stdout()).toContain('(PostgreSQL)');
    expect(first.stdout()).not.toContain(PG_PASSWORD);
    const acknowledged: string[] = [];
    let killed = false;
    let next = 0;
    const loop = async (): Promise<void> => {
      while (!killed && next < 400) {
        const name = `k${next++}`;
        try {
          if ((await create(first.api, name)) === 200) acknowledged.push(name);
        } catch {
          return; // the server is gone: not acknowledged
        }
        if (!killed && acknowledged.length >= 120) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, loop));
    expect(await first.exited).toBe('SIGKILL');
    const killedAtMs = Date.now();
    // Acknowledged means in the store: every one has its TaskAdded there before the restart.
    const added = await count(url, `SELECT count(*) AS n FROM pushq_events WHERE body LIKE '{"type":"TaskAdded"%'`);
    expect(added).toBeGreaterThanOrEqual(acknowledged.length);
    // When the killed node's lease runs out, as the store has it (its clock is this machine's).
    const leaseEndsMs = await count(url, "SELECT (extract(epoch FROM lease_expires_at) * 1000)::BIGINT AS n FROM pushq_streams WHERE stream = '~node'");

    // The killed node's lease runs on unrenewed: a start before it runs out is refused, saying
    // whose it is and when it runs out, and (this command's own lease, the default) how long a
    // lease lasts; a start after that takes the log over.
    const early = await pushq(['serve', '--port', '0', '--grpc-port', '0', ...args], { timeoutMs: 20_000 });
    const taken = early.code === 0 && /API http/.test(early.stdout);
    if (!taken) {
      expect(early.code, early.stderr).toBe(1);
      expect(early.stderr).toMatch(/another pushq serve \(serve@[^)]+:\d+:[0-9a-f]+\) holds this store's log: its lease runs out in \d+ s/);
      expect(early.stderr).toContain('start again once its lease has run out (15 s after its last renewal)');
      const runsOut = Number(/runs out in (\d+) s/.exec(early.stderr)![1]);
      expect(runsOut).toBeLessThanOrEqual(15);
      await new Promise((r) => setTimeout(r, Math.max(0, leaseEndsMs - Date.now()) + 500));
    }
    // Else taken, not refused: legitimate only when this start came after the lease ran out (it
    // took longer than the ten seconds or more left of it, on a loaded machine), which its
    // ServiceStarted shows below. It ran until the bound's SIGTERM, a clean stop (exit 0) that
    // gives the lease back.
    const second = await startServe(args, 60_000);
    children.push(second);
    expect(Number(/replayed (\d+) events?\b/.exec(second.stdout())?.[1] ?? 0)).toBeGreaterThan(0);
    // Its start is in the store before it answered anything: a ServiceStarted whose span (from the
    // last event the killed one logged) covers the wait for the lease: pushq was not running. The
    // first start after the kill came once the lease had run out, by the store's own lease row.
    const starts = await rows<{ body: string }>(url, `SELECT body FROM pushq_events WHERE body LIKE '{"type":"ServiceStarted"%' ORDER BY position`);
    expect(starts).toHaveLength(taken ? 2 : 1);
    const started = JSON.parse(starts[0]!.body) as { t: number; stoppedAfter: number };
    expect(started.stoppedAfter).toBeLessThanOrEqual(killedAtMs * 1000);
    expect(started.t).toBeGreaterThanOrEqual(leaseEndsMs * 1000);
    const delivered = (name: string): boolean => w.received.some((r) => r.url === `/k/${name}` && r.answered !== undefined && r.answered >= 200 && r.answered < 300);
    await w.waitFor(() => acknowledged.every(delivered), 30_000, `all ${acknowledged.length} acknowledged tasks delivered with 2xx`);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 180_000);

  it('refuses a second single node on the same store while the first holds its lease: exit 1, the holder named, the first untouched', async () => {
    const url = await fx.pg.database();
    const w = await startWorker(() => 200);
    workers.push(w);
    // SHORT_LEASE: renewed every 1.7 s, not 5 s, so the renewal waited for below comes sooner.
    const first = await startServe(['--config', fx.queueYamlPath, '--store', url, '--target', `default=${w.url}`], 60_000, undefined, SHORT_LEASE);
    children.push(first);
    expect(await create(first.api, 'one')).toBe(200);
    const epochs = await count(url, "SELECT epoch AS n FROM pushq_streams WHERE stream = '~node'");
    // Another process on the same host, with other settings (no --config: only the default queue).
    const second = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--store', url], { timeoutMs: 20_000 });
    expect(second.code, second.stderr).toBe(1);
    expect(second.stdout).not.toContain('API http');
    expect(second.stderr).toMatch(/cannot open the store: postgres:\/\/[^ ]+: another pushq serve \(serve@[^)]+\) holds this store's log: its lease runs out in \d+ s \(at \d{4}-[^)]+\)/);
    expect(second.stderr).toContain('(STORE_FAILED)');
    expect(await count(url, "SELECT epoch AS n FROM pushq_streams WHERE stream = '~node'")).toBe(epochs);
    // Past a renewal (every third of its lease) the first still holds its lease, serves and dispatches. The
    // renewal is seen in the store: the lease's expiry moves on (it was a fixed 6 s wait).
    const expiry = (): Promise<number> => count(url, "SELECT (extract(epoch FROM lease_expires_at) * 1000)::BIGINT AS n FROM pushq_streams WHERE stream = '~node'");
    const refusedAt = await expiry();
    const renewedBy = Date.now() + 10_000;
    while ((await expiry()) <= refusedAt) {
      expect(Date.now(), 'the first renews its lease within 10 s').toBeLessThan(renewedBy);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(first.child.exitCode, first.stderr()).toBeNull();
    expect(first.stderr()).not.toContain('deposed');
    expect(await create(first.api, 'two')).toBe(200);
    await w.waitFor((r) => r.some((x) => x.url === '/k/two'), EVENT_BOUND_MS);
    first.child.kill('SIGTERM');
    expect(await first.exited, first.stderr()).toBe(0);
  }, 120_000);

  it('refuses an unreachable store, wrong credentials and another schema version at start: exit 1, URL without its password, nothing written', async () => {
    const port = await freePort();
    const unreachable = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--store', `postgres://u:hunter2@127.0.0.1:${port}/db`]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(`postgres://u:***@127.0.0.1:${port}/db`);
    expect(unreachable.stderr).toContain('STORE_UNAVAILABLE');
    expect(unreachable.stderr).not.toContain('hunter2');

    const url = await fx.pg.database();
    const wrong = url.replace(PG_PASSWORD, 'not-the-password');
    const refused = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--store', wrong]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('STORE_AUTH_FAILED');
    expect(refused.stderr).toContain('***');
    expect(refused.stderr).not.toContain('not-the-password');
    expect(await count(url, `SELECT count(*) AS n FROM information_schema.tables WHERE table_name LIKE 'pushq_%'`)).toBe(0);

    // A store another pushq version made: same tables, another schema version.
    const other = await fx.pg.database();
    const s = await startServe(['--store', other], 60_000);
    children.push(s);
    s.child.kill('SIGTERM');
    await s.exited;
    const c = new pg.Client({ connectionString: other });
    await c.connect();
    await c.query('UPDATE pushq_schema SET version = 99');
    await c.end();
    const before = await count(other, 'SELECT count(*) AS n FROM pushq_events');
    const mismatch = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--store', other]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain('STORE_SCHEMA_MISMATCH');
    expect(mismatch.stderr).toContain('version 99');
    expect(await count(other, 'SELECT count(*) AS n FROM pushq_events')).toBe(before);
  }, 180_000);

  it('losing the store while running: CreateTask is UNAVAILABLE, dispatching pauses, and it carries on when the store returns, nothing acknowledged lost', async () => {
    const url = await fx.pg.database();
    const w = await startWorker(() => 200);
    workers.push(w);
    const s = await startServe(['--config', fx.queueYamlPath, '--store', url, '--target', `default=${w.url}`], 60_000);
    children.push(s);
    expect(await create(s.api, 'before')).toBe(200);
    await w.waitFor((r) => r.some((x) => x.url === '/k/before'), EVENT_BOUND_MS);
    fx.pg.halt();
    try {
      // A create that races the loss is applied, then its commit fails: answered 503 (not
      // acknowledged), its batch kept for the next flush, so it may still run (at-least-once; the
      // docs say so). Once the loss is known, the kernel refuses creates before taking them.
      let probe = 0;
      for (let i = 0; i < 50 && probe !== 503; i++) probe = await create(s.api, `probe${i}`);
      expect(probe).toBe(503);
      const status = await create(s.api, 'during');
      expect(status).toBe(503);
      const res = await fetch(`${s.api}/work/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ task: { appEngineHttpRequest: { relativeUri: '/k/during2' } } }),
      });
      const body = (await res.json()) as { error: { status: string } };
      expect(body.error.status).toBe('UNAVAILABLE');
    } finally {
      fx.pg.resume();
    }
    // Back: new tasks are taken and delivered; the first one is still in the store.
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      // A request on a keep-alive connection the server closed meanwhile fails without an answer
      // (seen once in ~5 runs; not yet explained, see the report): tried again, the server must be alive.
      status = await create(s.api, `after${i}`).catch(() => 0);
      expect(s.child.exitCode, s.stderr()).toBeNull();
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
    await w.waitFor((r) => r.some((x) => x.url.startsWith('/k/after')), EVENT_BOUND_MS);
    expect(w.received.some((x) => x.url === '/k/during')).toBe(false);
    s.child.kill('SIGTERM');
    expect(await s.exited, s.stderr()).toBe(0);
    expect(await count(url, `SELECT count(*) AS n FROM pushq_events WHERE body LIKE '%"before"%' AND body LIKE '{"type":"TaskAdded"%'`)).toBe(1);
  }, 180_000);

  it('pushq replay reads the store (--queue, --task), and --export writes it as a file log that replays the same', async () => {
    const url = await fx.pg.database();
    const w = await startWorker(() => 200);
    workers.push(w);
    const s = await startServe(['--config', fx.queueYamlPath, '--store', url, '--target', `default=${w.url}`], 60_000);
    children.push(s);
    for (const name of ['r1', 'r2', 'r3']) expect(await create(s.api, name)).toBe(200);
    await w.waitFor((r) => r.filter((x) => x.url.startsWith('/k/r')).length === 3, EVENT_BOUND_MS);
    // The dashboard's task story is read back from the store.
    const res = await fetch(`${s.url}/pushq/queues/work/tasks/r2/story`);
    const live = await res.text();
    expect(res.status, live).toBe(200);
    expect(live).toContain('r2');
    // Time travel on the dashboard reads the stream back from the store: the figures at an instant
    // are `pushq replay --at`'s (checked below), also asked twice at once, and again once the log grew.
    const at = async (seconds: number): Promise<{ summary: Record<string, unknown> }> => {
      const r = await fetch(`${s.url}/pushq/dashboard.json?at=${seconds}`);
      const text = await r.text();
      expect(r.status, text).toBe(200);
      return JSON.parse(text) as { summary: Record<string, unknown> };
    };
    const now = (await (await fetch(`${s.url}/pushq/dashboard.json`)).json()) as { atSeconds: number };
    const early = Math.round((now.atSeconds / 2) * 1e6) / 1e6;
    const [first, second] = await Promise.all([at(early), at(early)]);
    expect(second).toEqual(first);
    expect(await create(s.api, 'r4')).toBe(200);
    await w.waitFor((r) => r.some((x) => x.url === '/k/r4'), EVENT_BOUND_MS);
    const later = (await (await fetch(`${s.url}/pushq/dashboard.json`)).json()) as { atSeconds: number };
    const late = Math.round(later.atSeconds * 1e6) / 1e6;
    const [lateAnswer, earlyAgain] = await Promise.all([at(late), at(early)]);
    expect(earlyAgain.summary).toEqual(first.summary);
    s.child.kill('SIGTERM');
    expect(await s.exited, s.stderr()).toBe(0);

    const fromStore = await pushq(['replay', url, '--queue', 'work', '--json']);
    expect(fromStore.stderr).toBe('');
    expect(fromStore.code).toBe(0);
    const summary = JSON.parse(fromStore.stdout) as { queues: Record<string, { tasks_total: number }> };
    expect(summary.queues['work']?.tasks_total).toBe(4);
    for (const [seconds, answer] of [[early, first], [late, lateAnswer]] as const) {
      const replayed = await pushq(['replay', url, '--queue', 'work', '--at', String(seconds), '--json']);
      expect(replayed.code, replayed.stderr).toBe(0);
      expect(answer.summary['work'], `at ${seconds}`).toEqual((JSON.parse(replayed.stdout) as { queues: Record<string, unknown> }).queues['work']);
    }
    // A store's log runs to now (a service may be writing it still), as the live dashboard's ?at= does: past now is refused, the last event and now named.
    const future = await pushq(['replay', url, '--queue', 'work', '--at', '99999']);
    expect(future.code).toBe(2);
    expect(future.stderr).toMatch(/^pushq replay: --at 99999: outside this log's span, 0 to [\d.]+ seconds since its first event \(first event at \S+Z, last at \S+Z; now \S+Z\)\n/);
    // Text output names the store (password hidden), never the temporary file it was exported to.
    const text = await pushq(['replay', url]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.startsWith(`${redactUrl(url)}: pushq-events v`), text.stdout).toBe(true);
    const listed = await pushq(['replay', url, '--tasks', 'most-attempts']);
    expect(listed.code, listed.stderr).toBe(0);
    for (const out of [text.stdout, listed.stdout]) {
      expect(out).not.toContain('pushq-replay-');
      expect(out).not.toContain(PG_PASSWORD);
    }
    const story = await pushq(['replay', url, '--queue', 'work', '--task', 'r2']);
    expect(story.code).toBe(0);
    expect(story.stdout).toContain('r2');
    const unknown = await pushq(['replay', url, '--queue', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('***');
    expect(unknown.stderr).not.toContain(PG_PASSWORD);
    expect(unknown.stderr).not.toContain('pushq-replay-');

    const file = join(fx.dir, 'exported.log');
    const exported = await pushq(['replay', url, '--export', file]);
    expect(exported.code).toBe(0);
    const fromFile = await pushq(['replay', file, '--queue', 'work', '--json']);
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(fromFile.stdout).queues).toEqual(summary.queues);
  }, 180_000);
});
