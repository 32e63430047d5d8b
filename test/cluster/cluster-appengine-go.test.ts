/**
 * An App Engine app's own Task Queue calls against a cluster: the Go program of
 * test/e2e/appengine-go.test.ts (Google's Go library for the bundled services, Debian's
 * golang-google-appengine-dev, installed by .ci/ensure-go.sh) pointed at one node of two on one
 * PostgreSQL store, the node that owns fewer of the program's queues, so most of its calls are
 * forwarded to the other. Every answer is the one a single node gives; every task reaches the
 * worker once.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { appEngineEnv, goBuildEnv, requireAppEngineGoLibrary } from '../helpers/appengine-go.js';
import { ROOT } from '../helpers/serve-process.js';
import { startWorker } from '../helpers/worker.js';
import { ownerFor } from '../../src/cluster/rendezvous.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';
import { ownedBy, startNodes, waitUntil, writeQueueYaml, clusterFixture, type Node } from './cluster-harness.js';

const run = promisify(execFile);
const BATCH = 8;

// The queues the program uses (test/fixtures/appengine-go/main.go).
const YAML = `
queue:
- name: rated
  rate: 4/s
  bucket_size: 1
- name: held
  rate: 0
`;

const fx = clusterFixture('pushq-cluster-go-');
const { nodes, workers } = fx;

describe('taskqueue from Google\'s Go library, through a cluster node', () => {
  it('Add, AddMulti, Delete, QueueStats, Purge: the answers of one node, each task delivered once', async () => {
    requireAppEngineGoLibrary('taskqueue/taskqueue.go');
    const program = join(fx.dir, 'appengine-go');
    await run('go', ['build', '-o', program, '.'], { cwd: join(ROOT, 'test/fixtures/appengine-go'), env: goBuildEnv(), timeout: 240_000 });

    const url = await fx.pg.database();
    const w = await startWorker(() => 200);
    workers.push(w);
    const yaml = await writeQueueYaml(fx.dir, YAML);
    const args = ['--config', yaml, '--store', url, '--lease-seconds', '2', '--target', `default=${w.url}`];
    await startNodes(nodes, args, 2);
    await waitUntil('the 3 queues owned', async () => (await Promise.all(nodes.map(ownedBy))).flat().length === 3, 20_000);
    // No queue still moving: each where rendezvous hashing places it (a sleep of a tick was short on a loaded machine).
    const ids = nodes.map((n) => n.id);
    const placed = (n: Node): string => ['default', 'held', 'rated'].filter((q) => ownerFor(q, ids) === n.id).join();
    await waitUntil('the queues where rendezvous hashing places them', async () => (await Promise.all(nodes.map(ownedBy))).every((o, i) => [...o].sort().join() === placed(nodes[i]!)), EVENT_BOUND_MS);
    const owned = await Promise.all(nodes.map(ownedBy));
    const called = owned[0]!.length <= owned[1]!.length ? nodes[0]! : nodes[1]!;
    expect((await ownedBy(called)).length).toBeLessThan(3);

    const { stdout } = await run(program, [], {
      timeout: 60_000,
      env: {
        PATH: process.env['PATH'] ?? '',
        ...appEngineEnv(called.proc.url, 's~pushq-test'),
      },
    });
    const out = JSON.parse(stdout);
    expect(out.single).toMatch(/^task\d+$/);
    expect(out.batch).toHaveLength(BATCH);
    expect(out.namedFirst).toBe('ok');
    expect(out.alreadyAdded).toBe(true);
    expect(out.batchAlready).toEqual(['ok', 'taskqueue: task has already been added']);
    expect(out.deleted).toBe('ok');
    expect(out.deletedAgain).toMatch(/^API error 11 \(taskqueue: TOMBSTONED_TASK\)/);
    expect(out.statsBefore).toBe(3);
    expect(out.oldestSet).toBe(true);
    expect(out.purged).toBe('ok');
    expect(out.statsAfter).toBe(0);
    expect(out.enforcedRate).toBe(4);
    expect(out.retryAdded).toBe('ok');
    expect(out.unknownQueue).toMatch(/^API error 1 \(taskqueue: UNKNOWN_QUEUE\): queue "no-such-queue" is not defined/);

    const urls = ['/single', '/named', '/batch-ok', ...Array.from({ length: BATCH }, (_, i) => `/batch/${i}`)];
    await w.waitFor((r) => urls.every((u) => r.some((x) => x.url === u)), 20_000, 'every task the program added to a running queue');
    await new Promise((r) => setTimeout(r, 300));
    for (const u of urls) expect(w.received.filter((x) => x.url === u).length, u).toBe(1);
    expect(w.received.filter((x) => x.url === '/never' || x.url === '/waiting')).toEqual([]);
  }, 300_000);
});
