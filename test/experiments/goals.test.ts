/** Goals and assertions: one grammar (src/experiments/goals.ts), each bad one refused naming itself. */
import { describe, expect, it } from 'vitest';
import { ExperimentArgumentError } from '../../src/experiments/errors.js';
import { FIGURE_NAMES, figureValue } from '../../src/experiments/figures.js';
import { checkAssertions } from '../../src/cli/experiment-cli.js';
import { judge, parseGoal, shortfall } from '../../src/experiments/goals.js';
import { formatValue, formatValueAgainst } from '../../src/experiments/verdict.js';
import type { RunReport, RunReportQueue } from '../../src/simulate/run-report.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { runReport } from '../../src/simulate/run-report.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

const QUEUES = ['emails', 'reports'];

function refused(text: string): ExperimentArgumentError {
  try {
    parseGoal(text, 'goals', QUEUES);
  } catch (error) {
    expect(error).toBeInstanceOf(ExperimentArgumentError);
    // The library's words: the option `goals`, no flag of the CLI (which renders its own: `--goal`).
    expect((error as Error).message).not.toContain('--');
    return error as ExperimentArgumentError;
  }
  throw new Error(`${text} was accepted`);
}

/** A run report whose queues have the given figures (the rest zero). */
function run(seed: number, queues: Record<string, Partial<Record<'drained_at_seconds' | 'failed', number | null>>>): RunReport {
  const sim = createSimulation({ config: fileConfig(pushQueue('emails', 10), pushQueue('reports', 10)), seed });
  sim.addWorkload({ queue: 'emails', count: 1 });
  sim.addWorkload({ queue: 'reports', count: 1 });
  sim.runUntilIdle();
  const report = runReport(sim.stats(), 0);
  for (const [q, figures] of Object.entries(queues)) Object.assign(report.queues[q] as RunReportQueue, figures);
  return report;
}

describe('parseGoal', () => {
  it('reads a queue or all, a figure, an operator and a number or a duration', () => {
    expect(parseGoal('emails.wait_seconds.p99 <= 30s', 'goals', QUEUES)).toMatchObject({ queue: 'emails', figure: 'wait_seconds.p99', op: '<=', value: 30 });
    expect(parseGoal('all.drained_at_seconds<1h', 'goals', QUEUES)).toMatchObject({ queue: null, figure: 'drained_at_seconds', op: '<', value: 3600 });
    expect(parseGoal('reports.failed == 0', 'assertions', QUEUES)).toMatchObject({ queue: 'reports', op: '==', value: 0 });
    expect(parseGoal('emails.latency_seconds.p50 >= 250ms', 'goals', QUEUES).value).toBeCloseTo(0.25, 9);
    expect(parseGoal('emails.dispatch_rate_mean_per_second > 19.5', 'goals', QUEUES).value).toBe(19.5);
    // A fraction with no leading zero, as a duration takes it (.5s).
    expect(parseGoal('emails.wait_seconds.mean <= .5', 'goals', QUEUES).value).toBe(0.5);
  });

  it('refuses, naming the argument: bad syntax, an unknown queue, an unknown figure, a duration for a count', () => {
    expect(refused('emails.failed').message).toMatch(/^goals "emails.failed": expected 'QUEUE.FIGURE OP VALUE'/);
    expect(refused('billing.failed <= 1').message).toMatch(/no queue billing receives tasks.*emails, reports/);
    expect(refused('emails.wait_seconds.p95 <= 1s').message).toMatch(/wait_seconds.p95 is not a figure; figures: tasks_added/);
    expect(refused('emails.attempts <= 5m').message).toMatch(/5m is a duration, and attempts is not a time/);
    expect(refused('emails.failed <= lots').message).toMatch(/lots is neither a number nor a duration/);
    // A goal without its value would read as `<` and the value `=`: say what is missing.
    expect(refused('emails.failed <=').message).toMatch(/^goals "emails.failed <=": no value after the operator/);
    expect(refused('emails.failed <=>5').message).toMatch(/the value >5 starts like an operator/);
    expect(refused('emails.x <= 1')).toMatchObject({ option: 'goals', values: ['emails.x <= 1'], argument: 'goals "emails.x <= 1"' });
  });

  it('names every figure of a run report (and only those)', () => {
    const report = run(1, {});
    const leaves = (o: object, prefix = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) => (v !== null && typeof v === 'object' ? leaves(v as object, `${prefix}${k}.`) : typeof v === 'number' || v === null ? [`${prefix}${k}`] : []));
    expect([...FIGURE_NAMES].sort()).toEqual(leaves(report.queues.emails as RunReportQueue).sort());
    expect(figureValue(report.queues.emails, 'wait_seconds.p99')).toBe(report.queues.emails?.wait_seconds.p99);
    expect(figureValue(undefined, 'failed')).toBeNull();
  });
});

