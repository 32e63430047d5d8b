/**
 * `pushq serve --store` loses no acknowledged command when killed -9 (docs/cluster.md: "A
 * CreateTask is answered after that flush: acknowledged means in the store"), of any kind, over any
 * transport: the clients of test/helpers/crash-workload.ts add (REST, gRPC, /rpc_http named,
 * unnamed, batched, transactional), delete, pause, resume and purge until the kill; `pushq replay`
 * of the store, and the service restarted on it once the dead node's lease has run out, hold every
 * acknowledged change. A queue.yaml reload answered 200 is in the store when the node is killed
 * right after the answer.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';
import { CRASH_QUEUE_YAML, expectAcknowledgedHeld, killMidWorkload, type ReplayedQueue } from '../helpers/crash-workload.js';
import { api, startServe } from '../helpers/serve-process.js';
import { SHORT_LEASE, nodeLeaseRunOut, serveStoreFixture } from './serve-store-fixture.js';

const fx = serveStoreFixture('pushq-pg-crash-commands-', CRASH_QUEUE_YAML);
const { children } = fx;

/** `pushq replay STORE --json`'s queues: the state the store's log describes. */
async function replayQueues(url: string): Promise<Record<string, ReplayedQueue>> {
  const r = await pushq(['replay', url, '--json'], { timeoutMs: 30_000 });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).queues;
}

describe('pushq serve --store: kill -9 with commands in flight', () => {
  it('every command acknowledged over REST, gRPC and /rpc_http is in the store and holds after the restart', async () => {
    const url = await fx.pg.database();
    const args = ['--config', fx.queueYamlPath, '--store', url];
    const first = await startServe(args, 60_000, undefined, SHORT_LEASE);
    children.push(first);
    const ack = await killMidWorkload(first);

    const replayed = await replayQueues(url);
    await nodeLeaseRunOut(url);
    const second = await startServe(args, 60_000, undefined, SHORT_LEASE);
    children.push(second);
    await expectAcknowledgedHeld(second, ack, replayed);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 60_000);

  it('a reload answered 200 is in the store when the node is killed right after the answer', async () => {
    const url = await fx.pg.database();
    const yaml = join(fx.dir, 'reload.yaml');
    await writeFile(yaml, 'queue:\n- name: base\n  rate: 1/s\n');
    const first = await startServe(['--config', yaml, '--store', url], 60_000);
    children.push(first);
    await writeFile(yaml, 'queue:\n- name: base\n  rate: 1/s\n- name: added\n  rate: 2/s\n');
    const r = await api('POST', `${first.url}/pushq/reload`);
    first.child.kill('SIGKILL');
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(await first.exited).toBe('SIGKILL');
    expect(Object.keys(await replayQueues(url)).sort()).toEqual(['added', 'base', 'default']);
  }, 60_000);
});
