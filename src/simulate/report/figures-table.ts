/**
 * The report's two tables, written as HTML on the server side (they read without script): the
 * figures of each queue, and which limit binds it (the configuration's first-order bound beside
 * the simulated throughput and drain time).
 *
 * Each row carries `data-queue` (clicking it shows that queue's charts) and each cell `data-field`,
 * the `--json` field it shows, so a test or a script can find a figure by name. One column is
 * derived, not a field, and says so: its cells carry `data-derived`, the formula
 * `bound.max_concurrent_requests / bound.mean_latency_seconds` (the second term of the bound's
 * min), so no `data-field` names a field that `--json` lacks.
 */
import { HOLD_CAUSES, type QueueBound } from '../../projections/series-types.js';
import { escapeHtml } from './escape.js';
import type { ReportQueueFigures } from './input.js';

/** A count as is; `—` for none. */
export function formatCount(value: number | null): string {
  return value === null ? '—' : String(value);
}

/** Seconds or a rate, to three significant figures (whole from 100 up); `—` for none. */
export function formatNumber(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 100) return String(Math.round(value));
  return String(Number(value.toPrecision(3)));
}

interface Column {
  /** The `--json` field, dotted for nested ones; null for a column computed from fields. */
  field: string | null;
  /** A computed column's formula over `--json` fields. */
  derived?: string;
  heading: string;
  /** The group heading above it. */
  group: string;
  cell(q: ReportQueueFigures): string;
}

const FIGURES: readonly Column[] = [
  { group: 'tasks', field: 'tasks_added', heading: 'added', cell: (q) => formatCount(q.tasks_added) },
  { group: 'tasks', field: 'succeeded', heading: 'succeeded', cell: (q) => formatCount(q.succeeded) },
  { group: 'tasks', field: 'failed', heading: 'gave up', cell: (q) => formatCount(q.failed) },
  { group: 'tasks', field: 'pending', heading: 'pending', cell: (q) => formatCount(q.pending) },
  { group: 'attempts', field: 'attempts', heading: 'all', cell: (q) => formatCount(q.attempts) },
  { group: 'attempts', field: 'retries', heading: 'retries', cell: (q) => formatCount(q.retries) },
  { group: 'backlog', field: 'backlog_max', heading: 'max', cell: (q) => formatCount(q.backlog_max) },
  { group: 'backlog', field: 'backlog_max_at_seconds', heading: 'at s', cell: (q) => formatNumber(q.backlog_max_at_seconds) },
  { group: 'backlog', field: 'drained_at_seconds', heading: 'drained at s', cell: (q) => formatNumber(q.drained_at_seconds) },
  { group: 'wait, seconds', field: 'wait_seconds.p50', heading: 'p50', cell: (q) => formatNumber(q.wait_seconds.p50) },
  { group: 'wait, seconds', field: 'wait_seconds.p90', heading: 'p90', cell: (q) => formatNumber(q.wait_seconds.p90) },
  { group: 'wait, seconds', field: 'wait_seconds.p99', heading: 'p99', cell: (q) => formatNumber(q.wait_seconds.p99) },
  { group: 'wait, seconds', field: 'wait_seconds.max', heading: 'max', cell: (q) => formatNumber(q.wait_seconds.max) },
  { group: 'wait, seconds', field: 'wait_seconds.mean', heading: 'mean', cell: (q) => formatNumber(q.wait_seconds.mean) },
  { group: 'latency, seconds', field: 'latency_seconds.p50', heading: 'p50', cell: (q) => formatNumber(q.latency_seconds.p50) },
  { group: 'latency, seconds', field: 'latency_seconds.p99', heading: 'p99', cell: (q) => formatNumber(q.latency_seconds.p99) },
  { group: 'completion, seconds', field: 'completion_seconds.p50', heading: 'p50', cell: (q) => formatNumber(q.completion_seconds.p50) },
  { group: 'completion, seconds', field: 'completion_seconds.p99', heading: 'p99', cell: (q) => formatNumber(q.completion_seconds.p99) },
  { group: 'completion, seconds', field: 'completion_seconds.max', heading: 'max', cell: (q) => formatNumber(q.completion_seconds.max) },
];