describe('judge', () => {
  const runs = [run(1, { emails: { drained_at_seconds: 50 }, reports: { drained_at_seconds: 70 } }), run(2, { emails: { drained_at_seconds: 65 }, reports: { drained_at_seconds: 55 } })];

  it('on every seed: every run must meet it; the worst value and the runs that miss are named', () => {
    const v = judge(parseGoal('emails.drained_at_seconds <= 60', 'goals', QUEUES), runs, 'every');
    expect(v).toMatchObject({ met: false, queues: [{ queue: 'emails', value: 65, met: false, missed_by: [{ seed: 2, value: 65 }] }] });
  });

  it('on every seed, == and != give the value of a run that misses, not the first run\'s (which may meet it)', () => {
    const failed = [run(1, { emails: { failed: 0 } }), run(2, { emails: { failed: 3 } }), run(3, { emails: { failed: 1 } })];
    expect(judge(parseGoal('emails.failed == 0', 'goals', QUEUES), failed, 'every')).toMatchObject({ met: false, queues: [{ value: 3, missed_by: [{ seed: 2, value: 3 }, { seed: 3, value: 1 }] }] });
    expect(judge(parseGoal('emails.failed != 1', 'goals', QUEUES), failed, 'every')).toMatchObject({ met: false, queues: [{ value: 1, missed_by: [{ seed: 3, value: 1 }] }] });
    // Met on every run: the value with the least room (nearest the target for !=).
    expect(judge(parseGoal('emails.failed != 2', 'goals', QUEUES), failed, 'every')).toMatchObject({ met: true, queues: [{ value: 3 }] });
    expect(judge(parseGoal('emails.failed == 0', 'goals', QUEUES), [failed[0]!], 'every')).toMatchObject({ met: true, queues: [{ value: 0 }] });
  });

  it('on the mean: the mean must meet it', () => {
    expect(judge(parseGoal('emails.drained_at_seconds <= 60', 'goals', QUEUES), runs, 'mean')).toMatchObject({ met: true, queues: [{ value: 57.5 }] });
  });

  it('on the mean: runs that all have the value of the goal meet it with == and <= (their mean is that value)', () => {
    const same = [1, 2, 3].map((seed) => run(seed, { emails: { drained_at_seconds: 0.1 } }));
    for (const text of ['emails.drained_at_seconds == 0.1', 'emails.drained_at_seconds <= 0.1', 'emails.drained_at_seconds >= 0.1']) {
      expect(judge(parseGoal(text, 'goals', QUEUES), same, 'mean'), text).toMatchObject({ met: true, queues: [{ value: 0.1 }] });
    }
  });

  it('all.: every queue must meet it', () => {
    const v = judge(parseGoal('all.drained_at_seconds <= 66', 'goals', QUEUES), runs, 'every');
    expect(v.met).toBe(false);
    expect(v.queues.map((q) => [q.queue, q.met])).toEqual([['emails', true], ['reports', false]]);
  });

  it('all. with no queue to judge (none received a task) is not met, on every seed and on the mean, and ranks last', () => {
    const empty = runReport(createSimulation({ config: fileConfig(pushQueue('emails', 10)), seed: 4 }).stats(), 0);
    expect(empty.queues).toEqual({});
    const goal = parseGoal('all.failed == 0', 'goals', []);
    for (const on of ['every', 'mean'] as const) expect(judge(goal, [empty, { ...empty, seed: 5 }], on)).toEqual({ goal: 'all.failed == 0', figure: 'failed', met: false, queues: [] });
    expect(shortfall(goal, judge(goal, [empty], 'every'))).toBe(Infinity);
  });

  it('a null figure (never drained) meets no goal', () => {
    const v = judge(parseGoal('emails.drained_at_seconds >= 0', 'goals', QUEUES), [run(3, { emails: { drained_at_seconds: null } })], 'every');
    expect(v.met).toBe(false);
    expect(judge(parseGoal('emails.drained_at_seconds >= 0', 'goals', QUEUES), [run(3, { emails: { drained_at_seconds: null } })], 'mean').met).toBe(false);
  });
});

