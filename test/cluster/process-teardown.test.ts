/**
 * The cluster tests' teardown stops every process they started, whatever happened. Before, it
 * killed the nodes in its list only: a `pushq serve` still starting when a test failed or timed out
 * (Vitest does not stop a test's promises; test/cluster/failover-kill.test.ts restarts a node late
 * in its test), one that never printed its startup line in time, or any started once the teardown
 * had run, lived on after the run (a cluster node whose store is gone retries for ever; one was
 * found running an hour later).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ORPHAN_GUARD, ROOT, runningProcesses, startServe } from '../helpers/serve-process.js';
import { clusterFixture, startNode, waitUntil } from './cluster-harness.js';

/** Whether process `pid` still runs (a zombie no one reaps has ended). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

let lateStart: Promise<string> | undefined;
let storeUrl = '';

// Registered before the fixture, so it runs after the fixture's teardown (after-hooks run in reverse order).
afterAll(async () => {
  if (lateStart === undefined) return; // that test was not run (-t)
  // The node the test left starting was killed by the teardown, and nothing runs.
  expect(await lateStart).toMatch(/serve exited \(SIGKILL\) before starting/);
  expect(runningProcesses()).toBe(0);
  // A node asked for after the teardown is refused and not started.
  await expect(startNode(['--store', storeUrl])).rejects.toThrow('torn down');
  expect(runningProcesses()).toBe(0);
});

const fx = clusterFixture('pushq-cluster-teardown-');

describe('the cluster tests stop every process they start', () => {
  it('a serve that does not start in time is killed, not left to run', async () => {
    await expect(startServe(['--port', '0'], 1)).rejects.toThrow('did not start in 1 ms (killed)');
    await waitUntil('the process that did not start in time gone', () => runningProcesses() === 0, 15_000);
  });

  it('a pushq serve whose test process is gone ends itself (orphan-guard.mjs)', async () => {
    // A shell starts it in the background as startServe does (naming itself its parent) and exits at once: its parent is gone.
    const quoted = [process.execPath, ...ORPHAN_GUARD, CLI, 'serve', '--port', '0', '--grpc-port', '0'].map((a) => `'${a}'`).join(' ');
    const sh = spawn('sh', ['-c', `PUSHQ_TEST_PARENT_PID=$$ ${quoted} >/dev/null 2>&1 & echo $!`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    sh.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
    await new Promise((r) => sh.once('exit', r));
    const pid = Number(out.trim());
    expect(pid).toBeGreaterThan(0);
    try {
      await waitUntil(`the orphaned pushq serve ${pid} gone`, () => !alive(pid), 15_000);
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('a node still starting when its test ends (failed or timed out) is killed by the teardown (checked after it)', async () => {
    storeUrl = await fx.pg.database();
    // Not awaited, as a test that timed out leaves it: the afterAll above checks what became of it.
    lateStart = startNode(['--store', storeUrl]).then(
      (n) => `started ${n.id}`,
      (err: unknown) => (err as Error).message,
    );
  });
});
