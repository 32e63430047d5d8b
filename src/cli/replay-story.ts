/**
 * `pushq replay LOG --task NAME`: a task's story, as text or JSON (`--json`). The JSON keys are a
 * contract (docs/replay.md); keys added later come after the first release's, in their order.
 */
import { US_PER_SECOND } from '../core/time.js';
import type { TimeFormat } from '../projections/queue-summary.js';
import { heldByParts, type AttemptStory, type TaskStory } from '../projections/task-story.js';

/** `sameName`: the tasks with this name in its queue up to the instant told (more than 1 when the name was reused: `s` is the latest). */
export function storyJson(s: TaskStory, time: TimeFormat, sameName: number) {
  return {
    task: s.name,
    queue: s.queue,
    state: s.state,
    added_at: time.json(s.addedAtUs),
    attempts: s.attempts.map((a) => ({
      dispatched_at: time.json(a.dispatchedAtUs),
      status: a.status,
      timed_out: a.timedOut,
      retry_count: a.retryCount,
      execution_count: a.executionCount,
      next_eta: a.backoff === null ? null : time.json(a.backoff.nextEtaUs),
      // Added after the first release of this shape: the keys above keep their order.
      previous_response: a.previousStatus,
      forced: a.forced,
      in_flight: a.endedAtUs === null,
      ended_at: a.endedAtUs === null ? null : time.json(a.endedAtUs),
      latency_seconds: a.latencyUs === null ? null : a.latencyUs / US_PER_SECOND,
      failure: a.reason,
      error: a.error,
      orphaned: a.orphaned,
      waited_seconds: a.waitedUs / US_PER_SECOND,
      held_by_seconds: Object.fromEntries(Object.entries(a.heldByUs).map(([cause, us]) => [cause, us / US_PER_SECOND])),
      backoff:
        a.backoff === null
          ? null
          : {
              retry: a.backoff.retry,
              min_backoff_seconds: a.backoff.minBackoffUs / US_PER_SECOND,
              max_backoff_seconds: a.backoff.maxBackoffUs / US_PER_SECOND,
              max_doublings: a.backoff.maxDoublings,
              doublings: a.backoff.doublings,
              delay_seconds: a.backoff.delayUs / US_PER_SECOND,
            },
      // Added later: of held_by_seconds.concurrency, the seconds dev-server mode held it (the app's
      // one task at a time, not max_concurrent_requests).
      dev_server_held_seconds: a.devServerHeldUs / US_PER_SECOND,
    })),
    ended:
      s.ended === null
        ? null
        : {
            reason: s.ended.reason,
            at: time.json(s.ended.atUs),
            give_up:
              s.ended.giveUp === null
                ? null
                : {
                    attempts: s.ended.giveUp.attemptsMade,
                    retries: s.ended.giveUp.attemptsMade - 1,
                    task_retry_limit: s.ended.giveUp.retryLimit,
                    age_seconds: s.ended.giveUp.ageUs / US_PER_SECOND,
                    task_age_limit_seconds: s.ended.giveUp.ageLimitUs === null ? null : s.ended.giveUp.ageLimitUs / US_PER_SECOND,
                  },
          },
    // Added after the first release of this shape, as the text says them: which task the name
    // named (the id the text shows), and how many tasks had it (the dashboard's `id`, `sameName`).
    id: s.id,
    same_name: sameName,
  };
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function secs(us: number): string {
  return `${us / US_PER_SECOND}s`;
}

function attemptText(a: AttemptStory, i: number, time: TimeFormat): string[] {
  const head = `  attempt ${i + 1}${a.forced ? ' (forced run)' : ''}: dispatched at ${time.text(a.dispatchedAtUs)} (retry count ${a.retryCount}, execution count ${a.executionCount}${a.previousStatus === null ? '' : `, previous response ${a.previousStatus}`})`;
  let outcome: string;
  if (a.endedAtUs === null) outcome = 'still in flight';
  else if (a.timedOut) outcome = `timed out after ${secs(a.latencyUs ?? 0)}`;
  // An attempt a restart ended ran for as long as the crash let it, which no event says (latency null): no "after".
  else if (a.status === null) outcome = `no response (${a.reason ?? 'connection'}${a.error ? `: ${a.error}` : ''})${a.latencyUs === null ? '' : ` after ${secs(a.latencyUs)}`}`;
  else outcome = `status ${a.status} after ${secs(a.latencyUs ?? 0)}`;
  const lines = [`${head} → ${outcome}${a.orphaned ? ' (the task had been deleted meanwhile)' : ''}`];
  if (a.waitedUs > 0) {
    const held = heldByParts(a).map((p) => `${p.text} ${secs(p.us)}`);
    lines.push(`    waited ${secs(a.waitedUs)} from when it could go${held.length === 0 ? '' : `, held by ${held.join(', ')}`}`);
  }
  const b = a.backoff;
  if (b !== null) {
    lines.push(
      `    backoff: retry n=${b.retry}, min_backoff ${secs(b.minBackoffUs)}, max_backoff ${secs(b.maxBackoffUs)}, max_doublings ${b.maxDoublings} → doublings ${b.doublings} → delay min(${secs(b.maxBackoffUs)}, ${secs(b.minBackoffUs)}·2^${b.doublings}·${b.retry - b.doublings}) = ${secs(b.delayUs)}; next ETA ${time.text(b.nextEtaUs)}`,
    );
  }
  return lines;
}

/** `atNote`: what --at adds to the first line (replay-at.ts), '' without it. */
export function storyText(s: TaskStory, time: TimeFormat, sameName: number, atNote = ''): string {
  const lines = [`task ${s.name} in queue ${s.queue} (id ${s.id}): ${s.state}${sameName > 1 ? ` (the latest of ${sameName} tasks with this name)` : ''}${atNote}`];
  lines.push(`  added at ${time.text(s.addedAtUs)}, ETA ${time.text(s.etaUs)}${s.ownRetry ? ', with its own retry options' : ''}`);
  s.attempts.forEach((a, i) => lines.push(...attemptText(a, i, time)));
  const e = s.ended;
  if (e === null) lines.push('  not ended');
  else if (e.reason === 'gave_up' && e.giveUp !== null) {
    const g = e.giveUp;
    const limits = [
      g.retryLimit === null ? 'task_retry_limit unlimited' : `task_retry_limit ${g.retryLimit} exceeded (${count(g.attemptsMade, 'attempt')} = ${count(g.attemptsMade - 1, 'retry', 'retries')})`,
      g.ageLimitUs === null ? 'task_age_limit unlimited' : `task_age_limit ${secs(g.ageLimitUs)} exceeded (age ${secs(g.ageUs)} since the first attempt)`,
    ];
    lines.push(`  ended: gave up at ${time.text(e.atUs)}: ${limits.join(' and ')}`);
  } else lines.push(`  ended: ${e.reason.replace('_', ' ')} at ${time.text(e.atUs)}`);
  return `${lines.join('\n')}\n`;
}
