/**
 * Goals (`tune --goal`) and assertions (`--assert`): one grammar, `FIGURE OP VALUE`.
 *
 *   FIGURE  QUEUE.NAME (one queue) or all.NAME (every queue that receives tasks), NAME a figure
 *           of figures.ts: `emails.wait_seconds.p99`, `all.drained_at_seconds`
 *   OP      <  <=  >  >=  ==  !=
 *   VALUE   a number; for a figure in seconds also a duration: `30s`, `500ms`, `1h`
 *
 * `all.NAME OP V` holds when `NAME OP V` holds for every queue, and there is at least one: with no
 * queue to judge (none received a task) it does not hold, so a check that observed nothing fails.
 * A figure that is null in a run (a queue that never drained has no `drained_at_seconds`) meets no
 * goal. On every seed (the
 * default), a goal holds when it holds in every run; on the mean, when the mean over the runs does.
 */
import { parseDuration } from '../scenario/values.js';
import type { RunReport } from '../simulate/run-report.js';
import { ExperimentArgumentError } from './errors.js';
import { FIGURE_NAMES, figureValue, isFigureName, isSecondsFigure, type FigureName } from './figures.js';
import { summarise } from './statistics.js';

export const GOAL_OPS = ['<=', '>=', '==', '!=', '<', '>'] as const;
export type GoalOp = (typeof GOAL_OPS)[number];

/** How a goal is judged over the seeds: every run must meet it, or their mean must. */
export type GoalOn = 'every' | 'mean';

export interface Goal {
  /** As written. */
  text: string;
  /** The queue, or null for all. */
  queue: string | null;
  figure: FigureName;
  op: GoalOp;
  value: number;
}

const GOAL_PATTERN = /^\s*([A-Za-z0-9-]+)\.([A-Za-z0-9_.]+)\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$/;
const NUMBER_PATTERN = /^-?(?:\d+(?:\.\d+)?|\.\d+)$/;

/**
 * Parses a goal; `option` is the input it came from, for errors (`goals`, or `assertions`: the
 * CLI's `--assert`); `queues` are the queues that receive tasks (the only ones with figures).
 */
export function parseGoal(text: string, option: 'goals' | 'assertions', queues: readonly string[]): Goal {
  const refuse = (detail: string) => new ExperimentArgumentError(option, [text], detail);
  const m = GOAL_PATTERN.exec(text);
  if (m === null) throw refuse("expected 'QUEUE.FIGURE OP VALUE' or 'all.FIGURE OP VALUE', OP one of < <= > >= == != (e.g. 'emails.wait_seconds.p99 <= 30s')");
  const [, queueText, figureText, opText, valueText] = m as unknown as [string, string, string, GoalOp, string];
  const queue = queueText === 'all' ? null : queueText;
  if (queue !== null && !queues.includes(queue)) {
    throw refuse(`no queue ${queue} receives tasks in this scenario (queues with tasks: ${queues.join(', ') || 'none'}; all. means every one)`);
  }
  if (!isFigureName(figureText)) throw refuse(`${figureText} is not a figure; figures: ${FIGURE_NAMES.join(', ')}`);
  // `x <=` with no value matches as `<` and the value `=`; `x <== 5` as `<=` and `=`.
  if (valueText === '=') throw refuse(`no value after the operator (OP one of < <= > >= == !=, then a number or a duration)`);
  if (/^[<>=!]/.test(valueText)) throw refuse(`the value ${valueText} starts like an operator: OP is one of < <= > >= == !=, then the value`);
  let value: number;
  if (NUMBER_PATTERN.test(valueText)) value = Number(valueText);
  else {
    const duration = parseDuration(valueText);
    if (!duration.ok) throw refuse(`${valueText} is neither a number nor a duration (${duration.reason})`);
    if (!isSecondsFigure(figureText)) throw refuse(`${valueText} is a duration, and ${figureText} is not a time: give a number`);
    value = duration.value / 1e6;
  }
  return { text, queue, figure: figureText, op: opText, value };
}

