/**
 * `pushq serve --store postgres://...` (one node): reads of the store's log (a task's story, the
 * dashboard's past) while PostgreSQL is gone must answer 503 UNAVAILABLE naming the store's code,
 * as a create does, not 500 INTERNAL with a stack trace on stderr as for a bug; and they work again
 * once the store is back.
 */
import { describe, expect, it } from 'vitest';
import { startServe } from '../helpers/serve-process.js';
import { startWorker } from '../helpers/worker.js';
import { waitUntil } from '../cluster/cluster-harness.js';
import { createWork, serveStoreFixture } from './serve-store-fixture.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const QUEUE_YAML = `
queue:
- name: work
  rate: 100/s
  bucket_size: 20
`;

const fx = serveStoreFixture('pushq-pgserve-reads-', QUEUE_YAML);
const { workers, children } = fx;

/** A GET of `path` on the serve at `base`, answered within `ms` (null: still not answered). */
async function get(base: string, path: string, ms = 60_000): Promise<{ status: number; error?: { status: string; message: string } } | null> {
  const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(ms) }).catch((err: unknown) => {
    if ((err as Error).name === 'TimeoutError') return null;
    throw err;
  });
  if (res === null) return null;
  const body = (await res.json()) as { error?: { status: string; message: string } };
  return body.error === undefined ? { status: res.status } : { status: res.status, error: body.error };
}

describe('pushq serve --store postgres://: reads of the log', () => {
  it('while the store is down: 503 UNAVAILABLE naming STORE_UNAVAILABLE (not 500 INTERNAL); back again, 200', async () => {
    const url = await fx.pg.database();
    const w = await startWorker(() => 200);
    workers.push(w);
    const s = await startServe(['--config', fx.queueYamlPath, '--store', url, '--target', `default=${w.url}`], 60_000);
    children.push(s);
    const base = new URL(s.api).origin;
    expect(await createWork(s.api, 'a')).toBe(200);
    await w.waitFor((r) => r.some((x) => x.url === '/k/a'), EVENT_BOUND_MS);

    fx.pg.halt();
    try {
      for (const path of ['/pushq/queues/work/tasks/a/story', '/pushq/dashboard.json?at=0']) {
        const r = await get(base, path);
        expect(r, path).not.toBeNull();
        expect(r!.status, `${path}: ${JSON.stringify(r)}`).toBe(503);
        expect(r!.error?.status).toBe('UNAVAILABLE');
        expect(r!.error?.message).toContain('STORE_UNAVAILABLE');
        expect(r!.error?.message).toContain('(LOG_UNAVAILABLE)');
        expect(r!.error?.message).not.toContain('pushq-test-secret');
      }
      expect(s.stderr()).not.toContain('internal error');
    } finally {
      fx.pg.resume();
    }
    // (A connection the server closed after a 503 may fail once: asked again.)
    await waitUntil('the story read again', async () => (await get(base, '/pushq/queues/work/tasks/a/story').catch(() => null))?.status === 200, 30_000);
    expect((await get(base, '/pushq/dashboard.json?at=0'))?.status).toBe(200);
    expect(s.child.exitCode, s.stderr()).toBeNull();
    s.child.kill('SIGTERM');
    expect(await s.exited, s.stderr()).toBe(0);
  }, 120_000);
});
