/**
 * `pushq serve --store postgres://...` (one node) while PostgreSQL takes the node's statements but
 * does not answer them: another session holds the lock on the node's stream row (an operator's
 * open transaction; a server or network that hangs has the same effect on the node). Its appends
 * and renewals wait. Once its lease's validity has passed (docs/cluster.md: `sent + 15 s − 15%`)
 * the node must refuse commands with 503, those already waiting for their commit included, and
 * say so on stderr, without waiting for the store's word; once the lock is gone it carries on.
 * Before the fix, every CreateTask hung for as long as the lock was held (a refused one too: it
 * waits for the flush) and the node said nothing.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startServe } from '../helpers/serve-process.js';
import { startWorker } from '../helpers/worker.js';
import { waitUntil } from '../cluster/cluster-harness.js';
import { serveStoreFixture } from './serve-store-fixture.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const QUEUE_YAML = `
queue:
- name: work
  rate: 100/s
  bucket_size: 20
`;

const fx = serveStoreFixture('pushq-pgserve-stalled-', QUEUE_YAML);
const { workers, children } = fx;

/** A CreateTask of `name` on queue `work`: its status and the error's status and message, if any. */
async function create(api: string, name: string): Promise<{ status: number; error?: { status: string; message: string } }> {
  const res = await fetch(`${api}/work/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ task: { name: `projects/p/locations/l/queues/work/tasks/${name}`, appEngineHttpRequest: { relativeUri: `/k/${name}` } } }),
  });
  const body = (await res.json()) as { error?: { status: string; message: string } };
  return body.error === undefined ? { status: res.status } : { status: res.status, error: body.error };
}

describe('pushq serve --store postgres:// while the store does not answer', () => {
  it('past its lease, commands (waiting ones included) are refused 503 and the node says why; the store answering again, it carries on', async () => {
    const url = await fx.pg.database();
    const w = await startWorker(() => 200);
    workers.push(w);
    const s = await startServe(['--config', fx.queueYamlPath, '--store', url, '--target', `default=${w.url}`], 60_000);
    children.push(s);
    expect((await create(s.api, 'before')).status).toBe(200);
    await w.waitFor((r) => r.some((x) => x.url === '/k/before'), EVENT_BOUND_MS);

    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    let released = false;
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT * FROM pushq_streams WHERE stream = '~node' FOR UPDATE`);
      // Taken by the kernel, then waiting for a commit the lock holds up.
      const waiting = ['w0', 'w1', 'w2'].map((n) => create(s.api, n));
      // The lease (15 s) cannot be renewed either: within it plus a margin for a loaded machine,
      // the node says it no longer holds its log, and answers the waiting creates.
      await waitUntil('the node saying its lease was not renewed in time', () => s.stderr().includes('was not renewed in time'), 40_000);
      const answered = await Promise.race([Promise.all(waiting), new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
      expect(answered, 'the creates waiting for their commit are answered while the lock is still held').not.toBeNull();
      for (const a of answered!) {
        expect(a.status).toBe(503);
        expect(a.error?.status).toBe('UNAVAILABLE');
        expect(a.error?.message).toContain('LOG_UNAVAILABLE');
      }
      // A new command is refused at once (not taken), not left waiting for the store.
      const during = await Promise.race([create(s.api, 'during'), new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
      expect(during, 'a create while the store does not answer is refused, not left hanging').not.toBeNull();
      expect(during!.status).toBe(503);
      expect(during!.error?.message).toContain('LOG_UNAVAILABLE');
      expect(s.stderr()).toContain('changes are refused (LOG_UNAVAILABLE) and no new attempt starts');
      // The waiting creates' tasks may have been sent before the lease ran out (an attempt goes
      // out before its record is durable: docs/architecture.md); nothing starts after it.
      const quiet = w.received.length;
      await new Promise((r) => setTimeout(r, 1000));
      expect(w.received.slice(quiet)).toEqual([]);
      await holder.query('COMMIT');
      released = true;
    } finally {
      if (!released) await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }

    // The store answers again: the lease is renewed, creates are taken and delivered.
    await waitUntil('a create acknowledged again', async () => (await create(s.api, `after${Date.now()}`)).status === 200, 30_000);
    await w.waitFor((r) => r.some((x) => x.url.startsWith('/k/after')), EVENT_BOUND_MS);
    await waitUntil('the node saying it writes its log again', () => s.stderr().includes('the event log is written again'), EVENT_BOUND_MS);
    expect(w.received.some((x) => x.url === '/k/during')).toBe(false);
    expect(s.child.exitCode, s.stderr()).toBeNull();
    s.child.kill('SIGTERM');
    expect(await s.exited, s.stderr()).toBe(0);
  }, 120_000);
});