describe('a value judged against a goal, for reading', () => {
  const goal = (text: string) => parseGoal(text, 'goals', QUEUES);

  it('is never rounded onto the side of the goal it is not on', () => {
    // 3 significant figures, or the unit from 100 up, would read 100 s: as meeting `<= 100s`.
    expect(formatValueAgainst(goal('emails.drained_at_seconds <= 100s'), 100.496104)).toBe('100.5 s');
    expect(formatValueAgainst(goal('emails.drained_at_seconds < 100s'), 99.9996)).toBe('99.9996 s');
    expect(formatValueAgainst(goal('emails.dispatch_rate_mean_per_second >= 20'), 19.996)).toBe('19.996');
    expect(formatValueAgainst(goal('emails.failed == 0'), 0.0001)).toBe('0.0001');
    // A goal written in another unit than the value's: 15m against 900.2 s (15 min when rounded).
    expect(formatValueAgainst(goal('emails.drained_at_seconds <= 15m'), 900.2)).toBe('15.003 min');
    expect(formatValueAgainst(goal('emails.latency_seconds.p99 > 250ms'), 0.2500001)).toBe('250.0001 ms');
  });

  it('reads as formatValue where the rounding keeps its side, and as the goal where it is the goal', () => {
    expect(formatValueAgainst(goal('emails.drained_at_seconds <= 100s'), 98.030199)).toBe(formatValue('drained_at_seconds', 98.030199));
    expect(formatValueAgainst(goal('emails.drained_at_seconds <= 100s'), 100.6)).toBe('101 s');
    expect(formatValueAgainst(goal('emails.latency_seconds.p99 <= 0.3'), 0.3)).toBe('300 ms');
    expect(formatValueAgainst(goal('emails.failed == 0'), null)).toBe('—');
  });

  it("reads every value judged against one goal in the goal's unit (a tune table's column: not 120 s met next to 2.02 min not met)", () => {
    const twoMinutes = goal('emails.drained_at_seconds <= 2m');
    expect(formatValueAgainst(twoMinutes, 119.6)).toBe('1.99 min');
    expect(formatValueAgainst(twoMinutes, 121.2)).toBe('2.02 min');
    expect(formatValueAgainst(twoMinutes, 120)).toBe('2 min');
    expect(formatValueAgainst(goal('emails.latency_seconds.p99 <= 500ms'), 2.5)).toBe('2500 ms');
    expect(formatValueAgainst(goal('emails.drained_at_seconds <= 90s'), 7_300)).toBe('7300 s');
  });

  it('in a failed assertion: the value shown misses the assertion as it does', () => {
    const lines: string[] = [];
    const io = { stdout: () => {}, stderr: (s: string) => lines.push(s) };
    const assertion = parseGoal('emails.drained_at_seconds <= 100s', 'assertions', QUEUES);
    checkAssertions('simulate', [assertion], [{ variant: null, runs: [run(1, { emails: { drained_at_seconds: 99 } }), run(2, { emails: { drained_at_seconds: 100.496104 } })] }], 'every', io);
    expect(lines).toEqual(['pushq simulate: assertion failed: emails.drained_at_seconds <= 100s: emails 100.5 s at seed 2 (1 of 2 runs)\n']);
  });
});
