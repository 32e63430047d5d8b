/**
 * What the series recorder keeps (src/projections/series.ts): a queue whose rows are all alike
 * (no task: no counts, the same gauges) keeps no column, however long the run; the rows it
 * answers are the same as if it had kept them. And the recorder reads a queue's gauges when the
 * queue has an event or the series is read, a run of unchanging rows in one read: its cost follows
 * the events, not queues × intervals.
 */
import { describe, expect, it } from 'vitest';
import { Count, QueueColumns, SeriesRecorder, type GaugeReader, type Gauges } from '../../src/projections/series.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { parseQueueConfig } from '../../src/config/parse.js';

const idle: Gauges = { ready: 0, delayed: 0, backoff: 0, inFlight: 0, tokens: 40, steadyUntil: Infinity };

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
    const busy = (t: number): Gauges => ({ ready: t % 7, delayed: 0, backoff: 0, inFlight: t % 3, tokens: t % 11, steadyUntil: t });
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

  it('100 queues, one busy, over 3 s at 1 ms: the idle queues are read a few times each, not once per interval, and answer the same rows', () => {
    const reads = new Array<number>(100).fill(0);
    const busy = (t: number): Gauges => ({ ready: t % 7, delayed: 0, backoff: 0, inFlight: t % 3, tokens: t % 11, steadyUntil: t });
    const reader: GaugeReader = (qi, t, out) => {
      reads[qi] = (reads[qi] as number) + 1;
      Object.assign(out, qi === 0 ? busy(t) : idle);
    };
    const recorder = new SeriesRecorder(0, reader, 1_000);
    for (let qi = 0; qi < 100; qi++) recorder.ensureQueue(qi);
    for (let t = 0; t < 3_000_000; t += 997) {
      recorder.reach(t);
      recorder.count(0, Count.Dispatched);
    }
    expect(Math.max(...reads.slice(1))).toBe(0);
    const columns = recorder.columns(3_000_000);
    // 3,000 intervals: the busy queue is read at each, every idle one once (when the series is read).
    expect(reads[0]).toBeGreaterThanOrEqual(3_000);
    expect(Math.max(...reads.slice(1))).toBe(1);
    expect(columns[42]).toEqual({ ...columns[42], dispatched: Array(3_000).fill(0), tokens: Array(3_000).fill(40) });
    expect(columns[0]?.dispatched.reduce((a, b) => a + b, 0)).toBe(Math.ceil(3_000_000 / 997));
  });

  it('a simulation of 100 queues idle for a minute: the next task reads its own queue’s gauges, not every interval of every queue', () => {
    const yaml = ['queue:', ...Array.from({ length: 100 }, (_, i) => `- name: q${i}\n  rate: ${1 + (i % 5)}/s\n  bucket_size: ${1 + (i % 3)}`)].join('\n');
    const parsed = parseQueueConfig(yaml, { file: 'queue.yaml' });
    if (!parsed.valid || parsed.config === null) throw new Error(JSON.stringify(parsed.errors));
    const sim = createSimulation({ config: parsed.config, seed: 1, worker: { latency: { distribution: 'constant', valueUs: 20_000 } } });
    sim.addTask({ queue: 'q1' });
    sim.runUntil(1);
    const recorder = (sim as unknown as { insight: { series: { readGauges: GaugeReader } } }).insight.series;
    const read = recorder.readGauges;
    let reads = 0;
    recorder.readGauges = (qi, t, out) => {
      reads++;
      read(qi, t, out);
    };
    sim.runUntil(61);
    sim.addTask({ queue: 'q2' });
    sim.runUntilIdle();
    // q2's add, dispatch and success; its bucket refills a token at a time (a read per token) after the dispatch.
    expect(reads).toBeLessThan(20);
    const series = sim.series();
    const rows = series.queues['*']?.t_seconds.length ?? 0;
    expect(rows).toBeGreaterThan(500);
    expect(series.queues.q2?.dispatched.reduce((a, b) => a + b, 0)).toBe(1);
    expect(series.queues.q7?.tokens).toEqual(Array(rows).fill(2));
  });
});
