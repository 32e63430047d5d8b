/**
 * Model-based spec: the engine against a DELIBERATELY NAIVE reference model of App Engine's push
 * queue rules, written here from the reference (§2, §5), sharing no code with the engine:
 * one plain object per task, arrays scanned in full at every step (O(n²) is fine), the bucket as
 * an exact rational number of tokens (numerator over the rate's period).
 *
 * Rules modelled (reference §5, §2.1, §2.2, §3.5; S7, S11, S25, S27, S28, S31, S33, S34):
 * - the bucket starts full (bucket_size tokens), refills continuously at `rate`, up to
 *   bucket_size; each dispatch takes one token; no dispatch with less than one token;
 * - at most max_concurrent_requests attempts in flight per queue;
 * - among tasks whose ETA has come, dispatch in ETA order, ties by add order;
 * - 2xx succeeds; another status, or no answer within the 10-minute deadline, fails;
 * - a failure of attempt n at age a (since the first attempt) is retried after
 *   min(max, min·2^e·k) unless both set limits are exceeded; per-task retry options replace
 *   the queue's (S15);
 * - operator commands: a paused queue dispatches nothing; a deleted task is never attempted
 *   again, and an attempt in flight when it was deleted keeps its slot until it ends; a
 *   force-run dispatches a waiting task at once, without a token, ignoring pause, ETA and cap.
 *
 * Both are driven by the same workload (≤ 50 tasks, ≤ 3 queues) and a deterministic worker (its
 * status and latency a pure function of task and attempt), and must give identical per-task
 * attempt times and outcomes. Backoffs are whole microseconds (0 included), latencies odd
 * microseconds, and each add is its own command (the queue dispatches right after it), so the
 * comparison is not at the mercy of same-microsecond ties between unrelated happenings, which
 * App Engine leaves unordered ("best-effort ETA order").
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { QueueConfig, QueueFileConfig, RetryParameters } from '../src/config/types.js';
import { PushqError } from '../src/core/errors.js';
import type { EngineEvent } from '../src/core/events.js';
import { createSimulation } from '../src/simulate/simulation.js';
import { simRateArbitrary } from '../src/testing/arbitraries/sim-config.js';

// ---- inputs ------------------------------------------------------------------------------------

interface ModelQueueSpec {
  name: string;
  tokens: number;
  periodUs: number;
  bucket: number;
  maxConcurrent: number;
  retry: RetryParameters;
}

interface ModelTaskSpec {
  queue: string;
  addAtUs: number;
  /** ETA − add time; negative for an ETA in the past. */
  countdownUs: number;
  retry: RetryParameters | null;
}

/** Operator commands; the engine may refuse some (e.g. run a task in flight), and then nothing happens. */
type ModelCommand = { atUs: number; kind: 'pause' | 'resume'; queue: string } | { atUs: number; kind: 'delete' | 'run'; task: number };

interface ModelInput {
  queues: ModelQueueSpec[];
  tasks: ModelTaskSpec[];
  commands: ModelCommand[];
  /** Share of attempts that fail, in 1/1000, among a task's first `failingAttemptsMax` attempts. */
  failPerMille: number;
  failingAttemptsMax: number;
  workerSalt: number;
  horizonUs: number;
}

const DEADLINE_US = 600_000_000;

