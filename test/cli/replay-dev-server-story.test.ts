/**
 * A task's story in dev-server mode (`pushq replay LOG --task NAME`): there a ready task waits for
 * the app's one task at a time (core/dev-server.ts), not for its queue's max_concurrent_requests,
 * which the mode does not apply. The story said "held by concurrency", sending a user to look at a
 * cap that held nothing (here the task's queue had nothing in flight); it now names the mode's
 * one task at a time, and its JSON says how much of `concurrency` that was.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createFileEventLogSync, type FileEventLog } from '../../src/log/file-log.js';
import { DEV_SERVER_CONCURRENCY_TEXT } from '../../src/projections/series-types.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { pushq } from '../helpers/cli.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

const dir = mkdtempSync(join(tmpdir(), 'pushq-dev-server-story-'));
let devLog = '';
let prodLog = '';

/** Three tasks added at 0 over two queues, each answered after 1 s: `first` (q1), `second` (q2), `third` (q1). */
async function run(name: string, devServer: boolean): Promise<string> {
  const file = join(dir, name);
  let log: FileEventLog | undefined;
  const sim = createSimulation({
    config: fileConfig(pushQueue('q1', 10, { max_concurrent_requests: 1 }), pushQueue('q2', 10, { max_concurrent_requests: 5 })),
    devServer,
    worker: { latency: { distribution: 'constant', valueUs: 1_000_000 } },
    log: (header) => (log = createFileEventLogSync(file, header, { durable: false })),
  });
  sim.addTasks([{ queue: 'q1', name: 'first' }, { queue: 'q2', name: 'second' }, { queue: 'q1', name: 'third' }]);
  sim.runUntilIdle();
  await log!.close();
  return file;
}

beforeAll(async () => {
  devLog = await run('dev.log', true);
  prodLog = await run('prod.log', false);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("replay --task in dev-server mode: a task held by the app's one task at a time says so, not concurrency", async () => {
  // Equal ETAs: the first queue's go first (first, third, then second). `second` is alone in q2
  // (cap 5), held 2 s by q1's two tasks: only the mode's one at a time held it.
  const second = await pushq(['replay', devLog, '--task', 'second']);
  expect(second.code, second.stderr).toBe(0);
  expect(second.stdout).toContain(`    waited 2s from when it could go, held by ${DEV_SERVER_CONCURRENCY_TEXT} 2s\n`);
  expect(DEV_SERVER_CONCURRENCY_TEXT).toBe("the app's one task at a time (dev-server mode)");
  const third = await pushq(['replay', devLog, '--task', 'third']);
  expect(third.stdout).toContain(`held by ${DEV_SERVER_CONCURRENCY_TEXT} 1s\n`);
  expect(second.stdout + third.stdout).not.toMatch(/held by concurrency/);
});

it('replay --task --json in dev-server mode: held_by_seconds keeps its key, and dev_server_held_seconds says how much of it the mode held', async () => {
  const r = await pushq(['replay', devLog, '--task', 'second', '--json']);
  expect(r.code, r.stderr).toBe(0);
  const attempt = JSON.parse(r.stdout).attempts[0];
  expect(attempt).toMatchObject({ waited_seconds: 2, held_by_seconds: { concurrency: 2 }, dev_server_held_seconds: 2 });
  // The key comes last, after the keys of the first release.
  expect(Object.keys(attempt).at(-1)).toBe('dev_server_held_seconds');
});

it('outside the mode, max_concurrent_requests holding a task still reads as concurrency', async () => {
  const r = await pushq(['replay', prodLog, '--task', 'third']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain('    waited 1s from when it could go, held by concurrency 1s\n');
  const json = JSON.parse((await pushq(['replay', prodLog, '--task', 'third', '--json'])).stdout).attempts[0];
  expect(json).toMatchObject({ held_by_seconds: { concurrency: 1 }, dev_server_held_seconds: 0 });
});
