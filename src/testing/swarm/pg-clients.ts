/**
 * The clients and operators of the PostgreSQL swarm (pg-run.ts), as the file swarm models them
 * (run.ts): creates (CreateTask, or BulkAdd batches into one queue) retried when they got no
 * answer, sometimes before their first answer came; pause, resume, purge, delete, force-run.
 *
 * Routing: a call goes to the queue's live owner; sometimes (a router whose table is stale) to a
 * zombie of the queue; with neither, the call fails UNAVAILABLE and the client retries later.
 * A create is acknowledged when the owner's flush after it resolves and the owner's node is still
 * there to answer: for a task created and for ALREADY_EXISTS alike (src/server/operations.ts).
 */
import { PushqError } from '../../core/errors.js';
import { taskName } from '../../core/state.js';
import type { TaskSpec } from '../../core/task-spec.js';
import { LogError } from '../../log/log-errors.js';
import { SwarmCheckFailure } from './checks.js';
import type { QueueOwner } from './pg-model.js';
import type { PgSwarmRun } from './pg-run.js';

export class PgSwarmClients {
  /** queue/name → how it was acknowledged. */
  readonly acked = new Map<string, string>();
  /** Creates sent whose answer has not come. */
  private readonly pending = new Map<string, TaskSpec>();
  /** Creates that got no answer (refused, fenced, a crash, no owner): retried later. */
  private unanswered: TaskSpec[] = [];
  private readonly names: { queue: string; name: string }[] = [];
  private nextName = 0;

  constructor(private readonly run: PgSwarmRun) {}

  get acknowledged(): number {
    return this.acked.size;
  }

  /** The acknowledged tasks of one queue. */
  ackedIn(queue: string): Map<string, string> {
    return new Map([...this.acked].filter(([k]) => k.startsWith(`${queue}/`)));
  }