/** The worker: status and latency from (task, attempt) alone. */
function workerAnswer(input: ModelInput, task: number, attempt: number): { status: number | null; latencyUs: number } {
  let h = (input.workerSalt ^ Math.imul(task + 1, 0x9e3779b1) ^ Math.imul(attempt + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  const latencyUs = 1_001 + 2 * (h % 1_500_000); // odd, 1 ms .. 3 s
  // Failures stop after a few attempts, so a run stays small whatever the backoff (even 0).
  const fails = attempt < input.failingAttemptsMax && (h >>> 8) % 1000 < input.failPerMille;
  if (!fails) return { status: 200 + ((h >>> 4) % 3), latencyUs };
  const kinds = [500, 503, 404, 302, null] as const;
  return { status: kinds[(h >>> 20) % kinds.length]!, latencyUs };
}

/** Seconds with whole microseconds (backoffs finer than 1 µs would test only rounding). */
const usSeconds = (lo: number, hi: number) => fc.oneof(fc.integer({ min: lo, max: hi }).map((us) => us / 1e6), fc.integer({ min: lo / 1000, max: hi / 1000 }).map((ms) => ms / 1000));

const retryArbitrary: fc.Arbitrary<RetryParameters> = fc
  .record({
    task_retry_limit: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
    task_age_limit_seconds: fc.option(fc.integer({ min: 1, max: 300 }), { nil: null }),
    min: usSeconds(0, 5_000_000),
    extra: usSeconds(0, 100_000_000),
    max_doublings: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constant(16)),
  })
  .map(({ min, extra, ...rest }) => ({ ...rest, min_backoff_seconds: min, max_backoff_seconds: Math.round((min + extra) * 1e6) / 1e6 }));

const inputArbitrary: fc.Arbitrary<ModelInput> = fc.integer({ min: 1, max: 3 }).chain((queueCount) => {
  const names = ['default', 'q1', 'q2'].slice(0, queueCount);
  const queue = (name: string) =>
    fc
      .record({
        rate: simRateArbitrary(),
        bucket: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 10 }) }, { weight: 1, arbitrary: fc.constant(0) }),
        maxConcurrent: fc.integer({ min: 1, max: 10 }),
        retry: retryArbitrary,
      })
      .map(({ rate, ...rest }): ModelQueueSpec => ({ name, tokens: rate.exact!.tokens, periodUs: rate.exact!.period_us, ...rest }));
  const task = fc.record({
    queue: fc.constantFrom(...names),
    addAtUs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 30_000_000 }).map((x) => 2 * x + 1)),
    // Negative: an absolute ETA in the past (S20: accepted, runs at once, ahead of later ETAs).
    countdownUs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10_000_000 }).map((x) => 2 * x), fc.integer({ min: -5_000_000, max: -1 }).map((x) => 2 * x)),
    retry: fc.option(retryArbitrary, { nil: null, freq: 4 }),
  });
  const at = fc.integer({ min: 0, max: 40_000_000 }).map((x) => 2 * x + 1);
  const command = (taskCount: number): fc.Arbitrary<ModelCommand> =>
    fc.oneof(
      fc.record({ atUs: at, kind: fc.constantFrom('pause' as const, 'resume' as const), queue: fc.constantFrom(...names) }),
      fc.record({ atUs: at, kind: fc.constantFrom('delete' as const, 'run' as const), task: fc.integer({ min: 0, max: taskCount - 1 }) }),
    );
  const tasks = fc.array(task, { minLength: 1, maxLength: 50, size: 'max' });
  return fc.record({
    queues: fc.tuple(...names.map(queue)),
    tasksAndCommands: tasks.chain((list) => fc.tuple(fc.constant(list), fc.oneof(fc.constant<ModelCommand[]>([]), fc.array(command(list.length), { maxLength: 8 })))),
    failPerMille: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1000 }), fc.constant(1000)),
    failingAttemptsMax: fc.integer({ min: 0, max: 10 }),
    workerSalt: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    horizonUs: fc.constant(3 * 3600 * 1_000_000),
  }).map(({ tasksAndCommands: [tasks, commands], ...rest }): ModelInput => ({ ...rest, tasks, commands }));
});

// ---- the naive model ----------------------------------------------------------------------------

type Verdict = 'succeeded' | 'retry' | 'gave-up' | 'orphaned';
interface Attempt {
  at: number;
  endAt: number | null;
  verdict: Verdict | null;
}

interface ModelTask {
  index: number;
  spec: ModelTaskSpec;
  /** `orphaned`: deleted while in flight; the attempt keeps its slot until it ends. */
  state: 'not-added' | 'waiting' | 'in-flight' | 'backoff' | 'done' | 'orphaned';
  eta: number;
  firstAt: number | null;
  answerAt: number;
  answerStatus: number | null;
  attempts: Attempt[];
}

/** Tokens as an exact fraction: `numerator / periodUs` tokens. */
interface ModelBucket {
  numerator: number;
  at: number;
}

function delayUsFromReference(p: RetryParameters, n: number): number {
  const e = Math.min(n - 1, p.max_doublings);
  const k = n - e;
  const seconds = Math.min(p.max_backoff_seconds, p.min_backoff_seconds * Math.pow(2, e) * k);
  return Math.round(seconds * 1_000_000);
}

function retriedByReference(p: RetryParameters, n: number, ageUs: number): boolean {
  const retryOk = p.task_retry_limit === null ? null : p.task_retry_limit >= n;
  const ageOk = p.task_age_limit_seconds === null ? null : p.task_age_limit_seconds * 1_000_000 >= ageUs;
  if (retryOk === null && ageOk === null) return true;
  if (retryOk !== null && ageOk !== null) return retryOk || ageOk;
  return (retryOk ?? ageOk)!;
}

