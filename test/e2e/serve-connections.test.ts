/**
 * `--connections N` bounds the requests at one worker at once, below what the queue's own limits
 * allow; tasks beyond it wait as pending (backpressure) and are all delivered.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

let dir: string;
let worker: Worker;
const serves: ServeProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-connections-'));
  await writeFile(join(dir, 'queue.yaml'), 'queue:\n- name: wide\n  rate: 500/s\n  bucket_size: 50\n  max_concurrent_requests: 100\n');
  worker = await startWorker(() => ({ status: 200, delayMs: 150 }));
});

afterAll(async () => {
  for (const s of serves) {
    s.child.kill('SIGTERM');
    await s.exited;
  }
  await worker?.close();
  await rm(dir, { recursive: true, force: true });
});

async function deliver(extra: string[], prefix: string): Promise<number> {
  const serve = await startServe(['--config', join(dir, 'queue.yaml'), '--memory', '--target', `default=${worker.url}`, ...extra]);
  serves.push(serve);
  worker.maxInFlight = 0;
  const creates = Array.from({ length: 10 }, (_, i) =>
    api('POST', `${serve.api}/wide/tasks`, { task: { appEngineHttpRequest: { relativeUri: `/${prefix}/${i}` } } }),
  );
  for (const r of await Promise.all(creates)) expect(r.status).toBe(200);
  await worker.waitFor((rs) => rs.filter((r) => r.url.startsWith(`/${prefix}/`) && r.answered === 200).length === 10, EVENT_BOUND_MS, `10 tasks of ${prefix}`);
  return worker.maxInFlight;
}

describe('serve --connections', () => {
  it('bounds the requests at the worker at once, and delivers every task', async () => {
    expect(await deliver(['--connections', '2'], 'two')).toBe(2);
  });

  it('without it, the queue\'s own limits set the concurrency', async () => {
    expect(await deliver([], 'free')).toBeGreaterThan(2);
  });

  it('refuses a bad value', async () => {
    await expect(startServe(['--memory', '--connections', '0'])).rejects.toThrow(/--connections must be a whole number from 1 to 4096/);
  });
});
