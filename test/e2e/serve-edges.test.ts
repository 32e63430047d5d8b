/**
 * Start and stop at the edges: a start that cannot bind its port sends nothing and leaves no lock;
 * a stop past its grace time while a worker never answers exits at once (no deadline timer keeps
 * the process alive) and the attempt is retried at the next start.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startServe } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

let dir: string;
let worker: Worker;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-edges-'));
  await writeFile(join(dir, 'queue.yaml'), 'queue:\n- name: q\n  rate: 50/s\n');
  worker = await startWorker((r) => (r.url.startsWith('/hang') ? { status: 200, delayMs: 60_000 } : 200));
});

afterAll(async () => {
  await worker?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('serve at the edges', () => {
  it('a start that cannot bind its port dispatches nothing and leaves no lock', async () => {
    const data = join(dir, 'bind');
    // A first server whose worker refuses connections: its tasks end up waiting to be retried.
    const first = await startServe(['--config', join(dir, 'queue.yaml'), '--data', data, '--target', 'default=http://127.0.0.1:1']);
    for (let i = 0; i < 3; i++) expect((await api('POST', `${first.api}/q/tasks`, { task: { appEngineHttpRequest: { relativeUri: `/bind/${i}` } } })).status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    try {
      await expect(startServe(['--config', join(dir, 'queue.yaml'), '--data', data, '--target', `default=${worker.url}`, '--port', String(port)])).rejects.toThrow(/exited \(1\)[\s\S]*cannot start: port \d+ on 127\.0\.0\.1 is in use[\s\S]*\(PORT_IN_USE\)/);
      await new Promise((r) => setTimeout(r, 200));
      expect(worker.forUrl('/bind/')).toHaveLength(0);
      expect(existsSync(join(data, 'lock'))).toBe(false);
    } finally {
      blocker.close();
    }
    // The tasks are all there for the next start, and go out then.
    const again = await startServe(['--config', join(dir, 'queue.yaml'), '--data', data, '--target', `default=${worker.url}`]);
    try {
      await worker.waitFor((rs) => rs.filter((r) => r.url.startsWith('/bind/')).length === 3, EVENT_BOUND_MS, 'the three tasks');
    } finally {
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    }
  });

  it('a stop past its grace time exits at once though a worker never answers', async () => {
    const data = join(dir, 'hang');
    const serve = await startServe(['--config', join(dir, 'queue.yaml'), '--data', data, '--target', `default=${worker.url}`, '--drain-seconds', '0.5']);
    expect((await api('POST', `${serve.api}/q/tasks`, { task: { appEngineHttpRequest: { relativeUri: '/hang/1' } } })).status).toBe(200);
    await worker.waitFor((rs) => rs.some((r) => r.url === '/hang/1'), EVENT_BOUND_MS, 'the hanging request');
    const stopped = Date.now();
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    expect(Date.now() - stopped).toBeLessThan(3000); // the 10-minute deadline timer must not hold it
    expect(serve.stdout() + serve.stderr()).toMatch(/1 attempt still in flight will be retried at the next start/);
  }, 15_000);

  it('with --memory, the stop does not promise a retry that nothing will make', async () => {
    const serve = await startServe(['--config', join(dir, 'queue.yaml'), '--memory', '--target', `default=${worker.url}`, '--drain-seconds', '0.5']);
    expect((await api('POST', `${serve.api}/q/tasks`, { task: { appEngineHttpRequest: { relativeUri: '/hang/2' } } })).status).toBe(200);
    await worker.waitFor((rs) => rs.some((r) => r.url === '/hang/2'), EVENT_BOUND_MS, 'the hanging request');
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    expect(serve.stdout()).toMatch(/pushq serve: stopped \(1 attempt still in flight, lost with the in-memory log\)\n$/);
  }, 15_000);
});
