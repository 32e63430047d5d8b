/**
 * What the series recorder keeps (src/projections/series.ts): a queue whose rows are all alike
 * (no task: no counts, the same gauges) keeps no column, however long the run; the rows it
 * answers are the same as if it had kept them.
 */
import { describe, expect, it } from 'vitest';
import { Count, QueueColumns, SeriesRecorder, type Gauges } from '../../src/projections/series.js';

const idle: Gauges = { ready: 0, delayed: 0, backoff: 0, inFlight: 0, tokens: 40 };

describe('series columns', () => {
  it('a queue whose rows are all alike keeps no column through halvings; its first different row keeps them, the quiet rows written out', () => {
    const q = new QueueColumns();
    for (let i = 0; i < 5_000; i++) {
      q.push(idle);
      if (q.length === 2_048) q.halve();
    }
    expect(q.kept).toBe(false);
    expect(q.counts.length + q.gauges.length).toBe(0);
    const rows = q.length;
    q.open[Count.Dispatched] = 3;
    q.push({ ...idle, tokens: 37, inFlight: 3 });
    expect(q.kept).toBe(true);
    expect(q.length).toBe(rows + 1);
    expect(Array.from((q.counts[Count.Dispatched] as Float64Array).subarray(rows - 2, rows + 1))).toEqual([0, 0, 3]);
    expect(Array.from((q.gauges[4] as Float64Array).subarray(rows - 2, rows + 1))).toEqual([40, 40, 37]);
    expect(Array.from((q.gauges[3] as Float64Array).subarray(0, 2))).toEqual([0, 0]);
  });

  it('a recorder of 14 queues, one busy: the 13 idle keep no column, and answer rows of no counts and their gauges', () => {
    const busy = (t: number): Gauges => ({ ready: t % 7, delayed: 0, backoff: 0, inFlight: t % 3, tokens: t % 11 });
    const recorder = new SeriesRecorder(0, (qi, t, out) => Object.assign(out, qi === 0 ? busy(t) : qi === 13 ? { ...idle, tokens: null } : idle));
    for (let qi = 0; qi < 14; qi++) recorder.ensureQueue(qi);
    for (let t = 0; t < 3_000_000; t += 997) {
      recorder.reach(t);
      recorder.count(0, Count.Dispatched);
    }
    const queues = (recorder as unknown as { queues: QueueColumns[] }).queues;
    expect(queues.map((q) => q.kept)).toEqual([true, ...Array.from({ length: 13 }, () => false)]);
    const columns = recorder.columns(3_000_000);
    const rows = (columns[0] as { t_seconds: number[] }).t_seconds.length;
    expect(rows).toBeGreaterThan(700);
    expect(columns[5]).toEqual({ ...columns[5], dispatched: Array(rows).fill(0), ready: Array(rows).fill(0), tokens: Array(rows).fill(40) });
    expect(columns[13]?.tokens).toEqual(Array(rows).fill(null));
    expect(columns[0]?.dispatched.reduce((a, b) => a + b, 0)).toBe(Math.ceil(3_000_000 / 997));
  });
});
