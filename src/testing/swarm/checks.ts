/**
 * What the crash swarm checks, after every restart and at the end (docs/testing.md, "The crash
 * swarm"). Each check throws a SwarmCheckFailure naming itself; none changes anything.
 *
 * What may repeat, exactly (at-least-once, as App Engine): a delivery whose AttemptDispatched a
 * crash kept off the disk is sent again after the restart, with the retry count the log holds (so
 * a (task, X-AppEngine-TaskRetryCount) pair can be seen twice, the earlier one's record lost); and
 * a task whose handler answered 2xx is delivered again when that answer's AttemptSucceeded never
 * reached the disk (the crash came first, or cut it off), as a retry of the attempt the restart
 * found open. Nothing else: every delivery is one AttemptDispatched of the live run, and once an
 * AttemptSucceeded is durable its task is never delivered again.
 */
import type { EngineEvent } from '../../core/events.js';
import { TaskState } from '../../core/task-machine.js';
import type { EngineState } from '../../core/state.js';
import { checkAll, formatViolations } from '../invariants.js';
import type { Delivery } from './worker.js';

export type SwarmCheck =
  | 'log-not-a-prefix'
  | 'synced-batch-lost'
  | 'acknowledged-task-lost'
  | 'restart-failed'
  | 'replay-differs'
  | 'law'
  | 'delivery'
  | 'liveness'
  | 'epoch-order'
  | 'lease'
  /** PostgreSQL swarm: a new owner restored from a fold snapshot does not hold the full fold of its stream. */
  | 'snapshot-differs'
  | 'engine-error';

/**
 * What one incarnation (one writer of a log: a process between crashes, or one epoch of a queue's
 * stream) appended, as the checks need it: the encoded lines, the events, and where its batches ended.
 */
export interface RecordedEvents {
  readonly lines: readonly string[];
  readonly events: readonly EngineEvent[];
  /** Whether `events` is a batch boundary (0 always is). */
  isBoundary(events: number): boolean;
}

export class SwarmCheckFailure extends Error {
  override name = 'SwarmCheckFailure';
  constructor(
    readonly check: SwarmCheck,
    message: string,
  ) {
    super(message);
  }
}

function fail(check: SwarmCheck, message: string): never {
  throw new SwarmCheckFailure(check, message);
}

/**
 * After a crash: the file's events (encoded) must be the history before the crashed incarnation,
 * then a prefix of what that incarnation appended, ending at one of its batch boundaries, and
 * holding at least every batch that was synced. Returns how many of its events survived.
 */
export function checkSurvivingPrefix(fileLines: readonly string[], history: readonly string[], crashed: RecordedEvents, syncedEvents: number): number {
  if (fileLines.length < history.length) fail('log-not-a-prefix', `the log holds ${fileLines.length} events, fewer than the ${history.length} it held before the last incarnation`);
  for (let i = 0; i < history.length; i++) {
    if (fileLines[i] !== history[i]) fail('log-not-a-prefix', `event ${i} changed since the previous restart:\n  was ${history[i]}\n  now ${fileLines[i]}`);
  }
  const kept = fileLines.length - history.length;
  if (kept > crashed.lines.length) fail('log-not-a-prefix', `the log holds ${kept} events of the crashed incarnation, which appended only ${crashed.lines.length}`);
  for (let i = 0; i < kept; i++) {
    const at = history.length + i;
    if (fileLines[at] !== crashed.lines[i]) fail('log-not-a-prefix', `event ${at} is not what was written:\n  written ${crashed.lines[i]}\n  read    ${fileLines[at]}`);
  }
  if (!crashed.isBoundary(kept)) fail('log-not-a-prefix', `the log ends inside a batch: after event ${history.length + kept}`);
  if (kept < syncedEvents) fail('synced-batch-lost', `${syncedEvents - kept} events of batches that were synced before the crash are gone (kept ${kept} of ${syncedEvents})`);
  return kept;
}

/** Every acknowledged task (queue/name) has its TaskAdded in `events`. */
export function checkAcknowledged(events: readonly EngineEvent[], acked: ReadonlyMap<string, string>): void {
  const added = new Set<string>();
  for (const e of events) if (e.type === 'TaskAdded' && e.options?.name !== undefined) added.add(`${e.queue}/${e.options.name}`);
  for (const [key, how] of acked) if (!added.has(key)) fail('acknowledged-task-lost', `task ${key} was acknowledged (${how}) but is not in the log`);
}

export function checkLaws(events: readonly EngineEvent[]): void {
  const violations = checkAll(events);
  if (violations.length > 0) fail('law', `${violations.length} law violation(s) over the history across restarts:\n${formatViolations(violations.slice(0, 10))}`);
}

/** Once faults stop and time runs out the horizon, every task is final. */
export function checkSettled(state: EngineState, names: (id: number) => string): void {
  const open: string[] = [];
  const t = state.tasks;
  for (let id = 0; id < t.count; id++) {
    const s = t.state[id] as TaskState;
    if (s !== TaskState.Succeeded && s !== TaskState.Failed && s !== TaskState.Deleted) open.push(`${names(id)} (state ${s}, ${t.dispatchCount[id]} attempts)`);
  }
  if (open.length > 0) fail('liveness', `${open.length} task(s) never settled after the faults stopped: ${open.slice(0, 10).join(', ')}`);
}

