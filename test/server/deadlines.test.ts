/** Deadlines: one timer per duration, entries fire in order, ended ones never, and memory stays bounded. */
import { describe, expect, it } from 'vitest';
import { Deadlines } from '../../src/dispatch/deadlines.js';

describe('Deadlines', () => {
  it('fires each live entry once, at or after its expiry, in order; ended entries never', async () => {
    const d = new Deadlines();
    const fired: [string, number][] = [];
    const start = performance.now();
    const a = d.add(30, () => fired.push(['a', performance.now() - start]));
    d.add(30, () => fired.push(['b', performance.now() - start]));
    const c = d.add(60, () => fired.push(['c', performance.now() - start]));
    d.end(a, 30);
    d.end(c, 60);
    d.add(10, () => fired.push(['d', performance.now() - start]));
    await new Promise((r) => setTimeout(r, 120));
    expect(fired.map(([n]) => n)).toEqual(['d', 'b']);
    expect(fired[0]![1]).toBeGreaterThanOrEqual(9.5);
    expect(fired[1]![1]).toBeGreaterThanOrEqual(29.5);
    expect(d.held).toBe(0);
    d.close();
  });

  it('stays bounded when a long entry at the head outlives thousands of ended ones', () => {
    const d = new Deadlines();
    d.add(60_000, () => {}); // a slow request at the head
    for (let i = 0; i < 100_000; i++) d.end(d.add(60_000, () => {}), 60_000);
    expect(d.held).toBeLessThan(3000);
    d.close();
  });

  it('keeps no FIFO behind for many distinct durations (tasks with their own dispatch deadlines)', async () => {
    const d = new Deadlines();
    for (let i = 0; i < 1000; i++) d.end(d.add(15_000 + i, () => {}), 15_000 + i);
    expect(d.durations).toBeLessThanOrEqual(8);
    // A live entry among them still fires.
    let fired = false;
    for (let i = 0; i < 20; i++) d.add(20 + i, () => {});
    d.add(5, () => (fired = true));
    await new Promise((r) => setTimeout(r, 80));
    expect(fired).toBe(true);
    expect(d.held).toBe(0);
    expect(d.durations).toBeLessThanOrEqual(8);
    d.close();
  });

  it('never retires the scaling deadlines\' FIFOs (10 min, 24 h): they serve most attempts', () => {
    const d = new Deadlines();
    for (let i = 0; i < 20; i++) d.add(15_000 + i, () => {}); // many live durations
    d.end(d.add(600_000, () => {}), 600_000);
    d.end(d.add(86_400_000, () => {}), 86_400_000);
    d.end(d.add(30_000, () => {}), 30_000);
    expect(d.durations).toBe(22); // 20 live, the two scaling ones kept empty, 30 s retired
    d.close();
  });
});