const BOUND: readonly Column[] = [
  { group: 'configuration', field: 'bound.rate_per_second', heading: 'rate /s', cell: (q) => formatNumber(q.bound.rate_per_second) },
  { group: 'configuration', field: 'bound.bucket_size', heading: 'bucket', cell: (q) => formatCount(q.bound.bucket_size) },
  { group: 'configuration', field: 'bound.max_concurrent_requests', heading: 'max concurrent', cell: (q) => formatCount(q.bound.max_concurrent_requests) },
  { group: 'configuration', field: 'bound.mean_latency_seconds', heading: 'mean latency s', cell: (q) => formatNumber(q.bound.mean_latency_seconds) },
  { group: 'throughput /s', field: null, derived: 'bound.max_concurrent_requests / bound.mean_latency_seconds', heading: 'concurrent / latency', cell: (q) => formatNumber(concurrencyTerm(q.bound)) },
  { group: 'throughput /s', field: 'bound.throughput_per_second', heading: 'bound', cell: (q) => formatNumber(q.bound.throughput_per_second) },
  { group: 'throughput /s', field: 'bound.binding', heading: 'binds', cell: (q) => q.bound.binding ?? '—' },
  { group: 'throughput /s', field: 'dispatch_rate_mean_per_second', heading: 'simulated', cell: (q) => formatNumber(q.dispatch_rate_mean_per_second) },
  { group: 'observed', field: 'dispatches_max_in_any_1s', heading: 'max in any 1 s', cell: (q) => formatCount(q.dispatches_max_in_any_1s) },
  { group: 'observed', field: 'in_flight_max', heading: 'in flight max', cell: (q) => formatCount(q.in_flight_max) },
  { group: 'drain, seconds', field: 'bound.drain_lower_bound_seconds', heading: 'lower bound', cell: (q) => formatNumber(q.bound.drain_lower_bound_seconds) },
  { group: 'drain, seconds', field: 'drained_at_seconds', heading: 'simulated', cell: (q) => formatNumber(q.drained_at_seconds) },
  { group: 'ready tasks waited', field: 'wait_by_cause_task_seconds', heading: 'mostly for', cell: (q) => mainCause(q) },
];

/** The second term of min(rate, max_concurrent_requests / mean latency); null when either is unknown. */
export function concurrencyTerm(b: QueueBound): number | null {
  return b.max_concurrent_requests !== null && b.mean_latency_seconds !== null && b.mean_latency_seconds > 0 ? b.max_concurrent_requests / b.mean_latency_seconds : null;
}

/** The cause that held the queue's ready tasks longest, with its ready-task-seconds. */
function mainCause(q: ReportQueueFigures): string {
  let best: string | null = null;
  let most = 0;
  for (const cause of HOLD_CAUSES) {
    const v = q.wait_by_cause_task_seconds[cause];
    if (v > most) [best, most] = [cause, v];
  }
  return best === null ? 'nothing' : `${best} (${formatNumber(most)} task·s)`;
}

function table(id: string, columns: readonly Column[], queues: Record<string, ReportQueueFigures>): string {
  const groups: { name: string; span: number }[] = [];
  for (const c of columns) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last.name === c.group) last.span++;
    else groups.push({ name: c.group, span: 1 });
  }
  const head =
    `<tr><th rowspan="2" scope="col">queue</th>${groups.map((g) => `<th colspan="${g.span}" scope="colgroup">${escapeHtml(g.name)}</th>`).join('')}</tr>\n` +
    `<tr>${columns.map((c) => `<th scope="col" title="${escapeHtml(c.field ?? c.derived ?? '')}">${escapeHtml(c.heading)}</th>`).join('')}</tr>`;
  const rows = Object.entries(queues).map(([name, q]) => {
    const cells = columns.map((c) => `<td ${c.field === null ? `data-derived="${escapeHtml(c.derived ?? '')}"` : `data-field="${escapeHtml(c.field)}"`}>${escapeHtml(c.cell(q))}</td>`).join('');
    return `<tr data-queue="${escapeHtml(name)}"><th scope="row">${escapeHtml(name)}</th>${cells}</tr>`;
  });
  const body = rows.length === 0 ? `<tr><td colspan="${columns.length + 1}">no queue received tasks</td></tr>` : rows.join('\n');
  return `<table id="${id}">\n<thead>\n${head}\n</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

export function figuresTable(queues: Record<string, ReportQueueFigures>): string {
  return table('figures', FIGURES, queues);
}

export function boundTable(queues: Record<string, ReportQueueFigures>): string {
  return table('bound', BOUND, queues);
}
