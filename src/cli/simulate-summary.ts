/**
 * The human summary of `pushq simulate`: one header line (seed and where it came from, virtual
 * and wall seconds, events), then a table with one row per queue that received tasks, then the
 * workload adds the engine refused, if any. Numbers are rounded for reading; `--json` has them exact.
 */
import type { SimulationStats } from '../simulate/simulation.js';
import { DEFAULT_SEED, type ScenarioRun } from '../scenario/run.js';

export interface SummaryInput {
  file: string;
  stats: SimulationStats;
  seedSource: ScenarioRun['seedSource'];
  wallSeconds: number;
  logFile: string | null;
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
export function seconds(value: number | null): string {
  if (value === null) return '—';
  if (value >= 100) return `${Math.round(value)}s`;
  return `${Number(value.toPrecision(3))}s`;
}

export function formatSummary(input: SummaryInput): string {
  const { stats } = input;
  const lines: string[] = [
    `${input.file}: seed ${stats.seed} (${SEED_SOURCE[input.seedSource]})`,
    `${round(stats.virtual_seconds)} virtual seconds in ${input.wallSeconds.toFixed(2)} wall seconds, ${stats.events} events` +
      (input.logFile === null ? '' : `, logged to ${input.logFile}`),
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
  else lines.push(...table(rows));
  const refused = Object.entries(stats.adds_refused);
  if (refused.length > 0) {
    lines.push('', 'adds refused by the engine (the tasks were not added; a refusal is not in the log):');
    for (const [queue, codes] of refused) {
      lines.push(`  ${queue}: ${Object.entries(codes).map(([code, n]) => `${n} × ${code}`).join(', ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function round(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

/** Columns padded to their widest cell: text left-aligned in the first column, the rest right-aligned. */
function table(rows: readonly string[][]): string[] {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ').trimEnd());
}
