/**
 * One run of an experiment, as data that crosses to a worker thread and back: the scenario (its
 * configuration possibly varied), the seed, and whether to keep the series. The run keeps no
 * event log (DiscardEventLog): its memory is the engine's state and projections, bounded by the
 * scenario's tasks, not by its events.
 */
import { performance } from 'node:perf_hooks';
import { DiscardEventLog } from '../log/discard-log.js';
import { runScenario, type ScenarioRun } from '../scenario/run.js';
import type { Scenario } from '../scenario/types.js';
import { runReport, type RunReport } from '../simulate/run-report.js';
import type { PackedSeries } from '../projections/series-types.js';

export interface RunJob {
  scenario: Scenario;
  seed: number;
  /** Keep the run's series: with this interval (µs), or automatic (null). Absent: no series. */
  series?: { resolutionUs: number | null };
  /** Names the run in errors: the scenario file (compare's label for it)… */
  file: string;
  /** …and, for `tune`, the setting it runs (`emails.rate=16/s`). */
  setting?: string;
}

export interface RunOutcome {
  report: RunReport;
  /** Packed to be transferred to the main thread, not copied (packed-series.ts). */
  series: PackedSeries | null;
  stoppedBy: ScenarioRun['stoppedBy'];
}

export function runJob(job: RunJob): RunOutcome {
  const started = performance.now();
  const resolutionUs = job.series?.resolutionUs ?? null;
  const run = runScenario(job.scenario, {
    seed: job.seed,
    log: (header) => new DiscardEventLog(header),
    series: job.series !== undefined,
    ...(resolutionUs === null ? {} : { seriesResolutionUs: resolutionUs }),
  });
  const wallSeconds = (performance.now() - started) / 1000;
  return { report: runReport(run.stats, wallSeconds, job.scenario.devServer), series: job.series === undefined ? null : run.simulation.packedSeries(), stoppedBy: run.stoppedBy };
}
