/**
 * `pushq replay LOG [--at TIME] [--queue NAME] [--task NAME] [--json] [--repair] [--snapshot FILE]`:
 * rebuilds the state a log describes and prints it: a summary per queue (the same figures as
 * `pushq simulate`, folded by the same StatsCollector), or one task's story; with
 * `--tasks gave-up|most-attempts|longest-wait` the tasks worth a look (replay-tasks.ts); with `--ui`
 * the dashboard over the log (replay-ui.ts); with `--write-snapshot FILE` a snapshot for
 * `--snapshot` to start from (replay-write-snapshot.ts).
 *
 * Times are seconds in virtual-clock logs and ISO 8601 in wall-clock logs; --at is seconds (or a
 * duration: `500ms`, `1m`) since the log's first event, or an ISO 8601 instant in a wall-clock log
 * (replay-at.ts). Errors (no such
 * file, not a pushq log, a newer format, corruption, an unknown queue or task) are one line on
 * stderr and exit 1; a torn tail is a warning on stderr (the complete batches are replayed).
 */
import type { EngineState } from '../core/state.js';
import { TASK_STATES } from '../core/task-machine.js';
import type { LogHeader } from '../log/event-log.js';
import { LogError } from '../log/log-errors.js';
import type { Recovered } from '../log/log-reader.js';
import { loadWithSnapshot } from '../log/snapshot.js';
import { EventMisfitError } from '../projections/fold.js';
import { queueFigures } from '../projections/figures.js';
import { InsightProjection } from '../projections/insight.js';
import { queueSummaries, timeFormatter } from '../projections/queue-summary.js';
import { StatsCollector } from '../projections/stats.js';
import { TaskStoryCollector, type TaskStory } from '../projections/task-story.js';
import { WORTH_A_LOOK, type WorthALook } from '../projections/task-waits.js';
import { ServeStartError } from '../server/start-errors.js';
import { CliUsageError, defineCommand, parseOrExit, reportUsageError, wholeNumber } from './args.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from './io.js';
import { atJson, atNote, droppedWarning, replayFile, type ResolvedAt } from './replay-at.js';
import { storyJson, storyText } from './replay-story.js';
import { worthALook, worthALookProjections, worthALookText } from './replay-tasks.js';
import { logErrorMessage } from './log-damage.js';
import { StoreError, isStoreUrl, redactUrl } from '../store/store.js';
import { counted } from './counted.js';
import { sharedPathProblem } from './output-paths.js';
import { writeReplaySnapshot } from './replay-write-snapshot.js';

export const TASKS_LIMIT_DEFAULT = 20;

function worthALookKind(text: string, flag: string): WorthALook {
  if (!(WORTH_A_LOOK as readonly string[]).includes(text)) throw new CliUsageError(`${flag} wants one of ${WORTH_A_LOOK.join(', ')} (got "${text}")`);
  return text as WorthALook;
}

export const REPLAY = defineCommand({
  name: 'replay',
  operands: { usage: 'LOG', noun: 'log file', min: 1, max: 1 },
  operandsFirst: true,
  about: `Rebuilds the state a pushq event log describes and prints it: with no option, a
summary per queue (tasks by state, attempts, retries, oldest ETA). With --ui, serves
the dashboard of pushq serve over the log, read-only, with a timeline to travel in.`,
  flags: {
    at: { type: 'string', value: 'TIME', help: "the state as it was at TIME: seconds since the log's first event (e.g. 12.5), or a duration since it as scenario files write one (e.g. 500ms, 12.5s, 1m, 2h), or, for a wall-clock log, an ISO 8601 instant (e.g. 2026-11-23T12:00:00Z); the output says which" },
    queue: { type: 'string', value: 'NAME', help: "only this queue (and, with --task, the task's queue); with --ui, the queue's log in a cluster's store" },
    task: { type: 'string', value: 'NAME', help: "the task's whole story: each attempt, each backoff and why, how it ended" },
    tasks: { type: 'string', value: 'LIST', parse: worthALookKind, help: 'the tasks worth a look, each with its counts: gave-up, most-attempts or longest-wait' },
    limit: { type: 'string', value: 'N', parse: wholeNumber(1, 100_000), help: `with --tasks: list at most N (default ${TASKS_LIMIT_DEFAULT})` },
    json: { type: 'boolean', help: 'print JSON instead of text' },
    repair: { type: 'boolean', help: 'replay up to the last complete batch before corruption instead of failing' },
    snapshot: { type: 'string', value: 'FILE', help: 'start from snapshot FILE (taken of this log) and replay only the events after it' },
    'write-snapshot': { type: 'string', value: 'FILE', help: 'write a snapshot of this log (up to its last complete batch) to FILE, atomically, for --snapshot to start from, and print one line instead of the summary; with --snapshot, from that snapshot (the same FILE refreshes it)' },
    ui: { type: 'boolean', help: 'serve the dashboard over this log, read-only, and print its URL; Ctrl-C stops (docs/dashboard.md)' },
    port: { type: 'string', value: 'N', parse: wholeNumber(0, 65535), help: 'with --ui: the port (default 0: a free one)' },
    host: { type: 'string', value: 'HOST', help: 'with --ui: the loopback address to bind (default 127.0.0.1)' },
    'allow-host': { type: 'string', value: 'NAME', multiple: true, help: 'with --ui: also accept requests whose Host header names NAME (repeatable); loopback names and --host are always accepted' },
    export: { type: 'string', value: 'FILE', help: 'LOG a store (postgres://...): copy its log to the file log FILE instead of replaying it (docs/cluster.md)' },
  },
  footer: `exit status: 0 done (a torn tail is a warning), 1 error (no such file, not a pushq log,
newer format, corruption, unknown queue or task, the dashboard cannot listen, a
snapshot that cannot be written), 2 usage error (a bad option or TIME).`,
});

