/**
 * A hand-made report input of the real shapes (SeriesData, the `--json` figures), for tests that
 * need many queues or hostile names: `queues` queues of `points` intervals each, plus `*`.
 * The curves are plain formulas (a burst draining at the rate, an outage of failures), not a run.
 */
import type { SeriesColumns, SeriesData } from '../../src/projections/series-types.js';
import type { ReportInput, ReportQueueFigures } from '../../src/simulate/report/render.js';

export interface FixtureOptions {
  /** Queue names; default q0, q1, ... */
  names?: string[];
  queues?: number;
  points?: number;
  resolutionSeconds?: number;
}

function columns(points: number, resolution: number, k: number): SeriesColumns {
  const c: SeriesColumns = { t_seconds: [], added: [], dispatched: [], succeeded: [], failed_attempts: [], gave_up: [], ready: [], delayed: [], backoff: [], in_flight: [], tokens: [] };
  const rate = 10 + k;
  let backlog = 200 * (k + 1);
  for (let i = 0; i < points; i++) {
    const t = (i + 1) * resolution;
    const outage = i > points * 0.3 && i < points * 0.4;
    const dispatched = Math.min(backlog, Math.round(rate * resolution));
    const failed = outage ? dispatched : Math.round(dispatched * 0.05);
    backlog = Math.max(0, backlog - dispatched + failed);
    c.t_seconds.push(Number(t.toFixed(6)));
    c.added.push(i === 0 ? 200 * (k + 1) : 0);
    c.dispatched.push(dispatched);
    c.succeeded.push(dispatched - failed);
    c.failed_attempts.push(failed);
    c.gave_up.push(outage && i % 7 === 0 ? 1 : 0);
    c.ready.push(Math.round(backlog * 0.7));
    c.delayed.push(Math.round(backlog * 0.1));
    c.backoff.push(backlog - Math.round(backlog * 0.7) - Math.round(backlog * 0.1));
    c.in_flight.push(Math.min(5, dispatched));
    c.tokens.push(backlog > 0 ? 0 : 20);
  }
  return c;
}

function sum(parts: SeriesColumns[]): SeriesColumns {
  const first = parts[0] as SeriesColumns;
  const add = (field: Exclude<keyof SeriesColumns, 't_seconds' | 'tokens'>) => first[field].map((_, i) => parts.reduce((n, p) => n + (p[field][i] as number), 0));
  return {
    t_seconds: [...first.t_seconds],
    added: add('added'), dispatched: add('dispatched'), succeeded: add('succeeded'), failed_attempts: add('failed_attempts'), gave_up: add('gave_up'),
    ready: add('ready'), delayed: add('delayed'), backoff: add('backoff'), in_flight: add('in_flight'),
    tokens: first.tokens.map((_, i) => parts.reduce((n, p) => n + (p.tokens[i] ?? 0), 0)),
  };
}

function figures(c: SeriesColumns, k: number): ReportQueueFigures {
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const backlog = c.ready.map((r, i) => r + (c.delayed[i] as number) + (c.backoff[i] as number));
  const max = Math.max(...backlog);
  return {
    tasks_added: total(c.added),
    succeeded: total(c.succeeded),
    failed: total(c.gave_up),
    pending: 0,
    attempts: total(c.dispatched),
    retries: total(c.failed_attempts),
    dispatch_rate_mean_per_second: 10 + k - 0.25,
    dispatches_max_in_any_1s: 20 + k,
    in_flight_max: 5,
    latency_seconds: { p50: 0.2, p99: 1.5 },
    completion_seconds: { p50: 12.5, p99: 40.25, max: 41 },
    backlog_max: max,
    backlog_max_at_seconds: c.t_seconds[backlog.indexOf(max)] ?? null,
    drained_at_seconds: 48 + k,
    wait_seconds: { p50: 9.5, p90: 17, p99: 19.125, max: 20, mean: 10 },
    wait_by_cause_task_seconds: { tokens: 9500 + k, concurrency: 1200, paused: 0, disabled: 0, transport: 0, not_running: 0 },
    bound: {
      rate_per_second: 10 + k,
      bucket_size: 20,
      max_concurrent_requests: 5,
      mean_latency_seconds: 0.25,
      throughput_per_second: 10 + k,
      binding: 'rate',
      drain_lower_bound_seconds: 47.5,
    },
  };
}

export const FIXTURE_YAML = `# a fixture, not a scenario run
queue:
  - name: q0
    rate: 10/s
`;

export function fixtureReport(options: FixtureOptions = {}): ReportInput {
  const count = options.names?.length ?? options.queues ?? 2;
  const names = options.names ?? Array.from({ length: count }, (_, i) => `q${i}`);
  const points = options.points ?? 1000;
  const resolution = options.resolutionSeconds ?? 0.1;
  const perQueue = names.map((_, k) => columns(points, resolution, k));
  const series: SeriesData = { resolution_seconds: resolution, queues: { '*': sum(perQueue) } };
  const queues: Record<string, ReportQueueFigures> = {};
  names.forEach((name, k) => {
    series.queues[name] = perQueue[k] as SeriesColumns;
    queues[name] = figures(perQueue[k] as SeriesColumns, k);
  });
  return {
    scenario: { file: 'fixture.yaml', text: FIXTURE_YAML },
    seed: 7,
    stats: { virtual_seconds: points * resolution, wall_seconds: 0.5, events: 12345, queues, adds_refused: {} },
    series,
  };
}
