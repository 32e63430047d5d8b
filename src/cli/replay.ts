/**
 * `pushq replay LOG [--at TIME] [--queue NAME] [--task NAME] [--json] [--repair] [--snapshot FILE]`:
 * rebuilds the state a log describes and prints it: a summary per queue (the same figures as
 * `pushq simulate`, folded by the same StatsCollector), or one task's story.
 *
 * Times are seconds in virtual-clock logs and ISO 8601 in wall-clock logs. Errors (no such file,
 * not a pushq log, a newer format, corruption, an unknown queue or task) are one line on stderr
 * and exit 1; a torn tail is a warning on stderr (the complete batches are replayed).
 */
import type { EngineState } from '../core/state.js';
import { TASK_STATES, TaskState } from '../core/task-machine.js';
import { US_PER_SECOND } from '../core/time.js';
import type { LogHeader } from '../log/event-log.js';
import { LogError } from '../log/log-errors.js';
import type { Recovered } from '../log/log-reader.js';
import { foldLogFile } from '../log/replay.js';
import { loadWithSnapshot } from '../log/snapshot.js';
import { EventMisfitError } from '../projections/fold.js';
import { queueFigures } from '../projections/figures.js';
import { InsightProjection } from '../projections/insight.js';
import { StatsCollector, type QueueStats } from '../projections/stats.js';
import { TaskStoryCollector, type AttemptStory, type TaskStory } from '../projections/task-story.js';
import { CliUsageError, defineCommand, parseOrExit, reportUsageError } from './args.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from './io.js';

export const REPLAY = defineCommand({
  name: 'replay',
  operands: { usage: 'LOG', noun: 'log file', min: 1, max: 1 },
  operandsFirst: true,
  about: `Rebuilds the state a pushq event log describes and prints it: with no option, a
summary per queue (tasks by state, attempts, retries, oldest ETA).`,
  flags: {
    at: { type: 'string', value: 'TIME', help: 'the state as it was at TIME: seconds since the start for a virtual-clock log (e.g. 12.5 or 12.5s); an ISO 8601 time or Unix seconds for a wall-clock log' },
    queue: { type: 'string', value: 'NAME', help: "only this queue (and, with --task, the task's queue)" },
    task: { type: 'string', value: 'NAME', help: "the task's whole story: each attempt, each backoff and why, how it ended" },
    json: { type: 'boolean', help: 'print JSON instead of text' },
    repair: { type: 'boolean', help: 'replay up to the last complete batch before corruption instead of failing' },
    snapshot: { type: 'string', value: 'FILE', help: 'start from snapshot FILE (taken of this log) and replay only the events after it' },
  },
  footer: `exit status: 0 done (a torn tail is a warning), 1 error (no such file, not a pushq log,
newer format, corruption, unknown queue or task), 2 usage error (a bad option or TIME).`,
});

interface ReplayArgs {
  log: string;
  at: string | undefined;
  queue: string | undefined;
  task: string | undefined;
  json: boolean;
  repair: boolean;
  snapshot: string | undefined;
}

export async function replayCommand(args: string[], io: CliIo): Promise<number> {
  const cli = parseOrExit(REPLAY, args, io);
  if (typeof cli === 'number') return cli;
  const parsed: ReplayArgs = { log: cli.operands[0] as string, ...cli.flags };
  try {
    if (parsed.snapshot !== undefined && parsed.at !== undefined) throw new CliUsageError('--snapshot and --at cannot be combined');
    return run(parsed, io);
  } catch (err) {
    if (err instanceof EventMisfitError) {
      io.stderr(`pushq replay: ${parsed.log}: ${err.message}\n`);
      return EXIT_FAILURE;
    }
    if (err instanceof CliUsageError) return reportUsageError(REPLAY, err, io);
    if (err instanceof LogError || err instanceof ReplayError) {
      io.stderr(`pushq replay: ${err.message}\n`);
      return EXIT_FAILURE;
    }
    throw err;
  }
}

