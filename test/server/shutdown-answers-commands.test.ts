/**
 * SIGTERM (service.close) while commands are being made durable: a CreateTask that pushq took
 * before the stop is answered (its 200, once its events are synced), not cut off with its
 * connection. Before, close() closed every HTTP connection as soon as the attempts in flight had
 * drained, while the create was still waiting for its fdatasync: the client saw a reset socket for
 * a task that was kept (a soak with 256 clients: 92 tasks created but unanswered at a SIGTERM), and
 * a client that retries an unnamed create after a network error makes a duplicate. gRPC already
 * waited for its calls (tryShutdown); REST and /rpc_http now do too, within --drain-seconds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import { openDataDir } from '../../src/server/data-dir.js';
import { PushqService } from '../../src/server/service.js';
import { FaultyIo } from '../helpers/faulty-io.js';
import { eventually } from '../helpers/raw-worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const root = mkdtempSync(join(tmpdir(), 'pushq-shutdown-answers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** node:fs, with fdatasync held (not started) while `hold` is set, until `release()`. */
class HeldSyncIo extends FaultyIo {
  hold = false;
  private held: (() => void)[] = [];

  get heldSyncs(): number {
    return this.held.length;
  }

  override fdatasync(fd: number, callback: (err: NodeJS.ErrnoException | null) => void): void {
    if (this.hold) this.held.push(() => super.fdatasync(fd, callback));
    else super.fdatasync(fd, callback);
  }

  release(): void {
    this.hold = false;
    for (const run of this.held.splice(0)) run();
  }
}

const config = parseQueueConfig('queue:\n- name: q\n  rate: 5/s\n', { file: 'queue.yaml' }).config!;
const targets = { default: { scaling: 'automatic' as const, url: 'http://127.0.0.1:9' } };

test('a create taken before a stop is answered once durable, not cut off', async () => {
  const dir = join(root, 'data');
  const io = new HeldSyncIo();
  const data = await openDataDir(dir, 'h', { io });
  const service = await PushqService.start({ config, targets, log: data.log, dataLock: data.lock, replayed: data.events, grpcPort: null });
  const api = `${service.url}/v2/projects/p/locations/l/queues/q`;
  const post = (path: string, body: unknown): Promise<Response> => fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect((await post(':pause', {})).status).toBe(200);

  io.hold = true;
  const created = post('/tasks', { task: { name: `${api.slice(api.indexOf('/projects/') + 1)}/tasks/kept`, appEngineHttpRequest: { relativeUri: '/w' } } }).then(
    async (res) => ({ status: res.status, body: await res.text() }),
    (err: unknown) => ({ status: -1, body: String((err as Error).cause ?? err) }),
  );
  await eventually(() => io.heldSyncs > 0, EVENT_BOUND_MS, 'the create to wait for its fdatasync');
  const closed = service.close(10_000);
  // The stop has begun (new requests are refused) while the create's sync is still held.
  await new Promise((r) => setTimeout(r, 100));
  io.release();
  const answer = await created;
  await closed;
  expect(answer.status, answer.body).toBe(200);
  expect(JSON.parse(answer.body).name).toMatch(/\/tasks\/kept$/);

  const again = await openDataDir(dir, 'h');
  const restarted = await PushqService.start({ config, targets, log: again.log, dataLock: again.lock, replayed: again.events, grpcPort: null });
  try {
    expect(restarted.kernel.state.tasks.count).toBe(1);
  } finally {
    await restarted.close();
  }
});
