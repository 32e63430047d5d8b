/**
 * Operator commands timed while a queue has a backlog, for the liveness spec. The kit's commands
 * come at uniformly random times over a minute, independent of the workload, so they mostly find
 * queues idle: a resume, or a redeploy that gives a queue more room, that leaves the queue's due
 * tasks waiting (a lost wake-up) then has nothing to lose. These come when a workload group's
 * tasks arrive (0–2 s after its start) and hold the queue back long enough (1–20 s) for its
 * tasks to pile up and for the wake it had asked for to pass:
 *
 * - pause, then resume;
 * - throttle by redeploying the scenario's queue.yaml with that queue at rate 0, at 1/h, with
 *   bucket_size 0 or with max_concurrent_requests 1, then redeploy it as it was (a raise);
 * - redeploy the scenario's queue.yaml with one queue's rate, bucket_size and/or
 *   max_concurrent_requests changed (up or down).
 *
 * Spec-local: the edits are built on the sim-config arbitrary's own QueueConfig shape.
 */
import fc from 'fast-check';
import type { QueueConfig, QueueFileConfig } from '../../src/config/types.js';
import type { QueueCommand } from '../../src/testing/arbitraries/commands.js';
import { simRateArbitrary, type SimRate } from '../../src/testing/arbitraries/sim-config.js';
import type { Scenario } from '../../src/testing/scenario.js';

function withRate(q: QueueConfig, rate: SimRate): QueueConfig {
  const e = rate.exact;
  return { ...q, rate_exact: e, rate_per_second: e === null ? 0 : (e.tokens * 1_000_000) / e.period_us, state: e === null ? 'paused' : 'running' };
}

function editQueue(config: QueueFileConfig, name: string, edit: (q: QueueConfig) => QueueConfig): QueueFileConfig {
  return { ...config, queues: config.queues.map((q) => (q.name === name ? edit(q) : q)) };
}

const HOURLY: SimRate = { text: '1/h', exact: { tokens: 1, period_us: 3_600_000_000 } };
const THROTTLES = {
  'rate 0': (q: QueueConfig) => withRate(q, { text: '0', exact: null }),
  'rate 1/h': (q: QueueConfig) => withRate(q, HOURLY),
  'bucket_size 0': (q: QueueConfig) => ({ ...q, bucket_size: 0 }),
  'max_concurrent_requests 1': (q: QueueConfig) => ({ ...q, max_concurrent_requests: 1 }),
};

/** `scenario` with 1 to `max` backlog commands added to its own. */
export function withBacklogCommands(scenario: fc.Arbitrary<Scenario>, max = 3): fc.Arbitrary<Scenario> {
  return scenario.chain((s) => {
    const groups = s.workloads;
    if (groups.length === 0) return fc.constant(s);
    // When a group's tasks start arriving, and how long the queue is held back.
    const when = fc
      .record({ g: fc.integer({ min: 0, max: groups.length - 1 }), after: fc.double({ min: 0, max: 2, noNaN: true }), hold: fc.double({ min: 1, max: 20, noNaN: true }) })
      .map(({ g, after, hold }) => ({ queue: groups[g]!.queue, at: (groups[g]!.atSeconds ?? 0) + after, hold }));
    const pause = when.map(({ queue, at, hold }): QueueCommand[] => [
      { kind: 'pause', queue, atSeconds: at },
      { kind: 'resume', queue, atSeconds: at + hold },
    ]);
    const throttle = fc.record({ w: when, how: fc.constantFrom(...(Object.keys(THROTTLES) as (keyof typeof THROTTLES)[])) }).map(({ w, how }): QueueCommand[] => [
      { kind: 'reload', atSeconds: w.at, config: editQueue(s.config, w.queue, THROTTLES[how]) },
      { kind: 'reload', atSeconds: w.at + w.hold, config: s.config },
    ]);
    const edit = fc
      .record({
        w: when,
        rate: fc.option(simRateArbitrary({ allowZero: true }), { nil: undefined }),
        bucket: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
        max: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }),
      })
      .map(({ w, rate, bucket, max }): QueueCommand[] => {
        const config = editQueue(s.config, w.queue, (q) => {
          let out = rate === undefined ? q : withRate(q, rate);
          if (bucket !== undefined) out = { ...out, bucket_size: bucket };
          if (max !== undefined) out = { ...out, max_concurrent_requests: max };
          return out;
        });
        return [{ kind: 'reload', atSeconds: w.at, config }];
      });
    return fc.array(fc.oneof(pause, throttle, edit), { minLength: 1, maxLength: max }).map((more) => ({ ...s, commands: [...s.commands, ...more.flat()] }));
  });
}
