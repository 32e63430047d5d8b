/**
 * Invariant checkers over an event list: the laws of DESIGN.md ("Queue actors") and the retry
 * rules of the reference (§2.1, §2.2), written from the reference, independently of the engine's
 * own code (no import from src/core's retry policy or token bucket). Each returns the violations
 * it finds, each with the index of the offending event; an empty list means the law held.
 *
 * Each checker walks the events with a ReferenceFacts projection (src/projections/reference-facts.ts):
 * it judges an event against the facts before it, then shows the event to the facts. The queue
 * configuration in force is read from the ConfigApplied events (a reload starts a new epoch),
 * unless `config` is passed, which then applies throughout. The walk is not `fold`: the events are
 * not applied to an engine state, so a run tampered with on purpose is judged, not refused.
 *
 * Laws checked:
 * - rate: in every window, non-forced dispatches ≤ bucket_size + rate·T, exactly (BigInt over
 *   the exact rate): all windows [tᵢ, tⱼ] between two dispatches, and windows [tᵢ, tᵢ+T) for
 *   the given lengths T; across a reload too, unless it changed the queue's rate or bucket_size;
 *   not across a test reset (QueuePurged with refillBucket), which fills the bucket anew;
 * - concurrency: no non-forced dispatch while max_concurrent_requests attempts are in flight
 *   (a force-run, like Cloud Tasks RunTask, is not limited, so only then may in-flight exceed it);
 * - ETA: no non-forced dispatch before the task's ETA (TaskAdded eta, then AttemptFailed retryAt),
 *   and no BackoffElapsed before the retry time;
 * - pause: no non-forced dispatch while the queue is paused, disabled, or at rate 0;
 * - retry delays: delayUs = min(max, min·2^e·k) with n = attempts so far (§2.1), retryAt = t + delay;
 * - give-up: a failure gives up exactly when the §2.2 rule says, and 2xx is exactly success (S7).
 *
 * A dispatch made in dev-server mode (S39: the settings in force say `devServer`) is judged by that
 * mode's rules instead, which ignore rate, bucket_size, max_concurrent_requests, a pause and rate 0:
 * the rate law leaves it out, the pause law holds it only to a disabled queue, and
 * dev-server-laws.ts checks what the mode keeps instead (one attempt at a time for the whole app,
 * the lowest ETA of any queue first). The concurrency law holds there by itself (one in flight).
 */
import type { QueueConfig, QueueFileConfig, RetryParameters } from '../core/queue-config.js';
import type { EngineEvent } from '../core/events.js';
import { ReferenceFacts } from '../projections/reference-facts.js';
import { checkDevServerLaws } from './dev-server-laws.js';

export { checkDevServerLaws };

/** `one-at-a-time` and `eta-order`: dev-server mode's (dev-server-laws.ts). */
export type Law = 'rate' | 'concurrency' | 'eta' | 'pause' | 'retry-delay' | 'give-up' | 'one-at-a-time' | 'eta-order';

export interface Violation {
  law: Law;
  /** Index in the event list of the event that broke the law. */
  index: number;
  message: string;
}

const US = 1_000_000;

function unknownTask(index: number, law: Law, id: number): Violation {
  return { law, index, message: `event names task ${id}, which no TaskAdded introduced` };
}

/** A task whose queue no configuration names: judged against nothing, so said as it is, not as a breach of the law's numbers. */
function unknownQueue(index: number, law: Law, id: number, queue: string, config: QueueFileConfig | undefined): Violation {
  const where = config ? 'the config passed to the checker' : "the log's ConfigApplied events";
  return { law, index, message: `task ${id} is in queue ${queue}, which ${where} do${config ? 'es' : ''} not configure` };
}

// ---- rate ---------------------------------------------------------------------------------------

export interface RateLawOptions {
  /** Window lengths T (µs) checked from each dispatch, besides all dispatch-to-dispatch windows. */
  windowsUs?: readonly number[];
}

export const DEFAULT_WINDOWS_US: readonly number[] = [1_000, 100_000, US, 10 * US, 60 * US, 3600 * US];