interface ReplayArgs {
  log: string;
  at: string | undefined;
  queue: string | undefined;
  task: string | undefined;
  tasks: WorthALook | undefined;
  limit: number | undefined;
  json: boolean;
  repair: boolean;
  snapshot: string | undefined;
  ui: boolean;
  port: number | undefined;
  host: string | undefined;
  allowHosts: string[];
  export: string | undefined;
  'write-snapshot': string | undefined;
  /** How messages and output name the log when `log` is a stand-in (a store's temporary export): the store, password hidden. */
  shown?: string;
  /** A store's log, which a service may be writing still: --at may be any instant up to now (replay-at.ts, checkAtInSpan). */
  live?: true;
}

/** Flags that mean nothing together, or without the one they qualify. */
function checkCombination(a: ReplayArgs): void {
  if (a.snapshot !== undefined && a.at !== undefined) throw new CliUsageError('--snapshot and --at cannot be combined');
  if (!a.ui && a.port !== undefined) throw new CliUsageError('--port goes with --ui');
  if (!a.ui && a.host !== undefined) throw new CliUsageError('--host goes with --ui');
  if (!a.ui && a.allowHosts.length > 0) throw new CliUsageError('--allow-host goes with --ui');
  if (a.tasks === undefined && a.limit !== undefined) throw new CliUsageError('--limit goes with --tasks');
  if (a.tasks !== undefined && a.task !== undefined) throw new CliUsageError('--tasks and --task cannot be combined: --tasks lists tasks, --task tells one story');
  if (a.tasks !== undefined && a.snapshot !== undefined) throw new CliUsageError('--tasks cannot be combined with --snapshot (it needs every event)');
  if (a.task !== undefined && a.snapshot !== undefined) throw new CliUsageError("--task cannot be combined with --snapshot (a task's story needs every event)");
  const write = a['write-snapshot'];
  if (write !== undefined) {
    // A snapshot is of the whole state at the log's end, tied to a file's bytes: it prints no summary, list or story.
    if (isStoreUrl(a.log)) throw new CliUsageError("--write-snapshot goes with a log file, whose bytes a snapshot is tied to: copy a store's log to one with --export FILE first");
    const other = (['at', 'task', 'tasks', 'queue'] as const).find((f) => a[f] !== undefined) ?? (a.json ? 'json' : a.ui ? 'ui' : undefined);
    if (other !== undefined) throw new CliUsageError(`--write-snapshot cannot be combined with --${other}: it writes the state at the log's end and prints one line`);
    const overwrites = sharedPathProblem([['--write-snapshot', write]], [['log', a.log]]);
    if (overwrites !== null) throw new CliUsageError(overwrites);
  }
  if (a.ui) {
    const other = (['task', 'tasks', 'snapshot'] as const).find((f) => a[f] !== undefined) ?? (a.json ? 'json' : undefined);
    if (other !== undefined) throw new CliUsageError(`--ui cannot be combined with --${other}: the dashboard shows every queue, task list and story`);
    // In a cluster's store each queue has a log of its own: there --queue picks the log the page shows.
    if (a.queue !== undefined && !isStoreUrl(a.log)) throw new CliUsageError("--ui cannot be combined with --queue here: the dashboard shows every queue of the log (--ui --queue picks a queue's log in a cluster's store, postgres://...)");
  }
}