class ReplayError extends Error {}

/** TIME as µs in the log's clock; a TIME that is not one for this clock is a usage error, found once the header is read. */
export function parseTime(text: string, clock: LogHeader['clock']): number {
  const seconds = /^\d+(\.\d+)?s?$/.test(text) ? Number(text.replace(/s$/, '')) : NaN;
  if (clock === 'virtual') {
    if (Number.isNaN(seconds)) throw new CliUsageError(`--at ${text}: expected seconds since the start of the run (e.g. 12.5), this log has a virtual clock`);
    return Math.round(seconds * US_PER_SECOND);
  }
  if (!Number.isNaN(seconds)) return Math.round(seconds * US_PER_SECOND);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new CliUsageError(`--at ${text}: expected an ISO 8601 time (e.g. 2026-11-23T12:00:00Z) or Unix seconds`);
  return ms * 1000;
}

function run(a: ReplayArgs, io: CliIo): number {
  const stats = new StatsCollector();
  const insight = new InsightProjection();
  const story = a.task === undefined ? null : new TaskStoryCollector(a.task, a.queue);
  let state: EngineState;
  let header: LogHeader;
  let recovered: Recovered;
  let events = 0;
  let until = Infinity;
  if (a.snapshot !== undefined) {
    // A snapshot holds the state, not the history: statistics and stories need every event.
    if (story !== null) throw new ReplayError('--snapshot cannot tell a task\'s story (it needs every event); leave --snapshot out');
    const loaded = loadWithSnapshot(a.snapshot, a.log, { repair: a.repair });
    state = loaded.state;
    header = loaded.header;
    recovered = loaded.recovered;
    events = loaded.end.events;
  } else {
    const { fold, scan } = foldLogFile(a.log, story === null ? [stats, insight] : [stats, insight, story], { repair: a.repair }, (h, f) => {
      if (a.at !== undefined) f.until = until = parseTime(a.at, h.clock);
    });
    state = fold.state;
    events = fold.events;
    header = scan.header;
    recovered = scan.recovered;
  }
  if (recovered.droppedBytes > 0) {
    const where = recovered.repairedAt ? `repaired: cut at line ${recovered.repairedAt.line} (byte ${recovered.repairedAt.offset}: ${recovered.repairedAt.problem})` : 'torn tail (the run stopped mid-write)';
    io.stderr(`pushq replay: warning: ${a.log}: ${where}: ${recovered.droppedBytes} bytes after the last complete batch were dropped\n`);
  }
  if (a.queue !== undefined && !state.queueByName.has(a.queue)) throw new ReplayError(`${a.log}: no queue named "${a.queue}" in this log`);
  const time = timeFormatter(header.clock);
  if (story !== null) {
    const candidates = story.stories;
    if (candidates.length === 0) throw new ReplayError(`${a.log}: no task named "${a.task ?? ''}"${a.queue === undefined ? '' : ` in queue "${a.queue}"`}${until === Infinity ? '' : ' at that time'}`);
    const queues = [...new Set(candidates.map((s) => s.queue))];
    if (queues.length > 1) throw new ReplayError(`${a.log}: task "${a.task ?? ''}" exists in several queues (${queues.join(', ')}); pick one with --queue`);
    const s = candidates[candidates.length - 1] as TaskStory;
    io.stdout(a.json ? `${JSON.stringify(storyJson(s, time))}\n` : storyText(s, time, candidates.length));
    return EXIT_OK;
  }
  const endUs = until === Infinity ? state.lastEventAt : until;
  const summary = summarise(state, a.snapshot === undefined ? queueFigures(state, stats, insight, endUs, { includeIdle: true }) : null, a.queue, time);
  if (a.json) {
    io.stdout(`${JSON.stringify({ log: header, at: until === Infinity ? null : time.json(until), events, last_event_at: time.json(state.lastEventAt), queues: summary })}\n`);
  } else {
    const lines = [`${a.log}: pushq-events v${header.version} (pushq ${header.pushqVersion}), seed ${header.seed}, ${header.clock} clock; ${events} events replayed, last at ${time.text(state.lastEventAt)}${until === Infinity ? '' : ` (state at ${time.text(until)})`}`];
    for (const [name, q] of Object.entries(summary)) {
      const counts = TASK_STATES.map((s) => `${s} ${q.tasks[s] ?? 0}`).join(', ');
      const st = q.stats;
      lines.push(`queue ${name} (${q.state}): ${q.tasks_total} task${q.tasks_total === 1 ? '' : 's'}: ${counts}${st ? `; attempts ${st.attempts}, retries ${st.retries}` : ''}; oldest ETA ${q.oldest_eta === null ? '-' : typeof q.oldest_eta === 'number' ? `${q.oldest_eta}s` : q.oldest_eta}`);
    }
    io.stdout(`${lines.join('\n')}\n`);
  }
  return EXIT_OK;
}