export function checkRateLaw(events: readonly EngineEvent[], config?: QueueFileConfig, options: RateLawOptions = {}): Violation[] {
  const facts = new ReferenceFacts(config);
  const out: Violation[] = [];
  const windowsUs = options.windowsUs ?? DEFAULT_WINDOWS_US;
  // Per queue: the non-forced dispatch times and their event indexes since its bucket was last
  // set anew. A reload that leaves a queue's bucket as it was (same rate and bucket_size, or the
  // queue left out of the file: disabled, its bucket kept) does not end its series: the bucket
  // refills continuously across it (reference S25), so a reload is no free burst and windows run
  // across it. A changed bucket starts the queue's windows afresh, and so does a test reset that
  // filled it (QueuePurged.refillBucket; a purge, or a reset an earlier pushq logged without that
  // flag, left the bucket as it was, so windows run across those).
  const series = new Map<string, { t: number[]; index: number[]; q: QueueConfig | undefined }>();
  const reloaded = (next: QueueFileConfig): void => {
    for (const [name, s] of series) {
      const q = next.queues.find((c) => c.name === name);
      if (q === undefined || sameBucket(s.q, q)) continue;
      checkSeries(name, s.q, s.t, s.index, windowsUs, out);
      series.delete(name);
    }
  };
  const refilled = (name: string): void => {
    const s = series.get(name);
    if (s === undefined) return;
    checkSeries(name, s.q, s.t, s.index, windowsUs, out);
    series.delete(name);
  };
  events.forEach((e, index) => {
    if (e.type === 'ConfigApplied' && e.settingsOnly !== true && !config) reloaded(e.config);
    if (e.type === 'QueuePurged' && e.refillBucket === true) refilled(e.queue);
    // Dev-server mode takes no token (the stub never reads the bucket), so its dispatches are not in any window.
    if (e.type === 'AttemptDispatched' && !e.forced && !facts.devServer) {
      const t = facts.queueOf(e.id);
      if (!t) {
        out.push(unknownTask(index, 'rate', e.id));
      } else {
        let s = series.get(t.queue);
        if (!s) series.set(t.queue, (s = { t: [], index: [], q: facts.queues.get(t.queue) }));
        s.t.push(e.t);
        s.index.push(index);
      }
    }
    facts.observe(e);
  });
  for (const [name, s] of series) checkSeries(name, s.q, s.t, s.index, windowsUs, out);
  return out;
}

/** Whether a reload to `next` leaves the token bucket of a queue configured as `before` as it was. */
function sameBucket(before: QueueConfig | undefined, next: QueueConfig): boolean {
  const a = before?.rate_exact ?? null;
  const b = next.rate_exact;
  return a !== null && b !== null && before!.mode === next.mode && a.tokens === b.tokens && a.period_us === b.period_us && before!.bucket_size === next.bucket_size;
}

function checkSeries(name: string, q: QueueConfig | undefined, times: number[], indexes: number[], windowsUs: readonly number[], out: Violation[]): void {
  if (times.length === 0) return;
  const rate = q?.rate_exact ?? null;
  if (!q) {
    out.push({ law: 'rate', index: indexes[0]!, message: `queue ${name}, which no configuration the checker was given or read configures, dispatched ${times.length} time(s)` });
    return;
  }
  if (rate === null || q.bucket_size === null) {
    out.push({ law: 'rate', index: indexes[0]!, message: `queue ${name} has no token rate (rate 0, or a pull queue) but dispatched ${times.length} time(s)` });
    return;
  }
  const P = BigInt(rate.period_us);
  const R = BigInt(rate.tokens);
  const C = BigInt(q.bucket_size) * P;
  const n = times.length;
  // All windows [tᵢ, tⱼ]: (j-i+1)·P ≤ C + R·(tⱼ-tᵢ)  ⇔  g(j) - h(i) ≤ C, with
  // g(j) = (j+1)·P - R·tⱼ and h(i) = i·P - R·tᵢ. A suffix maximum of g makes it O(n).
  let bestG = -(2n ** 200n);
  let bestJ = -1;
  for (let i = n - 1; i >= 0; i--) {
    const ti = BigInt(times[i]!);
    const g = BigInt(i + 1) * P - R * ti;
    if (g > bestG) {
      bestG = g;
      bestJ = i;
    }
    const h = BigInt(i) * P - R * ti;
    if (bestG - h > C) {
      out.push({
        law: 'rate',
        index: indexes[bestJ]!,
        message: `queue ${name}: ${bestJ - i + 1} dispatches in [${times[i]}, ${times[bestJ]}] µs exceed bucket_size ${q.bucket_size} + ${rate.tokens}/${rate.period_us} per µs × ${times[bestJ]! - times[i]!} µs`,
      });
      return; // one report per queue and bucket is enough to fail, and keeps the output readable
    }
  }
  // Windows [tᵢ, tᵢ+T) for each T: count·P ≤ C + R·T.
  for (const T of windowsUs) {
    let j = 0;
    for (let i = 0; i < n; i++) {
      if (j < i) j = i;
      while (j < n && times[j]! < times[i]! + T) j++;
      const count = j - i;
      if (BigInt(count) * P > C + R * BigInt(T)) {
        out.push({ law: 'rate', index: indexes[j - 1]!, message: `queue ${name}: ${count} dispatches in [${times[i]}, ${times[i]! + T}) µs exceed bucket_size ${q.bucket_size} + rate × ${T} µs` });
        return;
      }
    }
  }
}

