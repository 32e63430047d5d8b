import { describe, expect, it } from 'vitest';
import { widenField } from '../../src/core/field-shapes.js';
import { TaskTable } from '../../src/core/task-table.js';
import { LogHistogram } from '../../src/projections/histogram.js';
import { ReadinessTracker } from '../../src/projections/ready-tracker.js';

describe('widenField', () => {
  it('leaves the value as it was', () => {
    const o = { base: 0, name: 'x' };
    widenField(o, 'base', 1.5);
    widenField(o, 'name', null);
    expect(o).toEqual({ base: 0, name: 'x' });
    expect(Object.keys(o)).toEqual(['base', 'name']);
  });

  it('refuses a field the object does not have (a misspelt or renamed one would add a property)', () => {
    class Table {
      base = 0;
    }
    expect(() => widenField(new Table(), 'bsae', 1)).toThrow('widenField: Table has no field bsae');
  });

  it('names real fields in the classes that use it (their constructors would throw otherwise)', () => {
    const table = new TaskTable({ releaseEnded: true });
    expect(table.base).toBe(0);
    const h = new LogHistogram();
    expect(h.sum).toBe(0);
    h.record(3);
    expect(h.percentile(50)).toBe(3);
    expect(new ReadinessTracker(0).queues).toEqual([]);
  });
});