/** Deliberate mistakes, to show the comparison notices a model (or engine) that breaks a rule. */
interface Mutation {
  ignorePause?: boolean;
  orphanFreesSlot?: boolean;
  bucketStartsEmpty?: boolean;
  ignoreConcurrency?: boolean;
  addOrderOnly?: boolean;
  giveUpOnEitherLimit?: boolean;
}

function runModel(input: ModelInput, mutation: Mutation = {}): Attempt[][] {
  const tasks: ModelTask[] = input.tasks.map((spec, index) => ({ index, spec, state: 'not-added', eta: 0, firstAt: null, answerAt: 0, answerStatus: null, attempts: [] }));
  const queueOf = (name: string) => input.queues.find((q) => q.name === name)!;
  const buckets = new Map<string, ModelBucket>(input.queues.map((q) => [q.name, { numerator: mutation.bucketStartsEmpty ? 0 : q.bucket * q.periodUs, at: 0 }]));
  const refill = (q: ModelQueueSpec, now: number) => {
    const b = buckets.get(q.name)!;
    b.numerator = Math.min(q.bucket * q.periodUs, b.numerator + (now - b.at) * q.tokens);
    b.at = now;
  };
  const nextTokenAt = (q: ModelQueueSpec): number => {
    const b = buckets.get(q.name)!;
    if (q.bucket < 1) return Infinity;
    if (b.numerator >= q.periodUs) return b.at;
    return b.at + Math.ceil((q.periodUs - b.numerator) / q.tokens);
  };
  let now = 0;
  let answeredNow = false;
  const paused = new Set<string>();
  const occupies = (t: ModelTask) => t.state === 'in-flight' || (t.state === 'orphaned' && !mutation.orphanFreesSlot);
  const inFlightOf = (q: ModelQueueSpec) => tasks.filter((t) => t.spec.queue === q.name && occupies(t)).length;
  const start = (t: ModelTask): void => {
    const answer = workerAnswer(input, t.index, t.attempts.length);
    const noAnswer = answer.status === null || answer.latencyUs >= DEADLINE_US;
    t.state = 'in-flight';
    t.firstAt ??= now;
    t.answerAt = now + (noAnswer ? DEADLINE_US : answer.latencyUs);
    t.answerStatus = noAnswer ? null : answer.status;
    t.attempts.push({ at: now, endAt: null, verdict: null });
    if (t.answerAt === now) answeredNow = true;
  };
  // Dispatch while tokens, slots and due tasks allow, earliest ETA first, ties by add order.
  const dispatchAll = (): void => {
    for (const q of input.queues) {
      refill(q, now);
      if (paused.has(q.name) && !mutation.ignorePause) continue;
      for (;;) {
        if ((!mutation.ignoreConcurrency && inFlightOf(q) >= q.maxConcurrent) || buckets.get(q.name)!.numerator < q.periodUs) break;
        const due = tasks.filter((t) => t.spec.queue === q.name && t.state === 'waiting' && t.eta <= now);
        if (due.length === 0) break;
        // Add order: by add time, then by the order the workload lists them (the order they were added in).
        due.sort((a, b) => (mutation.addOrderOnly ? 0 : a.eta - b.eta) || a.spec.addAtUs - b.spec.addAtUs || a.index - b.index);
        buckets.get(q.name)!.numerator -= q.periodUs;
        start(due[0]!);
      }
    }
  };
  // A command, then the queue dispatches whatever it now may.
  const command = (c: ModelCommand): void => {
    if (c.kind === 'pause') paused.add(c.queue);
    if (c.kind === 'resume') paused.delete(c.queue);
    if (c.kind === 'delete' || c.kind === 'run') {
      const t = tasks[c.task]!;
      if (c.kind === 'delete' && (t.state === 'waiting' || t.state === 'backoff')) t.state = 'done';
      if (c.kind === 'delete' && t.state === 'in-flight') t.state = 'orphaned';
      // Force-run: no token, and neither pause, ETA nor the concurrency cap apply.
      if (c.kind === 'run' && (t.state === 'waiting' || t.state === 'backoff')) start(t);
    }
    dispatchAll();
  };
  for (let guard = 0; guard < 1_000_000; guard++) {
    answeredNow = false;
    // Each add is its own command: the queue dispatches right after it, before the next add.
    const adds = tasks.filter((t) => t.state === 'not-added' && t.spec.addAtUs === now).sort((a, b) => a.index - b.index);
    for (const t of adds) {
      t.state = 'waiting';
      t.eta = t.spec.addAtUs + t.spec.countdownUs;
      dispatchAll();
    }
    // Then the commands due now, in the order given.
    for (const c of input.commands) if (c.atUs === now) command(c);
    // Then answers and ends of backoff at `now`, in add order.
    for (const t of tasks) {
      if (t.state === 'orphaned' && t.answerAt === now) {
        Object.assign(t.attempts.at(-1)!, { endAt: now, verdict: 'orphaned' });
        t.state = 'done';
      }
      if (t.state === 'in-flight' && t.answerAt === now) {
        const attempt = t.attempts.at(-1)!;
        attempt.endAt = now;
        const params = t.spec.retry ?? queueOf(t.spec.queue).retry;
        if (t.answerStatus !== null && t.answerStatus >= 200 && t.answerStatus <= 299) {
          attempt.verdict = 'succeeded';
          t.state = 'done';
        } else if (
          mutation.giveUpOnEitherLimit
            ? retriedByReference({ ...params, task_age_limit_seconds: null }, t.attempts.length, 0) && retriedByReference({ ...params, task_retry_limit: null }, t.attempts.length, now - t.firstAt!)
            : retriedByReference(params, t.attempts.length, now - t.firstAt!)
        ) {
          attempt.verdict = 'retry';
          t.state = 'backoff';
          t.eta = now + delayUsFromReference(params, t.attempts.length);
        } else {
          attempt.verdict = 'gave-up';
          t.state = 'done';
        }
      }
      if (t.state === 'backoff' && t.eta <= now) t.state = 'waiting';
    }
    dispatchAll();
    if (answeredNow) continue;
    // The next moment anything can happen.
    let next = Infinity;
    for (const c of input.commands) if (c.atUs > now) next = Math.min(next, c.atUs);
    for (const t of tasks) {
      if (t.state === 'not-added') next = Math.min(next, t.spec.addAtUs);
      if (t.state === 'in-flight' || t.state === 'orphaned') next = Math.min(next, t.answerAt);
      if (t.state === 'backoff') next = Math.min(next, t.eta);
    }
    for (const q of input.queues) {
      const etas = tasks.filter((t) => t.spec.queue === q.name && t.state === 'waiting').map((t) => t.eta);
      if (paused.has(q.name) && !mutation.ignorePause) continue;
      if ((mutation.ignoreConcurrency || inFlightOf(q) < q.maxConcurrent) && etas.length > 0) next = Math.min(next, Math.max(Math.min(...etas), nextTokenAt(q), now + 1));
    }
    if (next > input.horizonUs) break;
    now = next;
  }
  return tasks.map((t) => t.attempts);
}