interface TimeFormat {
  json: (us: number) => number | string;
  text: (us: number) => string;
}

function timeFormatter(clock: LogHeader['clock']): TimeFormat {
  if (clock === 'virtual') {
    const sec = (us: number) => us / US_PER_SECOND;
    return { json: sec, text: (us) => `${sec(us)}s` };
  }
  const iso = (us: number) => new Date(Math.floor(us / 1000)).toISOString();
  return { json: iso, text: iso };
}

interface QueueSummary {
  state: string;
  tasks_total: number;
  tasks: Record<string, number>;
  oldest_eta: number | string | null;
  stats: QueueStats | null;
}

function summarise(state: EngineState, stats: Record<string, QueueStats> | null, only: string | undefined, time: TimeFormat): Record<string, QueueSummary> {
  const oldest = new Float64Array(state.queues.length).fill(Infinity);
  const t = state.tasks;
  for (let id = 0; id < t.count; id++) {
    const s = t.state[id] as TaskState;
    if (s === TaskState.Pending || s === TaskState.Backoff) {
      const q = t.queue[id] as number;
      if ((t.eta[id] as number) < (oldest[q] as number)) oldest[q] = t.eta[id] as number;
    }
  }
  const out: Record<string, QueueSummary> = {};
  for (const q of state.queues) {
    if (only !== undefined && q.name !== only) continue;
    const tasks: Record<string, number> = {};
    let total = 0;
    TASK_STATES.forEach((s, i) => {
      tasks[s] = q.countByState[i] as number;
      total += q.countByState[i] as number;
    });
    const o = oldest[q.index] as number;
    out[q.name] = {
      state: q.disabled ? 'disabled' : q.paused ? 'paused' : 'running',
      tasks_total: total,
      tasks,
      oldest_eta: o === Infinity ? null : time.json(o),
      stats: stats === null ? null : (stats[q.name] ?? null),
    };
  }
  return out;
}

function storyJson(s: TaskStory, time: TimeFormat) {
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
  else if (a.status === null) outcome = `no response (${a.reason ?? 'connection'}${a.error ? `: ${a.error}` : ''}) after ${secs(a.latencyUs ?? 0)}`;
  else outcome = `status ${a.status} after ${secs(a.latencyUs ?? 0)}`;
  const lines = [`${head} → ${outcome}${a.orphaned ? ' (the task had been deleted meanwhile)' : ''}`];
  if (a.waitedUs > 0) {
    const held = Object.entries(a.heldByUs).map(([cause, us]) => `${cause} ${secs(us)}`);
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

function storyText(s: TaskStory, time: TimeFormat, sameName: number): string {
  const lines = [`task ${s.name} in queue ${s.queue} (id ${s.id}): ${s.state}${sameName > 1 ? ` (the latest of ${sameName} tasks with this name)` : ''}`];
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
