/** docs/simulate.md documents the HTML report's functions and errors as API: `import { ... } from 'pushq'` gives them. */
import { expect, it } from 'vitest';
import * as pushq from '../../src/index.js';
import { FIXED_POINTS_MAX, SeriesTooLongError } from '../../src/projections/series.js';
import { renderReport } from '../../src/simulate/report/render.js';
import { checkReportPath, ReportPathError, writeReportFile } from '../../src/simulate/report/write.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

it('the entry point exports the report and the errors a series or a report path can throw', () => {
  expect(pushq.renderReport).toBe(renderReport);
  expect(pushq.writeReportFile).toBe(writeReportFile);
  expect(pushq.checkReportPath).toBe(checkReportPath);
  expect(pushq.ReportPathError).toBe(ReportPathError);
  expect(pushq.SeriesTooLongError).toBe(SeriesTooLongError);
  expect(pushq.FIXED_POINTS_MAX).toBe(FIXED_POINTS_MAX);
  const input: pushq.ReportInput | undefined = undefined;
  expect(input).toBeUndefined();
});

it("a library run's SeriesTooLongError names no CLI flag: it says the resolution and the limit, and carries both", () => {
  const sim = pushq.createSimulation({ config: fileConfig(pushQueue('q', 5)), seed: 1, seriesResolutionSeconds: 0.001 });
  sim.addWorkload({ queue: 'q', count: 1000, ratePerSecond: 5 });
  let thrown: unknown;
  try {
    // Thrown by the call that passes the limit: here the run itself.
    sim.runUntilIdle();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(SeriesTooLongError);
  const err = thrown as SeriesTooLongError;
  expect(err.message).toBe(`a series resolution of 0.001 s gives more than ${FIXED_POINTS_MAX.toLocaleString('en')} points over this run: choose a coarser resolution`);
  expect([err.code, err.resolutionUs, err.maxPoints]).toEqual(['SERIES_TOO_LONG', 1000, FIXED_POINTS_MAX]);
});
