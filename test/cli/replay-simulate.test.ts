/** End to end: `pushq simulate --log FILE` then `pushq replay FILE` report the same figures. */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const run = async (...args: string[]) => (await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'pushq.js'), ...args], { cwd: ROOT })).stdout;

test.each(['examples/retries/flaky-worker.yaml', 'examples/retries/per-task-limit.yaml'])('%s: replay agrees with the live run', async (scenario) => {
  const log = join(mkdtempSync(join(tmpdir(), 'pushq-sim-replay-')), 'run.jsonl');
  const live = JSON.parse(await run('simulate', scenario, '--json', '--log', log)) as { events: number; queues: Record<string, Record<string, unknown>> };
  const replayed = JSON.parse(await run('replay', log, '--json')) as { events: number; queues: Record<string, { stats: Record<string, unknown> }> };
  expect(replayed.events).toBe(live.events);
  expect(Object.keys(live.queues).length).toBeGreaterThan(0);
  for (const [name, figures] of Object.entries(live.queues)) {
    const stats = replayed.queues[name]?.stats;
    expect(stats, name).toBeDefined();
    let compared = 0;
    for (const [key, value] of Object.entries(figures)) {
      if (!(key in (stats as object))) continue;
      expect((stats as Record<string, unknown>)[key], `${name}.${key}`).toEqual(value);
      compared++;
    }
    expect(compared, `${name}: figures compared`).toBeGreaterThanOrEqual(10);
  }
});
