/** `import { ... } from 'pushq'` keeps giving the read models, and now the one interface and fold they share. */
import { expect, it } from 'vitest';
import * as pushq from '../../src/index.js';
import { foldLogFile } from '../../src/log/replay.js';
import { EventFold, EventMisfitError, fold } from '../../src/projections/fold.js';
import type { Projection } from '../../src/projections/projection.js';
import { StatsCollector } from '../../src/projections/stats.js';
import { TaskStoryCollector } from '../../src/projections/task-story.js';

it('the entry point exports the projections layer from its new home', () => {
  expect(pushq.StatsCollector).toBe(StatsCollector);
  expect(pushq.TaskStoryCollector).toBe(TaskStoryCollector);
  expect(pushq.fold).toBe(fold);
  expect(pushq.EventFold).toBe(EventFold);
  expect(pushq.EventMisfitError).toBe(EventMisfitError);
  expect(pushq.foldLogFile).toBe(foldLogFile);
  const own: pushq.Projection = new StatsCollector();
  const same: Projection = own;
  expect(typeof same.observe).toBe('function');
});