export interface Incarnation {
  recorded: RecordedEvents;
  /** How many of its events are in the final log (all, for the last one). */
  durable: number;
}

export interface DeliveryFigures {
  deliveries: number;
  /** Delivered, but the dispatch's record was lost in a crash (so delivered again after it). */
  lostRecords: number;
  /** Delivered after its handler had answered 2xx (that answer's record never durable). */
  afterSuccess: number;
}

/**
 * Every delivery is one live AttemptDispatched and every live AttemptDispatched one delivery; a
 * durable dispatch never repeats a (task, retry count); a durable success is never followed by
 * another delivery of its task.
 */
export function checkDeliveries(deliveries: readonly Delivery[], incarnations: readonly Incarnation[], finalEvents: readonly EngineEvent[]): DeliveryFigures {
  const live = new Map<string, boolean>(); // "inc/id/t" → durable
  incarnations.forEach((inc, i) => {
    inc.recorded.events.forEach((e, j) => {
      if (e.type === 'AttemptDispatched') live.set(`${i}/${e.id}/${e.t}`, j < inc.durable);
    });
  });
  const figures: DeliveryFigures = { deliveries: deliveries.length, lostRecords: 0, afterSuccess: 0 };
  const seen = new Set<string>();
  const durableRetry = new Set<string>();
  for (const d of deliveries) {
    const key = `${d.incarnation}/${d.id}/${d.t}`;
    const durable = live.get(key);
    if (durable === undefined) fail('delivery', `${d.queue}/${d.name} (retry ${d.retryCount}) was delivered at ${d.t} µs in incarnation ${d.incarnation} with no AttemptDispatched`);
    if (seen.has(key)) fail('delivery', `${d.queue}/${d.name}: one AttemptDispatched (incarnation ${d.incarnation}, ${d.t} µs) delivered twice`);
    seen.add(key);
    if (!durable) {
      figures.lostRecords++;
      continue;
    }
    const retry = `${d.queue}/${d.name}/${d.retryCount}`;
    if (durableRetry.has(retry)) fail('delivery', `${d.queue}/${d.name} was dispatched twice with retry count ${d.retryCount}, both logged`);
    durableRetry.add(retry);
  }
  if (seen.size !== live.size) fail('delivery', `${live.size - seen.size} logged dispatch(es) never reached the worker`);

  // Durable successes: the task's name from the final log's TaskAdded (ids there are one history).
  const nameOf = new Map<number, string>();
  const successAt = new Map<string, { inc: number; t: number }>();
  let index = 0;
  incarnations.forEach((inc, i) => {
    for (let j = 0; j < inc.durable; j++, index++) {
      const e = finalEvents[index] as EngineEvent;
      if (e.type === 'TaskAdded') nameOf.set(e.id, `${e.queue}/${e.options?.name ?? ''}`);
      else if (e.type === 'AttemptSucceeded') successAt.set(nameOf.get(e.id) ?? `#${e.id}`, { inc: i, t: e.t });
    }
  });
  const answered2xx = new Set<string>();
  for (const d of deliveries) {
    const task = `${d.queue}/${d.name}`;
    const s = successAt.get(task);
    if (s !== undefined && (d.incarnation > s.inc || (d.incarnation === s.inc && d.t > s.t))) {
      fail('delivery', `${task} was delivered again (incarnation ${d.incarnation}, ${d.t} µs) after its success was logged (incarnation ${s.inc}, ${s.t} µs)`);
    }
    if (answered2xx.has(task)) figures.afterSuccess++;
    if (d.status >= 200 && d.status <= 299) answered2xx.add(task);
  }
  return figures;
}

/** A new owner took a stream: its epoch, and the stream's length when it had acquired it. */
export interface Handover {
  epoch: number;
  position: number;
}

/**
 * At most one epoch appends to a stream at a time: read off the store's rows (each event with the
 * epoch that wrote it, in position order), every event between two handovers was written by the
 * epoch that owned the stream then, and by no other. So epochs never decrease along the stream, no
 * batch of an older epoch lands after a newer one acquired (even before the newer one wrote), and
 * no epoch that never acquired writes at all. Positions are dense from 0.
 */
export function checkEpochOrder(stream: string, rows: readonly { position: number; epoch: number }[], handovers: readonly Handover[]): void {
  let h = -1;
  rows.forEach((row, i) => {
    if (row.position !== i) fail('epoch-order', `${stream}: position ${row.position} where ${i} was due (positions must be dense)`);
    while (h + 1 < handovers.length && (handovers[h + 1] as Handover).position <= i) h++;
    const owner = handovers[h];
    if (owner === undefined) fail('epoch-order', `${stream}: event ${i} (epoch ${row.epoch}) was written before any owner acquired the stream`);
    if (row.epoch !== owner.epoch) {
      const later = handovers.slice(h + 1).map((x) => `epoch ${x.epoch} from ${x.position}`);
      fail('epoch-order', `${stream}: event ${i} was written by epoch ${row.epoch}, but epoch ${owner.epoch} had owned the stream since position ${owner.position}${later.length > 0 ? ` (later: ${later.join(', ')})` : ''}`);
    }
  });
}
