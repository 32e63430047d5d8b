/**
 * `pushq replay STORE --ui --at T` takes exactly the instants `pushq replay STORE --at T` takes:
 * a store's log runs to now (a service may be writing it still, src/server/instant-span.ts), with
 * `--ui` as without it. Before, `--ui --at` refused an instant after the last event that `--at`
 * answered, and the page it serves ended at the last event. Against the real PostgreSQL (the
 * throwaway cluster) and the real CLI.
 */
import { describe, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';
import { startReplayUi } from '../helpers/replay-ui-process.js';
import { startServe } from '../helpers/serve-process.js';
import { startWorker } from '../helpers/worker.js';
import { createWork, serveStoreFixture } from './serve-store-fixture.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const QUEUE_YAML = `
queue:
- name: work
  rate: 200/s
`;

const fx = serveStoreFixture('pushq-replay-ui-at-', QUEUE_YAML);

/** The parts of a refusal that move with the clock (the span to now, and now) made constant. */
function clockless(stderr: string): string {
  return stderr.replace(/0 to [\d.]+ seconds/, '0 to S seconds').replace(/; now \S+Z\)/, '; now N)');
}

describe('pushq replay STORE --ui --at', () => {
  it('accepts an instant after the last event, up to now, as --at does; refuses one past now in the same words, exit 2', async () => {
    const url = await fx.pg.database();
    const w = await startWorker(() => 200);
    fx.workers.push(w);
    const s = await startServe(['--config', fx.queueYamlPath, '--store', url, '--target', `default=${w.url}`], 60_000);
    fx.children.push(s);
    for (const name of ['a1', 'a2']) expect(await createWork(s.api, name)).toBe(200);
    await w.waitFor((r) => r.length === 2, EVENT_BOUND_MS);
    s.child.kill('SIGTERM');
    expect(await s.exited, s.stderr()).toBe(0);

    // An instant after the store's last event (the service stopped before it) and before now.
    await new Promise((r) => setTimeout(r, 2500));
    const after = new Date(Date.now() - 1000).toISOString();
    const cli = await pushq(['replay', url, '--at', after, '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    const replayed = JSON.parse(cli.stdout) as { at_seconds: number; last_event_at: string; queues: Record<string, unknown> };
    expect(Date.parse(replayed.last_event_at)).toBeLessThan(Date.parse(after));

    const ui = await startReplayUi(url, ['--at', after]);
    try {
      // It opens at that instant, and its page answers it with --at's figures.
      expect(ui.stdout()).toContain(`/?at=${replayed.at_seconds} · `);
      const timeline = (await (await fetch(`${ui.url}/pushq/timeline.json`)).json()) as { endSeconds: number };
      expect(timeline.endSeconds).toBeGreaterThanOrEqual(replayed.at_seconds);
      const res = await fetch(`${ui.url}/pushq/dashboard.json?at=${replayed.at_seconds}`);
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect((JSON.parse(text) as { summary: Record<string, unknown> }).summary['work']).toEqual(replayed.queues['work']);
    } finally {
      ui.child.kill('SIGTERM');
      await ui.exited;
    }

    // Past now: both refuse it, a usage error in the same words (the last event and now named).
    const refusedCli = await pushq(['replay', url, '--at', '99999']);
    const refusedUi = await pushq(['replay', url, '--ui', '--at', '99999'], { timeoutMs: 30_000 });
    expect([refusedCli.code, refusedUi.code]).toEqual([2, 2]);
    expect(refusedUi.stderr).toMatch(/^pushq replay: --at 99999: outside this log's span, 0 to [\d.]+ seconds since its first event \(first event at \S+Z, last at \S+Z; now \S+Z\)\n/);
    expect(clockless(refusedUi.stderr)).toBe(clockless(refusedCli.stderr));

    // --ui --queue picks a queue's log in a cluster's store; a single node's store has one log of every queue, shown whole.
    const oneNode = await pushq(['replay', url, '--ui', '--queue', 'work'], { timeoutMs: 30_000 });
    expect(oneNode.code).toBe(1);
    expect(oneNode.stderr).toMatch(/^pushq replay: postgres:\/\/\S+: this store holds one node's log, of every queue: the dashboard shows them all; drop --queue \(it picks a queue's log in a cluster's store\) \(STORE_FAILED\)\n$/);
  }, 120_000);
});