export async function replayCommand(args: string[], io: CliIo): Promise<number> {
  const cli = parseOrExit(REPLAY, args, io);
  if (typeof cli === 'number') return cli;
  const { 'allow-host': allowHosts, ...flags } = cli.flags;
  const parsed: ReplayArgs = { log: cli.operands[0] as string, ...flags, allowHosts };
  try {
    checkCombination(parsed);
    if (isStoreUrl(parsed.log)) {
      // Loaded only when asked for (the PostgreSQL client; the dashboard's server): every other
      // replay, and the dashboard's own start, begin without them.
      const { ExportWriteError, exportStoreLog, withStoreLog } = await import('./replay-store.js');
      const { replayUi } = await import('./replay-ui.js');
      try {
        if (parsed.export !== undefined) {
          const n = await exportStoreLog(parsed.log, parsed.export, parsed.queue);
          io.stdout(`pushq replay: ${counted(n, 'event')} exported to ${parsed.export}\n`);
          return EXIT_OK;
        }
        // Messages name the store (password hidden), not the temporary file.
        const shown = redactUrl(parsed.log);
        // One rule for both: a store's log runs to now, with --ui as without it (instant-span.ts).
        // With --ui, --queue only picks a cluster's queue log (the page then names it); a single node's store has one log of every queue, which the page shows whole.
        if (parsed.ui) return await withStoreLog(parsed.log, (path) => replayUi({ ...parsed, log: path, shown: parsed.queue === undefined ? shown : `${shown} (queue ${parsed.queue})`, live: true }, io), shown, parsed.queue, { queuePicksLog: true });
        return await withStoreLog(parsed.log, (path) => run({ ...parsed, log: path, shown, live: true }, io), shown, parsed.queue);
      } catch (err) {
        if (!(err instanceof ExportWriteError)) throw err;
        // As --write-snapshot says it; the temporary copy's path names the file system that failed (a full /tmp).
        io.stderr(`pushq replay: ${parsed.export !== undefined ? `--export ${parsed.export}` : `the temporary copy of the store's log ${err.path}`}: ${err.message}\n`);
        return EXIT_FAILURE;
      }
    }
    if (parsed.export !== undefined) throw new CliUsageError('--export goes with a store URL (postgres://...) as LOG');
    if (parsed.ui) return await (await import('./replay-ui.js')).replayUi(parsed, io);
    if (parsed['write-snapshot'] !== undefined) return writeReplaySnapshot({ log: parsed.log, file: parsed['write-snapshot'], snapshot: parsed.snapshot, repair: parsed.repair }, io);
    return run(parsed, io);
  } catch (err) {
    if (err instanceof StoreError) {
      io.stderr(`pushq replay: ${err.message} (${err.code})\n`);
      return EXIT_FAILURE;
    }
    if (err instanceof EventMisfitError) {
      // A store's URL is named as everywhere else, its password hidden.
      io.stderr(`pushq replay: ${isStoreUrl(parsed.log) ? redactUrl(parsed.log) : parsed.log}: ${err.message}\n`);
      return EXIT_FAILURE;
    }
    if (err instanceof CliUsageError) return reportUsageError(REPLAY, err, io);
    if (err instanceof LogError || err instanceof ReplayError || err instanceof ServeStartError) {
      io.stderr(`pushq replay: ${err instanceof LogError ? logErrorMessage(err, 'replay') : err.message}\n`);
      return EXIT_FAILURE;
    }
    throw err;
  }
}

class ReplayError extends Error {}

function run(a: ReplayArgs, io: CliIo): number {
  const name = a.shown ?? a.log;
  const stats = new StatsCollector();
  const insight = new InsightProjection();
  const story = a.task === undefined ? null : new TaskStoryCollector(a.task, a.queue);
  const listed = a.tasks === undefined ? null : worthALookProjections();
  let state: EngineState;
  let header: LogHeader;
  let recovered: Recovered;
  let events = 0;
  /** With --snapshot: the events applied after it (the rest came with the snapshot). */
  let tailEvents: number | null = null;
  let at: ResolvedAt | null = null;
  let firstUs = NaN;
  if (a.snapshot !== undefined) {
    // A snapshot holds the state, not the history: statistics and stories need every event
    // (--task and --tasks are refused with it: checkCombination).
    const loaded = loadWithSnapshot(a.snapshot, a.log, { repair: a.repair });
    state = loaded.state;
    header = loaded.header;
    recovered = loaded.recovered;
    events = loaded.end.events;
    tailEvents = loaded.tailEvents;
  } else {
    const projections = [stats, insight, ...(story === null ? [] : [story]), ...(listed === null ? [] : [listed.waits, listed.history])];
    const replayed = replayFile(a.log, projections, { repair: a.repair, at: a.at, ...(a.live ? { nowUs: Date.now() * 1000 } : {}) });
    state = replayed.fold.state;
    events = replayed.fold.events;
    header = replayed.header;
    recovered = replayed.recovered;
    at = replayed.at;
    firstUs = replayed.firstUs;
  }
  const warning = droppedWarning(name, recovered);
  if (warning !== null) io.stderr(warning);
  if (a.queue !== undefined && !state.queueByName.has(a.queue)) throw new ReplayError(`${name}: no queue named "${a.queue}" in this log`);
  const time = timeFormatter(header.clock);
  const atKeys = atJson(at, time, firstUs);
  const note = atNote(at, time);
  if (story !== null) {
    const candidates = story.stories;
    if (candidates.length === 0) throw new ReplayError(`${name}: no task named "${a.task ?? ''}"${a.queue === undefined ? '' : ` in queue "${a.queue}"`}${at === null ? '' : ' at that time'}`);
    const queues = [...new Set(candidates.map((s) => s.queue))];
    if (queues.length > 1) throw new ReplayError(`${name}: task "${a.task ?? ''}" exists in several queues (${queues.join(', ')}); pick one with --queue`);
    const s = candidates[candidates.length - 1] as TaskStory;
    io.stdout(a.json ? `${JSON.stringify({ ...storyJson(s, time, candidates.length), ...atKeys })}\n` : storyText(s, time, candidates.length, note));
    return EXIT_OK;
  }
  if (listed !== null && a.tasks !== undefined) {
    const queue = a.queue === undefined ? null : (state.queueByName.get(a.queue)?.index ?? null);
    const report = worthALook(state, listed, a.tasks, queue, a.limit ?? TASKS_LIMIT_DEFAULT, time);
    io.stdout(a.json ? `${JSON.stringify({ log: header, ...atKeys, events, ...report })}\n` : worthALookText(name, report, note));
    return EXIT_OK;
  }
  const endUs = at === null ? state.lastEventAt : at.us;
  // The figures' instants count from the first event, as --at does (a virtual log's is at 0).
  const originUs = Number.isNaN(firstUs) ? 0 : firstUs;
  const summary = queueSummaries(state, a.snapshot === undefined ? queueFigures(state, stats, insight, endUs, { includeIdle: true, originUs }) : null, a.queue, time);
  if (a.json) {
    // first_event_at, added after the first release (so after its keys): what the figures' instants count from.
    io.stdout(`${JSON.stringify({ log: header, ...atKeys, events, last_event_at: time.json(state.lastEventAt), queues: summary, first_event_at: Number.isNaN(firstUs) ? null : time.json(firstUs) })}\n`);
  } else {
    const lines = [`${name}: pushq-events v${header.version} (pushq ${header.pushqVersion}), seed ${header.seed}, ${header.clock} clock; ${tailEvents === null ? `${counted(events, 'event')} replayed` : `${counted(events, 'event')}, ${tailEvents} replayed after the snapshot`}, last at ${time.text(state.lastEventAt)}${note}`];
    for (const [name, q] of Object.entries(summary)) {
      const counts = TASK_STATES.map((s) => `${s} ${q.tasks[s] ?? 0}`).join(', ');
      const st = q.stats;
      lines.push(`queue ${name} (${q.state}): ${counted(q.tasks_total, 'task')}: ${counts}${st ? `; attempts ${st.attempts}, retries ${st.retries}` : ''}; oldest ETA ${q.oldest_eta === null ? '-' : typeof q.oldest_eta === 'number' ? `${q.oldest_eta}s` : q.oldest_eta}`);
    }
    io.stdout(`${lines.join('\n')}\n`);
  }
  return EXIT_OK;
}