// ---- the engine, driven by the same input -------------------------------------------------------

function engineConfig(input: ModelInput): QueueFileConfig {
  const queues = input.queues.map(
    (q): QueueConfig => ({
      name: q.name,
      mode: 'push',
      state: 'running',
      rate_per_second: (q.tokens * 1_000_000) / q.periodUs,
      rate_exact: { tokens: q.tokens, period_us: q.periodUs },
      bucket_size: q.bucket,
      max_concurrent_requests: q.maxConcurrent,
      target: null,
      retry_parameters: q.retry,
    }),
  );
  return { total_storage_limit_bytes: null, queues };
}

function runEngine(input: ModelInput): { attempts: Attempt[][]; events: EngineEvent[] } {
  const sim = createSimulation({
    config: engineConfig(input),
    worker: ({ request }) => {
      const a = workerAnswer(input, Number(request.name.slice(1)), request.retryCount);
      return { status: a.status, latencyMs: a.latencyUs / 1000 };
    },
  });
  const order = input.tasks.map((spec, index) => ({ spec, index })).sort((a, b) => a.spec.addAtUs - b.spec.addAtUs || a.index - b.index);
  for (const { spec, index } of order) {
    sim.schedule(spec.addAtUs / 1e6, (s) => {
      const when = spec.countdownUs >= 0 ? { countdownSeconds: spec.countdownUs / 1e6 } : { etaSeconds: (spec.addAtUs + spec.countdownUs) / 1e6 };
      s.addTask({ queue: spec.queue, name: `t${index}`, ...when, ...(spec.retry ? { retry: spec.retry } : {}) });
    });
  }
  for (const c of [...input.commands].sort((a, b) => a.atUs - b.atUs)) {
    sim.schedule(c.atUs / 1e6, (s) => {
      try {
        if ('queue' in c) {
          if (c.kind === 'pause') s.pauseQueue(c.queue);
          else s.resumeQueue(c.queue);
        } else {
          const queue = input.tasks[c.task]!.queue;
          if (c.kind === 'delete') s.deleteTask(queue, `t${c.task}`);
          else s.runTask(queue, `t${c.task}`);
        }
      } catch (err) {
        if (!(err instanceof PushqError)) throw err; // refused: nothing happened
      }
    });
  }
  sim.runUntilIdle({ maxSeconds: input.horizonUs / 1e6 });
  const events = sim.events;
  const byId = new Map<number, Attempt[]>();
  const indexOfId = new Map<number, number>();
  for (const e of events) {
    if (e.type === 'TaskAdded') {
      indexOfId.set(e.id, Number(e.options!.name!.slice(1)));
      byId.set(e.id, []);
    }
    if (e.type === 'AttemptDispatched') byId.get(e.id)!.push({ at: e.t, endAt: null, verdict: null });
    if (e.type === 'AttemptSucceeded' || e.type === 'AttemptFailed' || e.type === 'TaskGaveUp' || e.type === 'AttemptOrphaned') {
      const a = byId.get(e.id)!.at(-1)!;
      a.endAt = e.t;
      a.verdict = e.type === 'AttemptSucceeded' ? 'succeeded' : e.type === 'AttemptFailed' ? 'retry' : e.type === 'TaskGaveUp' ? 'gave-up' : 'orphaned';
    }
  }
  const attempts: Attempt[][] = input.tasks.map(() => []);
  for (const [id, list] of byId) attempts[indexOfId.get(id)!] = list;
  return { attempts, events };
}