// ---- concurrency, ETA, pause ------------------------------------------------------------------------

export function checkConcurrency(events: readonly EngineEvent[], config?: QueueFileConfig): Violation[] {
  const facts = new ReferenceFacts(config);
  const out: Violation[] = [];
  events.forEach((e, index) => {
    if (e.type === 'AttemptDispatched' && !e.forced) {
      const t = facts.queueOf(e.id);
      if (!t) out.push(unknownTask(index, 'concurrency', e.id));
      else if (!facts.queues.has(t.queue)) out.push(unknownQueue(index, 'concurrency', e.id, t.queue, config));
      else {
        const max = facts.queues.get(t.queue)?.max_concurrent_requests ?? 0;
        const before = facts.inFlight.get(t.queue) ?? 0;
        if (before + 1 > max) out.push({ law: 'concurrency', index, message: `queue ${t.queue}: dispatch of task ${e.id} makes ${before + 1} in flight, above max_concurrent_requests ${max}` });
      }
    }
    facts.observe(e);
    if (e.type === 'AttemptSucceeded' || e.type === 'AttemptFailed' || e.type === 'TaskGaveUp' || e.type === 'AttemptOrphaned') {
      const t = facts.queueOf(e.id);
      if (t && (facts.inFlight.get(t.queue) ?? 0) < 0) out.push({ law: 'concurrency', index, message: `queue ${t.queue}: an attempt of task ${e.id} ended that was never dispatched` });
    }
  });
  return out;
}

export function checkEtaRespected(events: readonly EngineEvent[]): Violation[] {
  const facts = new ReferenceFacts(undefined);
  const out: Violation[] = [];
  events.forEach((e, index) => {
    if ((e.type === 'AttemptDispatched' && !e.forced) || e.type === 'BackoffElapsed') {
      const t = facts.queueOf(e.id);
      if (!t) out.push(unknownTask(index, 'eta', e.id));
      else if (e.t < t.eta) out.push({ law: 'eta', index, message: `${e.type} of task ${e.id} at ${e.t} µs, before its ETA ${t.eta} µs` });
    }
    facts.observe(e);
  });
  return out;
}

export function checkNoDispatchWhilePaused(events: readonly EngineEvent[], config?: QueueFileConfig): Violation[] {
  const facts = new ReferenceFacts(config);
  const out: Violation[] = [];
  events.forEach((e, index) => {
    if (e.type === 'AttemptDispatched' && !e.forced) {
      const t = facts.queueOf(e.id);
      if (!t) out.push(unknownTask(index, 'pause', e.id));
      else if (!facts.queues.has(t.queue)) out.push(unknownQueue(index, 'pause', e.id, t.queue, config));
      else if (facts.devServer) {
        // The mode dispatches from paused and rate-0 queues; a queue queue.yaml no longer lists stays held.
        if (facts.disabled.get(t.queue) === true) out.push({ law: 'pause', index, message: `queue ${t.queue} is disabled (left out of queue.yaml by a reload), yet task ${e.id} was dispatched at ${e.t} µs` });
      } else if (facts.paused.get(t.queue) === true) out.push({ law: 'pause', index, message: `queue ${t.queue} is paused or disabled, yet task ${e.id} was dispatched at ${e.t} µs` });
      else if ((facts.queues.get(t.queue)?.rate_exact ?? null) === null) out.push({ law: 'pause', index, message: `queue ${t.queue} has rate 0, yet task ${e.id} was dispatched at ${e.t} µs` });
    }
    facts.observe(e);
  });
  return out;
}

// ---- retry rules (reference §2) ------------------------------------------------------------------------

