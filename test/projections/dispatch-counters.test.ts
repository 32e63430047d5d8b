/** The dashboard's counters: a ring of whole seconds for the recent rate; attempts and retries per queue. */
import { describe, expect, it } from 'vitest';
import { DispatchCounters } from '../../src/projections/dispatch-counters.js';
import { fold } from '../../src/projections/fold.js';
import { StatsCollector } from '../../src/projections/stats.js';
import { richSimulation } from '../helpers/rich-sim.js';

describe('DispatchCounters', () => {
  it('count recent dispatches over the last 10 whole seconds only', () => {
    const counters = new DispatchCounters();
    const c = counters.of(0);
    const s = 1_000_000;
    for (const t of [100 * s, 100.5 * s, 105 * s, 109.9 * s]) c.dispatched(t);
    expect(c.recent(109.95 * s)).toBe(4);
    expect(c.recent(110 * s)).toBe(2); // seconds 101..110: 100 fell out
    expect(c.recent(125 * s)).toBe(0);
    c.dispatched(116 * s); // the ring slot of second 100: reused, not added to
    expect(c.recent(116 * s)).toBe(2); // 109 and 116
  });

  it('count the attempts and retries the statistics count, per queue', () => {
    const sim = richSimulation(5);
    const counters = new DispatchCounters();
    const stats = new StatsCollector();
    const { state } = fold(sim.events, [counters, stats]);
    const report = stats.report(state);
    expect(Object.keys(report).length).toBeGreaterThan(1);
    let retries = 0;
    for (const q of state.queues) {
      const want = report[q.name];
      if (want === undefined) continue;
      expect(counters.of(q.index).attempts, q.name).toBe(want.attempts);
      expect(counters.of(q.index).retries, q.name).toBe(want.retries);
      retries += want.retries;
    }
    expect(retries).toBeGreaterThan(0);
  });
});