function firstDifference(model: Attempt[][], engine: Attempt[][]): string | null {
  for (let i = 0; i < model.length; i++) {
    const a = JSON.stringify(model[i]);
    const b = JSON.stringify(engine[i]);
    if (a !== b) return `task t${i}:\n  model:  ${a}\n  engine: ${b}`;
  }
  return null;
}

describe('engine = naive reference model', () => {
  it('identical per-task attempt times and outcomes for generated queues, workloads and workers', () => {
    fc.assert(
      fc.property(inputArbitrary, (input) => {
        const model = runModel(input);
        const engine = runEngine(input).attempts;
        const diff = firstDifference(model, engine);
        if (diff !== null) expect.fail(diff);
      }),
      { numRuns: 120 },
    );
  });

  it('the comparison can fail: each deliberately broken model disagrees with the engine on some input', () => {
    const mutations: Mutation[] = [{ bucketStartsEmpty: true }, { ignoreConcurrency: true }, { addOrderOnly: true }, { giveUpOnEitherLimit: true }, { ignorePause: true }, { orphanFreesSlot: true }];
    for (const mutation of mutations) {
      const result = fc.check(
        fc.property(inputArbitrary, (input) => firstDifference(runModel(input, mutation), runEngine(input).attempts) === null),
        { numRuns: 300, seed: 42, endOnFailure: true },
      );
      expect([mutation, result.failed]).toEqual([mutation, true]);
    }
  });

  it('a worked case: bucket 1 at 1/s, three tasks due at 0 → attempts at 0, 1 s, 2 s', () => {
    const input: ModelInput = {
      queues: [{ name: 'default', tokens: 1, periodUs: 1_000_000, bucket: 1, maxConcurrent: 5, retry: { task_retry_limit: 0, task_age_limit_seconds: null, min_backoff_seconds: 0.5, max_backoff_seconds: 1, max_doublings: 16 } }],
      tasks: [0, 1, 2].map(() => ({ queue: 'default', addAtUs: 0, countdownUs: 0, retry: null })),
      failPerMille: 0,
      failingAttemptsMax: 0,
      commands: [],
      workerSalt: 3,
      horizonUs: 3600 * 1_000_000,
    };
    const model = runModel(input);
    expect(model.map((a) => a.map((x) => [x.at, x.verdict]))).toEqual([[[0, 'succeeded']], [[1_000_000, 'succeeded']], [[2_000_000, 'succeeded']]]);
    expect(firstDifference(model, runEngine(input).attempts)).toBeNull();
  });
});