/** §2.1, in µs: the backoff converted once from seconds (rounded), then min(max, min·2^e·k). */
export function referenceBackoffUs(n: number, p: RetryParameters): number {
  const minUs = BigInt(Math.round(p.min_backoff_seconds * US));
  const maxUs = BigInt(Math.round(p.max_backoff_seconds * US));
  const e = Math.min(n - 1, p.max_doublings);
  const k = BigInt(n - e);
  if (minUs === 0n) return 0;
  if (e >= 64) return Number(maxUs); // min ≥ 1 µs times 2^64 passes any max a double can hold
  const raw = minUs * (1n << BigInt(e)) * k;
  return Number(raw < maxUs ? raw : maxUs);
}

/** §2.2: whether a task that failed its n-th attempt at age `ageUs` (since its first) is retried. */
export function referenceShouldRetry(p: RetryParameters, n: number, ageUs: number): boolean {
  const retryOk = p.task_retry_limit === null ? null : p.task_retry_limit >= n;
  const ageOk = p.task_age_limit_seconds === null ? null : p.task_age_limit_seconds * US >= ageUs;
  if (retryOk === null && ageOk === null) return true;
  if (retryOk === null) return ageOk!;
  if (ageOk === null) return retryOk;
  return retryOk || ageOk;
}

export function checkRetryDelays(events: readonly EngineEvent[], config?: QueueFileConfig): Violation[] {
  const facts = new ReferenceFacts(config);
  const out: Violation[] = [];
  events.forEach((e, index) => {
    if (e.type === 'AttemptFailed') {
      const t = facts.queueOf(e.id);
      const p = t && facts.retryParameters(t);
      if (!t) out.push(unknownTask(index, 'retry-delay', e.id));
      else if (!p) out.push(unknownQueue(index, 'retry-delay', e.id, t.queue, config));
      else {
        const expected = referenceBackoffUs(t.attempts, p);
        if (e.retry !== t.attempts) out.push({ law: 'retry-delay', index, message: `task ${e.id}: retry ${e.retry}, but ${t.attempts} attempts were made` });
        if (e.delayUs !== expected) out.push({ law: 'retry-delay', index, message: `task ${e.id}, retry ${t.attempts}: delay ${e.delayUs} µs, the reference formula gives ${expected} µs` });
        if (e.retryAt !== e.t + e.delayUs) out.push({ law: 'retry-delay', index, message: `task ${e.id}: retryAt ${e.retryAt} ≠ t ${e.t} + delay ${e.delayUs}` });
      }
    }
    facts.observe(e);
  });
  return out;
}

export function checkGiveUp(events: readonly EngineEvent[], config?: QueueFileConfig): Violation[] {
  const facts = new ReferenceFacts(config);
  const out: Violation[] = [];
  events.forEach((e, index) => {
    if (e.type === 'AttemptSucceeded' || e.type === 'AttemptFailed' || e.type === 'TaskGaveUp') {
      const t = facts.queueOf(e.id);
      const p = t && facts.retryParameters(t);
      if (!t) out.push(unknownTask(index, 'give-up', e.id));
      else if (!p) out.push(unknownQueue(index, 'give-up', e.id, t.queue, config));
      else {
        const success = e.status !== null && e.status >= 200 && e.status <= 299;
        if ((e.type === 'AttemptSucceeded') !== success) out.push({ law: 'give-up', index, message: `task ${e.id}: status ${e.status} settled as ${e.type}` });
        if (!success) {
          const ageUs = e.t - (t.firstDispatchAt ?? e.t);
          const retry = referenceShouldRetry(p, t.attempts, ageUs);
          if (retry !== (e.type === 'AttemptFailed')) {
            out.push({ law: 'give-up', index, message: `task ${e.id}: failure of attempt ${t.attempts} at age ${ageUs} µs (retry limit ${p.task_retry_limit}, age limit ${p.task_age_limit_seconds} s) should ${retry ? 'be retried' : 'give up'}, got ${e.type}` });
          }
        }
      }
    }
    facts.observe(e);
  });
  return out;
}

/** Every law above, and dev-server mode's for the dispatches made under it. */
export function checkAll(events: readonly EngineEvent[], config?: QueueFileConfig): Violation[] {
  return [
    ...checkRateLaw(events, config),
    ...checkConcurrency(events, config),
    ...checkEtaRespected(events),
    ...checkNoDispatchWhilePaused(events, config),
    ...checkRetryDelays(events, config),
    ...checkGiveUp(events, config),
    ...checkDevServerLaws(events),
  ];
}

/** One line per violation, for a test failure message. */
export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `#${v.index} [${v.law}] ${v.message}`).join('\n');
}
