/**
 * The laws of dev-server mode (S39; docs/simulate.md, "Dev-server mode"), for the dispatches a log
 * made under it: the settings in force (ConfigApplied `settings.devServer`; a settings-only restart
 * switches the mode on or off) say which dispatches these laws judge. Written from the
 * dev_appserver stub's rules (reference §7), not from src/core/dev-server.ts:
 *
 * - one-at-a-time: no non-forced dispatch while any attempt is in flight anywhere in the app (a
 *   forced run and an attempt whose task a delete or purge ended included: each holds the stub's
 *   one thread until it is answered);
 * - eta-order: a non-forced dispatch sends the task with the lowest ETA of those waiting in the
 *   app's push queues that are not disabled; at equal ETAs, the queue made first (the order the
 *   ConfigApplied events first name the queues). Waiting: added, or back from its backoff
 *   (BackoffElapsed, at its retry time), and neither in flight nor ended (succeeded, given up,
 *   deleted, purged). Equal ETAs within one queue are not judged: the stub orders them by task
 *   name, pushq by when they were added (a documented difference), and neither is a law of App
 *   Engine's.
 *
 * What the mode ignores (rate, bucket_size, max_concurrent_requests, a pause, rate 0) the
 * production checkers in invariants.ts leave out for these dispatches; the ETA, retry-delay,
 * give-up and disabled-queue laws hold in both modes.
 */
import type { EngineEvent } from '../core/events.js';
import { ReferenceFacts } from '../projections/reference-facts.js';
import type { Violation } from './invariants.js';

interface Waiting {
  queue: string;
  eta: number;
  /** Bumped whenever the task stops or starts waiting, so stale heap entries are known. */
  version: number;
  waiting: boolean;
}

interface Entry {
  id: number;
  eta: number;
  version: number;
}

/** A queue's waiting tasks by ETA then id; entries of tasks no longer waiting are dropped lazily. */
class EtaHeap {
  private readonly items: Entry[] = [];

  push(entry: Entry): void {
    const a = this.items;
    a.push(entry);
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  /** The first entry still current in `tasks`, dropping the stale ones above it. */
  peek(tasks: ReadonlyMap<number, Waiting>): Entry | undefined {
    const a = this.items;
    while (a.length > 0) {
      const top = a[0]!;
      const t = tasks.get(top.id);
      if (t !== undefined && t.waiting && t.version === top.version) return top;
      const last = a.pop()!;
      if (a.length === 0) break;
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return undefined;
  }
}

function before(x: Entry, y: Entry): boolean {
  return x.eta < y.eta || (x.eta === y.eta && x.id < y.id);
}

export function checkDevServerLaws(events: readonly EngineEvent[]): Violation[] {
  // A log never in the mode has nothing for these laws: spare a production log's walk (checkAll runs this on every log).
  if (!events.some((e) => e.type === 'ConfigApplied' && e.settings.devServer === true)) return [];
  const facts = new ReferenceFacts(undefined);
  const out: Violation[] = [];
  const tasks = new Map<number, Waiting>();
  const heaps = new Map<string, EtaHeap>();
  const inFlight = new Set<number>();
  const heapOf = (queue: string): EtaHeap => {
    let h = heaps.get(queue);
    if (h === undefined) heaps.set(queue, (h = new EtaHeap()));
    return h;
  };
  const wait = (id: number, t: Waiting, eta: number): void => {
    t.eta = eta;
    t.waiting = true;
    t.version++;
    heapOf(t.queue).push({ id, eta, version: t.version });
  };
  const stop = (t: Waiting | undefined): void => {
    if (t === undefined) return;
    t.waiting = false;
    t.version++;
  };
  /** Deleted or purged: it waits no more; an attempt in flight holds the thread until answered (AttemptOrphaned). */
  const end = (id: number): void => {
    stop(tasks.get(id));
    if (!inFlight.has(id)) tasks.delete(id);
  };
  events.forEach((e, index) => {
    if (e.type === 'AttemptDispatched' && !e.forced && facts.devServer) judge(e.id, e.t, index);
    observe(e);
    facts.observe(e);
  });
  return out;

  function judge(id: number, t: number, index: number): void {
    const task = tasks.get(id);
    if (task === undefined) return; // an unknown task: the other laws say so
    if (inFlight.size > 0) {
      const [first] = inFlight;
      const other = tasks.get(first!);
      const n = inFlight.size;
      out.push({ law: 'one-at-a-time', index, message: `task ${id} (queue ${task.queue}) dispatched at ${t} µs while ${n === 1 ? '1 attempt is' : `${n} attempts are`} in flight (task ${first} of queue ${other?.queue ?? '?'}): dev-server mode sends one task at a time for the whole app` });
    }
    if (!task.waiting || facts.disabled.get(task.queue) === true) return; // not waiting, or held: the ETA and pause laws judge it
    // Only at equal ETAs, which are rare: the queues' order is the facts' map order.
    const rank = (queue: string): number => [...facts.queues.keys()].indexOf(queue);
    for (const [queue, heap] of heaps) {
      if (queue === task.queue || facts.queues.get(queue)?.mode !== 'push' || facts.disabled.get(queue) === true) continue;
      const first = heap.peek(tasks);
      if (first === undefined) continue;
      const earlier = first.eta < task.eta;
      if (earlier || (first.eta === task.eta && rank(queue) < rank(task.queue))) {
        const why = earlier ? 'with an earlier ETA' : 'in a queue made before it';
        out.push({ law: 'eta-order', index, message: `task ${id} (queue ${task.queue}, ETA ${task.eta} µs) dispatched at ${t} µs while task ${first.id} (queue ${queue}, ETA ${first.eta} µs) was waiting ${why}` });
        return;
      }
    }
    const own = heaps.get(task.queue)?.peek(tasks);
    if (own !== undefined && own.eta < task.eta) {
      out.push({ law: 'eta-order', index, message: `task ${id} (queue ${task.queue}, ETA ${task.eta} µs) dispatched at ${t} µs while task ${own.id} (queue ${task.queue}, ETA ${own.eta} µs) was waiting with an earlier ETA` });
    }
  }

  function observe(e: EngineEvent): void {
    switch (e.type) {
      case 'TaskAdded': {
        const t: Waiting = { queue: e.queue, eta: e.eta, version: 0, waiting: false };
        tasks.set(e.id, t);
        wait(e.id, t, e.eta);
        return;
      }
      case 'AttemptDispatched':
        stop(tasks.get(e.id));
        if (tasks.has(e.id)) inFlight.add(e.id);
        return;
      case 'AttemptFailed':
        inFlight.delete(e.id); // in backoff: waiting again from its BackoffElapsed
        if (tasks.has(e.id)) tasks.get(e.id)!.eta = e.retryAt;
        return;
      case 'BackoffElapsed': {
        const t = tasks.get(e.id);
        if (t !== undefined) wait(e.id, t, t.eta);
        return;
      }
      case 'AttemptSucceeded':
      case 'TaskGaveUp':
      case 'AttemptOrphaned':
        inFlight.delete(e.id);
        stop(tasks.get(e.id));
        tasks.delete(e.id);
        return;
      case 'TaskDeleted':
        end(e.id);
        return;
      case 'QueuePurged':
        // Every task of the queue added by then (S32): the log is in time order, so every one seen.
        for (const [id, t] of tasks) if (t.queue === e.queue) end(id);
        return;
      default:
        return;
    }
  }
}
