/** The tables of the experiment commands (src/cli/experiment-tables.ts): what a reader takes from them. */
import { describe, expect, it } from 'vitest';
import { formatTune } from '../../src/cli/experiment-tables.js';
import type { TuneEvaluation, TuneResult } from '../../src/experiments/tune.js';

/** One setting of `q.rate` whose worst seed drained the queue at `drained` seconds, judged against `q.drained_at_seconds <= 100s` (or `<= LIMIT` seconds, written `goal`). */
function evaluation(rate: number, drained: number, goal = 'q.drained_at_seconds <= 100s', limit = 100): TuneEvaluation {
  const met = drained <= limit;
  return {
    setting: { 'q.rate': rate },
    figures: { 'q.drained_at_seconds': { mean: drained, ci95_low: null, ci95_high: null, min: drained, max: drained } },
    met,
    goals: [{ goal, figure: 'drained_at_seconds', met, queues: [{ queue: 'q', value: drained, met, missed_by: met ? [] : [{ seed: 1, value: drained }] }] }],
  };
}

/** A tune that answered at `answer` (one seed), with `below` the step under it if one was run. */
function tuneResult(goal: string, search: TuneResult['search'], answer: TuneEvaluation, below: TuneEvaluation | null): TuneResult {
  return {
    answer: answer.setting,
    binding_goal: goal,
    evaluations: below === null ? [answer] : [answer, below],
    search,
    first_guess: null,
    on: 'every',
    seeds: [1],
    runs: below === null ? 1 : 2,
    at_answer: { setting: answer.setting, runs: [] },
    below_answer: below === null ? null : { setting: below.setting, runs: [] },
    best: null,
  };
}

describe('formatTune', () => {
  it('never shows a setting that misses its goal with a value that reads as meeting it (100.496 s is not "100 s" against <= 100s)', () => {
    const below = evaluation(1.785, 100.496104);
    const answer = evaluation(1.8, 99.660436);
    const result = tuneResult('q.drained_at_seconds <= 100s', 'bisection', answer, below);
    const rows = formatTune('s.yaml', result, 1, 0.5).split('\n');
    expect(rows.find((r) => r.startsWith('q.rate = 1.785/s'))).toMatch(/^q\.rate = 1\.785\/s +no +q\.drained_at_seconds 100\.5 s  ← one step below$/);
    expect(rows.find((r) => r.startsWith('q.rate = 1.8/s'))).toMatch(/yes +q\.drained_at_seconds 99\.7 s  ← answer$/);
  });

  it("an answer at the range's low end: the binding goal is said to be the one with the least room there, no lower setting run", () => {
    const low = evaluation(20, 10.3);
    const result = tuneResult('q.drained_at_seconds <= 100s', 'grid', low, null);
    expect(formatTune('s.yaml', result, 1, 0.5)).toContain("\nbinding goal: q.drained_at_seconds <= 100s (the answer is the range's low end, where every goal is met: this one has the least room; no lower setting was run)\n");
  });

  it("shows every value judged against one goal in the goal's unit: not '120 s' met next to '2.02 min' not met", () => {
    const goal = 'q.drained_at_seconds <= 2m';
    const below = evaluation(1.6, 121.2, goal, 120);
    const answer = evaluation(1.7, 119.6, goal, 120);
    const result = tuneResult(goal, 'bisection', answer, below);
    const rows = formatTune('s.yaml', result, 1, 0.5).split('\n');
    expect(rows.find((r) => r.startsWith('q.rate = 1.7/s'))).toMatch(/yes +q\.drained_at_seconds 1\.99 min  ← answer$/);
    expect(rows.find((r) => r.startsWith('q.rate = 1.6/s'))).toMatch(/no +q\.drained_at_seconds 2\.02 min  ← one step below$/);
  });
});
