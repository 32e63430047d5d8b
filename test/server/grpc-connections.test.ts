/**
 * The gRPC port under silent clients (connection-limits.ts; docs/serve.md, Faults). It had no
 * bound and no timeout: a connection that never sent a byte was held for ever, and 230 of them
 * took every file descriptor of a `pushq serve` whose `ulimit -n` was 256, whose HTTP port is
 * bounded for exactly that reason: it then answered no one and reached no worker. Now its
 * connections count against the same bound as the HTTP port's (one budget for both), and one
 * with no call in progress is closed after `grpcIdleMs`.
 */
import { afterAll, expect, test } from 'vitest';
import type { ApiServerLimits } from '../../src/server/connection-limits.js';
import { PushqService } from '../../src/server/service.js';
import { grpcClient } from '../helpers/cloud-tasks-clients.js';
import { Flood } from '../helpers/flood.js';
import { startLimitedService } from '../helpers/limited-service.js';
import { startWorker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const worker = await startWorker(() => 200);
afterAll(() => worker.close());

function startService(limits?: Partial<ApiServerLimits>): Promise<PushqService> {
  return startLimitedService(worker.url, limits);
}

test('past the bound a gRPC connection is closed at once; a silent one at the idle timeout; calls are answered after', async () => {
  const service = await startService({ connectionsMax: 20, grpcIdleMs: 1000 });
  const flood = new Flood(service.grpcPort!, 'idle', 50);
  try {
    // 20 held; the other 30 closed as soon as they were accepted, before any idle timeout.
    const early = await flood.until((s) => s.opened + s.failed === 50 && s.closed >= 30, EVENT_BOUND_MS, 'the connections past the bound to be closed');
    expect(early.closed).toBe(30);
    expect(early.closedAtMs![1]).toBeLessThan(900);
    // The 20 silent ones: closed at the idle timeout (grpc-js checks it at most that long after), not held for ever.
    const all = await flood.until((s) => s.closed === 50, EVENT_BOUND_MS, 'the silent connections to be closed');
    expect(all.closedAtMs![1]).toBeGreaterThanOrEqual(900);
    expect(all.closedAtMs![1]).toBeLessThan(3500);
  } finally {
    await flood.stop();
  }
  const client = grpcClient(service.grpcPort!);
  try {
    const [queue] = await client.getQueue({ name: 'projects/p/locations/l/queues/default' });
    expect(queue.name).toBe('projects/p/locations/l/queues/default');
    // Idle past the timeout: the server closed the channel's connection; the next call opens another.
    await new Promise((r) => setTimeout(r, 2500));
    const [again] = await client.getQueue({ name: 'projects/p/locations/l/queues/default' });
    expect(again.name).toBe('projects/p/locations/l/queues/default');
  } finally {
    await client.close();
    await service.close(1000);
  }
}, 60_000);

test('the HTTP and the gRPC port share one bound: connections held on one leave only the rest to the other', async () => {
  const service = await startService({ connectionsMax: 20, headersTimeoutMs: 20_000, requestTimeoutMs: 20_000, grpcIdleMs: 20_000 });
  const http = new Flood(service.port, 'idle', 15);
  let grpc: Flood | undefined;
  try {
    await http.until((s) => s.opened === 15, EVENT_BOUND_MS, 'the HTTP connections to open');
    // Accepted by the server, not only by the kernel (its accept loop may lag on a loaded machine).
    const acceptedBy = Date.now() + EVENT_BOUND_MS;
    while ((await service.openConnections()) < 15 && Date.now() < acceptedBy) await new Promise((r) => setTimeout(r, 50));
    grpc = new Flood(service.grpcPort!, 'idle', 10);
    const g = await grpc.until((s) => s.opened + s.failed === 10 && s.closed >= 5, EVENT_BOUND_MS, 'the gRPC connections past the shared bound to be closed');
    expect(g.closed).toBe(5);
    expect((await http.until((s) => s.opened === 15, 1000, 'the HTTP connections')).closed).toBe(0);
  } finally {
    await http.stop();
    await grpc?.stop();
    await service.close(1000);
  }
}, 60_000);
