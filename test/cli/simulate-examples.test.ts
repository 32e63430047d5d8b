/**
 * Every scenario in examples/ runs through the real CLI (`--json`), and its key figures are the
 * ones its comments promise. The worked example is App Engine's own (reference §5).
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

interface QueueFigures {
  tasks_added: number;
  succeeded: number;
  failed: number;
  pending: number;
  attempts: number;
  retries: number;
  dispatch_rate_mean_per_second: number;
  dispatches_max_in_any_1s: number;
  in_flight_max: number;
  latency_seconds: { p50: number; p99: number };
  completion_seconds: { p50: number; p99: number; max: number };
}
interface Report {
  seed: number;
  virtual_seconds: number;
  wall_seconds: number;
  events: number;
  queues: Record<string, QueueFigures>;
}

function simulate(file: string): Promise<Report> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['bin/pushq.js', 'simulate', file, '--json'], { cwd: ROOT }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${file}: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as Report);
    });
  });
}

/** Every scenario file under examples/ (queue.yaml files are queue configs, not scenarios). */
function scenarios(dir = join(ROOT, 'examples')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return scenarios(path);
    return entry.name.endsWith('.yaml') && entry.name !== 'queue.yaml' ? [relative(ROOT, path)] : [];
  });
}

describe('examples/', () => {
  const files = scenarios().sort();
  let reports = new Map<string, Report>();
  beforeAll(async () => {
    reports = new Map(await Promise.all(files.map(async (f) => [f, await simulate(f)] as const)));
  });
  const report = (file: string): Report => {
    const r = reports.get(file);
    if (r === undefined) throw new Error(`no report for ${file}`);
    return r;
  };

  it('has the scenarios the docs name, and every one runs to completion with every task settled', () => {
    expect(files).toEqual([
      'examples/default.yaml',
      'examples/experiments/newsletter-tuned.yaml',
      'examples/experiments/newsletter.yaml',
      'examples/retries/flaky-worker.yaml',
      'examples/retries/per-task-limit.yaml',
      'examples/worked-example/latency-300ms.yaml',
      'examples/worked-example/latency-5s-uncapped.yaml',
      'examples/worked-example/latency-5s.yaml',
    ]);
    expect([...reports.keys()]).toEqual(files);
    for (const [file, r] of reports) {
      for (const [name, q] of Object.entries(r.queues)) {
        expect(q.pending, `${file} ${name}`).toBe(0);
        expect(q.succeeded + q.failed, `${file} ${name}`).toBe(q.tasks_added);
      }
    }
  });

  it('worked example, 0.3 s latency with the cap of 10: about 20 tasks/s, at most 10 in flight', () => {
    const q = report('examples/worked-example/latency-300ms.yaml').queues['capped']!;
    expect(q.succeeded).toBe(1000);
    expect(q.dispatch_rate_mean_per_second).toBeGreaterThan(19.5);
    expect(q.dispatch_rate_mean_per_second).toBeLessThan(21.5);
    expect(q.in_flight_max).toBe(10);
  });

  it('worked example, 5 s latency without the cap: over 100 in flight, bursts bounded by bucket + rate', () => {
    const q = report('examples/worked-example/latency-5s-uncapped.yaml').queues['uncapped']!;
    expect(q.in_flight_max).toBeGreaterThan(100);
    expect(q.dispatches_max_in_any_1s).toBeGreaterThan(40);
    expect(q.dispatches_max_in_any_1s).toBeLessThanOrEqual(40 + 20);
  });

  it('worked example, 5 s latency with the cap: never more than 10 in flight, so 2 tasks/s', () => {
    const q = report('examples/worked-example/latency-5s.yaml').queues['capped']!;
    expect(q.in_flight_max).toBe(10);
    expect(q.dispatch_rate_mean_per_second).toBeCloseTo(2, 1);
  });

  it('retries: a flaky worker with an outage makes tasks retry, and some exhaust task_retry_limit 3', () => {
    const q = report('examples/retries/flaky-worker.yaml').queues['flaky']!;
    expect(q.retries).toBeGreaterThan(200);
    expect(q.failed).toBeGreaterThan(0);
    expect(q.failed).toBeLessThan(60);
    expect(q.attempts).toBe(q.tasks_added + q.retries);
    // Backoff stretches completion well past the 60 s of arrivals.
    expect(q.completion_seconds.max).toBeGreaterThan(20);
  });

  it('retries: per-task task_retry_limit 0 replaces the queue\'s: no retries, every failure is final', () => {
    const q = report('examples/retries/per-task-limit.yaml').queues['flaky']!;
    expect(q.retries).toBe(0);
    expect(q.attempts).toBe(600);
    // The 20 s outage at 10/s (~200 tasks) plus 20% of the rest.
    expect(q.failed).toBeGreaterThan(220);
    expect(q.failed).toBeLessThan(320);
  });

  // Its speed is the simulate bench's to measure (npm run bench -- simulate), not a timer's here.
  it('default.yaml: the burst, the cap, the outage\'s retries', () => {
    const r = report('examples/default.yaml');
    const emails = r.queues['emails']!;
    expect(emails.succeeded).toBe(1000);
    expect(emails.in_flight_max).toBe(10);
    expect(emails.dispatches_max_in_any_1s).toBeLessThanOrEqual(60);
    expect(emails.retries).toBeGreaterThan(100);
    const reports = r.queues['reports']!;
    expect(reports.tasks_added).toBe(300);
    expect(reports.retries).toBeGreaterThan(50);
    expect(reports.latency_seconds.p50).toBeGreaterThan(1);
    expect(reports.latency_seconds.p99).toBeLessThanOrEqual(4);
  });
});
