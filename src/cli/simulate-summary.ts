/**
 * The human summary of `pushq simulate`: one header line (seed and where it came from, virtual
 * and wall seconds, events), then a table with one row per queue that received tasks, then the
 * workload adds the engine refused, if any. Numbers are rounded for reading; `--json` has them exact.
 */
import { DEV_SERVER_RUN_LINE } from '../core/dev-server.js';
import type { SimulationStats } from '../simulate/simulation.js';
import { DEFAULT_SEED, type ScenarioRun } from '../scenario/run.js';
import { counted } from './counted.js';

export interface SummaryInput {
  file: string;
  stats: SimulationStats;
  seedSource: ScenarioRun['seedSource'];
  wallSeconds: number;
  logFile: string | null;
  /** The run followed dev_appserver's rules (scenario dev_server, --dev-server). */
  devServer?: boolean;
}

const SEED_SOURCE: Readonly<Record<ScenarioRun['seedSource'], string>> = {
  option: 'from --seed',
  scenario: 'from the scenario',
  default: `the default: neither --seed nor the scenario gives one, so ${DEFAULT_SEED}`,
};

const HEADINGS = [
  'queue', 'tasks', 'succeeded', 'failed', 'pending', 'attempts', 'retries',
  'rate/s', 'max/1s', 'in flight', 'latency p50/p99', 'completion p50/p99/max',
] as const;

/** Seconds, short: `0.3s`, `12.5s`, `—` for none. */
function seconds(value: number | null): string {
  if (value === null) return '—';
  if (value >= 100) return `${Math.round(value)}s`;
  return `${Number(value.toPrecision(3))}s`;
}

/** What a dev-server run's summary says first: the rules differ from production's, and the bound columns are production's. */
const DEV_SERVER_LINE = `${DEV_SERVER_RUN_LINE}. The bound columns are what queue.yaml allows in production.`;

export function formatSummary(input: SummaryInput): string {
  const { stats } = input;
  const lines: string[] = [
    `${input.file}: seed ${stats.seed} (${SEED_SOURCE[input.seedSource]})`,
    `${round(stats.virtual_seconds)} virtual seconds in ${input.wallSeconds.toFixed(2)} wall seconds, ${counted(stats.events, 'event')}` +
      (input.logFile === null ? '' : `, logged to ${input.logFile}`),
    ...(input.devServer === true ? [DEV_SERVER_LINE] : []),
    '',
  ];
  const rows: string[][] = [[...HEADINGS]];
  for (const [name, q] of Object.entries(stats.queues)) {
    rows.push([
      name,
      String(q.tasks_added),
      String(q.succeeded),
      String(q.failed),
      String(q.pending),
      String(q.attempts),
      String(q.retries),
      q.dispatch_rate_mean_per_second === null ? '—' : q.dispatch_rate_mean_per_second.toFixed(1),
      String(q.dispatches_max_in_any_1s),
      String(q.in_flight_max),
      `${seconds(q.latency_seconds.p50)} / ${seconds(q.latency_seconds.p99)}`,
      `${seconds(q.completion_seconds.p50)} / ${seconds(q.completion_seconds.p99)} / ${seconds(q.completion_seconds.max)}`,
    ]);
  }
  if (rows.length === 1) lines.push('no queue received tasks');
  else lines.push(...table(rows), '', ...table(whyRows(stats)));
  const refused = Object.entries(stats.adds_refused);
  if (refused.length > 0) {
    lines.push('', 'adds refused by the engine (the tasks were not added; a refusal is not in the log):');
    for (const [queue, codes] of refused) {
      lines.push(`  ${queue}: ${Object.entries(codes).map(([code, n]) => `${n} × ${code}`).join(', ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const WHY_HEADINGS = ['queue', 'backlog max (at)', 'drained at', 'wait p50/p90/p99/max', 'ready tasks waited for', 'bound/s', 'binds', 'drain ≥'] as const;

/** The second table: what explains the first (peak backlog, drain, waits and their causes) beside the bound the config implies. */
function whyRows(stats: SimulationStats): string[][] {
  const rows: string[][] = [[...WHY_HEADINGS]];
  for (const [name, q] of Object.entries(stats.queues)) {
    const w = q.wait_seconds;
    const causes = Object.entries(q.wait_by_cause_task_seconds)
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([cause, v]) => `${cause} ${taskSeconds(v)}`);
    const b = q.bound;
    rows.push([
      name,
      `${q.backlog_max} (${seconds(q.backlog_max_at_seconds)})`,
      seconds(q.drained_at_seconds),
      `${seconds(w.p50)} / ${seconds(w.p90)} / ${seconds(w.p99)} / ${seconds(w.max)}`,
      causes.length === 0 ? '—' : causes.join(', '),
      b.throughput_per_second === null ? '—' : b.throughput_per_second.toFixed(1),
      b.binding === null ? '—' : b.binding === 'max_concurrent_requests' ? 'concurrency' : b.binding === 'bucket_size' ? 'bucket 0' : 'rate',
      seconds(b.drain_lower_bound_seconds),
    ]);
  }
  return rows;
}

/** Ready-task-seconds, short: `950 task·s`, `23.1k task·s`. */
function taskSeconds(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M task·s`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k task·s`;
  return `${Number(value.toPrecision(3))} task·s`;
}

function round(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

/** Columns padded to their widest cell: text left-aligned in the first column, the rest right-aligned. */
function table(rows: readonly string[][]): string[] {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ').trimEnd());
}
