/** docs/simulate.md documents the HTML report's functions and errors as API: `import { ... } from 'pushq'` gives them. */
import { expect, it } from 'vitest';
import * as pushq from '../../src/index.js';
import { FIXED_POINTS_MAX, SeriesTooLongError } from '../../src/projections/series.js';
import { renderReport } from '../../src/simulate/report/render.js';
import { checkReportPath, ReportPathError, writeReportFile } from '../../src/simulate/report/write.js';

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