/** Whether `value OP target` holds, exactly (as every goal and assertion is judged). */
export function holds(value: number, op: GoalOp, target: number): boolean {
  switch (op) {
    case '<': return value < target;
    case '<=': return value <= target;
    case '>': return value > target;
    case '>=': return value >= target;
    case '==': return value === target;
    case '!=': return value !== target;
  }
}

/** One queue's verdict on a goal: the value judged (the worst run's, or the mean) and the runs that miss it. */
export interface QueueVerdict {
  queue: string;
  /** The worst value over the runs (on every seed) or the mean (on the mean); null when a run has none. */
  value: number | null;
  met: boolean;
  /** Runs that miss the goal (on every seed): their seed and value. */
  missed_by: { seed: number; value: number | null }[];
}

export interface GoalVerdict {
  goal: string;
  figure: FigureName;
  met: boolean;
  queues: QueueVerdict[];
}

/** Judges `goal` on `runs` (one setting's or one variant's runs). */
export function judge(goal: Goal, runs: readonly RunReport[], on: GoalOn): GoalVerdict {
  const names = goal.queue !== null ? [goal.queue] : [...new Set(runs.flatMap((r) => Object.keys(r.queues)))];
  const queues = names.map((queue): QueueVerdict => {
    const values = runs.map((r) => figureValue(r.queues[queue], goal.figure));
    if (on === 'mean') {
      const mean = summarise(values).mean;
      return { queue, value: mean, met: mean !== null && holds(mean, goal.op, goal.value), missed_by: [] };
    }
    const missed = runs.flatMap((r, i) => {
      const v = values[i] as number | null;
      return v !== null && holds(v, goal.op, goal.value) ? [] : [{ seed: r.seed, value: v }];
    });
    return { queue, value: worst(values, goal.op, goal.value), met: missed.length === 0, missed_by: missed };
  });
  // No queue to judge (`all.` where no queue received a task): nothing observed meets no goal.
  return { goal: goal.text, figure: goal.figure, met: queues.length > 0 && queues.every((q) => q.met), queues };
}

/**
 * The value furthest on the wrong side of the goal: the largest for < and <=, the smallest for >
 * and >=, the furthest from the target for ==, the nearest to it for != (the target itself when a
 * run has it). Never a value that meets the goal while another run's misses it.
 */
function worst(values: readonly (number | null)[], op: GoalOp, target: number): number | null {
  if (values.some((v) => v === null) || values.length === 0) return null;
  const numbers = values as number[];
  if (op === '<' || op === '<=') return Math.max(...numbers);
  if (op === '>' || op === '>=') return Math.min(...numbers);
  const distance = (v: number) => Math.abs(v - target);
  return numbers.reduce((w, v) => ((op === '==' ? distance(v) > distance(w) : distance(v) < distance(w)) ? v : w));
}

/**
 * How far a verdict is from meeting its goal, relative to the goal's value: 0 when met, the
 * relative shortfall otherwise (1 for == and !=, Infinity without a value or without a queue). Ranks the best of
 * settings that all miss.
 */
export function shortfall(goal: Goal, verdict: GoalVerdict): number {
  if (verdict.queues.length === 0) return Infinity;
  let total = 0;
  for (const q of verdict.queues) {
    if (q.met) continue;
    if (q.value === null) return Infinity;
    if (goal.op === '==' || goal.op === '!=') total += 1;
    else total += Math.abs(q.value - goal.value) / Math.max(Math.abs(goal.value), 1e-9);
  }
  return total;
}

/** How much room a met goal leaves, relative to its value (the least over the queues); smaller binds harder. */
export function slack(goal: Goal, verdict: GoalVerdict): number {
  let least = Infinity;
  for (const q of verdict.queues) {
    if (q.value === null) continue;
    least = Math.min(least, Math.abs(q.value - goal.value) / Math.max(Math.abs(goal.value), 1e-9));
  }
  return least;
}
