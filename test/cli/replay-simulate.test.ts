/** End to end: `pushq simulate --log FILE` then `pushq replay FILE` report the same figures. */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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

// docs/replay.md: a run that `until` stopped after its last event counts its ready tasks' wait up
// to `until`; the log ends at its last event, and so does the replay's count. Every other figure agrees.
test('a run stopped by until: replay agrees but for the wait counted after the last event (docs/replay.md)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pushq-sim-replay-'));
  const scenario = join(dir, 'until.yaml');
  writeFileSync(scenario, 'seed: 1\nuntil: 4.5s\nqueue:\n  - { name: q, rate: 1/s, bucket_size: 1 }\nworkload:\n  - { queue: q, count: 20 }\n');
  const log = join(dir, 'run.jsonl');
  const live = JSON.parse(await run('simulate', scenario, '--json', '--log', log)) as { virtual_seconds: number; queues: { q: Record<string, unknown> } };
  const replayed = JSON.parse(await run('replay', log, '--json')) as { last_event_at: number; queues: { q: { tasks: { pending: number }; stats: Record<string, unknown> } } };
  expect([live.virtual_seconds, replayed.last_event_at]).toEqual([4.5, 4.1]);
  const { wait_by_cause_task_seconds: liveWait, ...liveRest } = live.queues.q;
  const { wait_by_cause_task_seconds: replayWait, deleted: _deleted, ...replayRest } = replayed.queues.q.stats;
  expect(replayRest).toEqual(liveRest);
  expect(replayed.queues.q.tasks.pending).toBe(15);
  expect(liveWait).toEqual({ tokens: 77.5, concurrency: 0, paused: 0, disabled: 0, transport: 0, not_running: 0 });
  expect(replayWait).toEqual({ tokens: 71.5, concurrency: 0, paused: 0, disabled: 0, transport: 0, not_running: 0 });
});
