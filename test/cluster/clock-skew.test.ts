/**
 * Nodes whose clocks disagree. A queue's events are stamped with its owner's clock, and a kernel's
 * time never goes below its log's last event (wall-driver.ts). A queue taken from a node whose
 * clock runs an hour ahead then used to stall on the new owner: its kernel's time was held at that
 * last event until the new owner's own clock caught up, so no token refilled, and tasks beyond the
 * bucket's tokens waited an hour. Now the time runs on from the last event, and the node says its
 * clock is behind the log.
 */
import { describe, expect, it } from 'vitest';
import { startWorker } from '../helpers/worker.js';
import { clusterFixture, ownedBy, postTask, startNode, waitUntil, writeQueueYaml } from './cluster-harness.js';

const fx = clusterFixture('pushq-cluster-clock-');
const { nodes, workers } = fx;

const HOUR_MS = 3_600_000;

describe('a queue taken by a node whose clock is behind its last owner’s', () => {
  it('goes on dispatching at its rate (its time runs on from the log’s last event), and the node says its clock is behind', async () => {
    const url = await fx.pg.database();
    const w = await startWorker(() => 200);
    workers.push(w);
    // One token, refilled at 2/s: every task past the first needs time to pass on the kernel's clock.
    const yaml = await writeQueueYaml(fx.dir, 'queue:\n- name: default\n  rate: 2/s\n  bucket_size: 1\n');
    const args = ['--config', yaml, '--store', url, '--lease-seconds', '3', '--target', `default=${w.url}`];

    const ahead = await startNode(args, HOUR_MS);
    nodes.push(ahead);
    await waitUntil('the node an hour ahead owning default', async () => (await ownedBy(ahead)).includes('default'), 30_000);
    for (let i = 0; i < 3; i++) expect((await postTask(ahead, 'default', `early-${i}`)).status).toBe(200);
    await w.waitFor((r) => r.length >= 3, 30_000, 'the first owner’s tasks');
    ahead.proc.child.kill('SIGTERM'); // a clean stop: the queue's lease is released at once
    expect(await ahead.proc.exited).toBe(0);

    const behind = await startNode(args);
    nodes.push(behind);
    await waitUntil('the node on the right clock owning default', async () => (await ownedBy(behind)).includes('default'), 30_000);
    for (let i = 0; i < 4; i++) expect((await postTask(behind, 'default', `late-${i}`)).status).toBe(200);
    // At 2/s these take about 2 s; held at the last event's time, all but the token's one waited an hour.
    await w.waitFor((r) => r.filter((x) => x.url.includes('/late-')).length === 4, 40_000, 'every task created on the new owner');
    expect(behind.proc.stderr()).toMatch(/queue default: the log's last event \(\S+\) is 3\d{3}\.\d s ahead of this machine's clock/);
  }, 120_000);
});