  /** A command the owner refuses (a typed error, or its log's write failure) changes nothing. */
  attempt(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      if ((err instanceof LogError && err.code === 'LOG_WRITE_FAILED') || err instanceof PushqError) return false;
      throw err;
    }
  }

  private newSpecs(queue: string, n: number): TaskSpec[] {
    const r = this.run.rng;
    return Array.from({ length: n }, () => {
      const name = `n${this.nextName++}`;
      const spec: TaskSpec = { queue, name, url: `/work/${name}` };
      if (r.chance(0.3)) spec.countdownUs = r.int(30_000_000);
      if (r.chance(0.5)) spec.dispatchDeadlineUs = r.between(15, 60) * 1_000_000;
      if (r.chance(0.2)) spec.retry = { task_retry_limit: r.between(0, 3), min_backoff_seconds: 0.1, max_backoff_seconds: 1 };
      this.names.push({ queue, name });
      return spec;
    });
  }

  /** Where the router sends a call for `queue`: its live owner, or (stale) a zombie of it, or nowhere. */
  private route(queue: string, stale: boolean): QueueOwner | null {
    const s = this.run.streams.find((x) => x.queue === queue)!;
    const zombies = s.owners.filter((o) => o.state === 'zombie' && o.node.alive);
    if (stale && zombies.length > 0 && (s.live === null || this.run.rng.chance(0.3))) return this.run.rng.pick(zombies);
    return s.live;
  }

  create(): void {
    const r = this.run.rng;
    this.unanswered = this.unanswered.filter((s) => !this.acked.has(`${s.queue}/${s.name}`));
    const impatient = this.pending.size > 0 && r.chance(0.05);
    const retry = impatient || (this.unanswered.length > 0 && r.chance(0.4));
    const specs = impatient ? [r.pick([...this.pending.values()])] : retry ? [this.unanswered.shift()!] : this.newSpecs(r.pick(this.run.streams).queue, r.chance(0.2) ? r.between(2, 5) : 1);
    const owner = this.route(specs[0]!.queue!, true);
    if (owner === null) {
      this.run.note(`${retry ? 'client retries' : 'create'} ${specs.map((s) => s.name).join(' ')} in ${specs[0]!.queue}: no owner (UNAVAILABLE)`);
      for (const s of specs) if (!this.pending.has(`${s.queue}/${s.name}`)) this.unanswered.push(s);
      return;
    }
    this.send(owner, specs, retry);
  }

  /** A create sent to `owner` (a node crashing with its flush on the way). */
  createOn(owner: QueueOwner): void {
    this.send(owner, this.newSpecs(owner.stream.queue, 1), false);
  }

  private send(owner: QueueOwner, specs: TaskSpec[], retry: boolean): void {
    const keys = specs.map((s) => `${s.queue}/${s.name}`);
    this.run.note(`${retry ? 'client retries' : 'create'} ${keys.join(' ')} at ${owner}${owner.state === 'zombie' ? ' (a zombie)' : ''}`);
    try {
      owner.kernel.addTasks(specs, specs.length === 1 ? 'cloud-tasks' : 'taskqueue');
    } catch (err) {
      if (err instanceof PushqError && (err.code === 'TASK_ALREADY_EXISTS' || err.code === 'TOMBSTONED_TASK')) {
        this.answerAfterFlush(owner, specs, keys, 'ALREADY_EXISTS');
        return;
      }
      if (err instanceof LogError && err.code === 'LOG_WRITE_FAILED') {
        this.unanswered.push(...specs);
        return;
      }
      if (err instanceof PushqError) return; // e.g. a rate-0 queue: the client gives up
      throw err;
    }
    this.answerAfterFlush(owner, specs, keys, 'created');
  }

  private answerAfterFlush(owner: QueueOwner, specs: readonly TaskSpec[], keys: readonly string[], how: string): void {
    specs.forEach((s, i) => this.pending.set(keys[i]!, s));
    const noAnswer = (): void => {
      specs.forEach((s, i) => {
        this.pending.delete(keys[i]!);
        if (!this.acked.has(keys[i]!)) this.unanswered.push(s);
      });
    };
    this.run.flush(owner).then(() => {
      if (!owner.answering) return noAnswer(); // committed, but the node died before it answered
      for (const k of keys) {
        this.pending.delete(k);
        this.acked.set(k, `${how} by ${owner}`);
      }
    }, noAnswer);
  }

  command(): void {
    const r = this.run.rng;
    const queue = r.pick(this.run.streams).queue;
    const owner = this.route(queue, false);
    const mine = this.names.filter((n) => n.queue === queue);
    const task = mine.length > 0 ? r.pick(mine) : undefined;
    const what = r.weighted({ pause: 2, resume: 3, purge: 1, delete: 2, run: 2 });
    if (owner === null) return;
    const k = owner.kernel;
    let ok = false;
    if (what === 'pause') ok = this.attempt(() => k.pauseQueue(queue));
    else if (what === 'resume') ok = this.attempt(() => k.resumeQueue(queue));
    else if (what === 'purge') ok = this.attempt(() => k.purgeQueue(queue));
    else if (task !== undefined && what === 'delete') ok = this.attempt(() => k.deleteTask(queue, task.name));
    else if (task !== undefined) ok = this.attempt(() => k.runTask(queue, task.name));
    this.run.note(`${what} ${what === 'delete' || what === 'run' ? `${queue}/${task?.name}` : queue} at ${owner}${ok ? '' : ' (refused)'}`);
  }

  /** Once the faults stop: every create still unanswered is sent again, to the live owner. */
  retryAll(): void {
    for (const spec of this.unanswered.splice(0)) {
      if (this.acked.has(`${spec.queue}/${spec.name}`)) continue;
      const owner = this.route(spec.queue!, false);
      if (owner === null) throw new SwarmCheckFailure('liveness', `${spec.queue} has no live owner after the faults stopped`);
      this.send(owner, [spec], true);
    }
  }

  /** Every create answered, and every task the owners hold was acknowledged. */
  checkAllAnswered(owners: readonly QueueOwner[]): void {
    if (this.pending.size > 0 || this.unanswered.length > 0) {
      const open = [...this.pending.keys(), ...this.unanswered.map((s) => `${s.queue}/${s.name}`)];
      throw new SwarmCheckFailure('liveness', `${open.length} create(s) still unanswered after the faults stopped: ${open.slice(0, 10).join(', ')}`);
    }
    for (const o of owners) {
      const st = o.kernel.state;
      for (let id = 0; id < st.tasks.count; id++) {
        const key = `${o.stream.queue}/${taskName(st, id)}`;
        if (!this.acked.has(key)) throw new SwarmCheckFailure('liveness', `task ${key} is there but its create was never answered`);
      }
    }
  }
}
