/**
 * Several `pushq serve --store postgres://... --cluster` processes on loopback, a real worker and
 * the real PostgreSQL (test/helpers/pg-cluster.ts): what the cluster tests share. Each node's
 * output is kept with the time each line arrived, so a test can say what a node did when.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import pg from 'pg';
import { ownerFor } from '../../src/cluster/rendezvous.js';
import { SERVE_START_BOUND_MS, killEveryStarted, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import type { Received, Worker } from '../helpers/worker.js';

export interface Line {
  atMs: number;
  text: string;
}

export interface Node {
  proc: ServeProcess;
  /** Base of the queues API: http://127.0.0.1:PORT/v2/projects/p/locations/l/queues */
  api: string;
  /** The node's id (from the startup line). */
  id: string;
  lines: Line[];
}

/** Queues q0..q{n-1}, each `rate` per second with bucket `bucket`, quick retries. */
export function queueYaml(queues: number, rate: number, bucket: number, maxConcurrent = 50): string {
  const out = ['queue:'];
  for (let i = 0; i < queues; i++) {
    out.push(`- name: q${i}`, `  rate: ${rate}/s`, `  bucket_size: ${bucket}`, `  max_concurrent_requests: ${maxConcurrent}`, '  retry_parameters:', '    min_backoff_seconds: 0.1', '    max_backoff_seconds: 0.5');
  }
  return out.join('\n') + '\n';
}

export async function writeQueueYaml(dir: string, text: string): Promise<string> {
  const path = join(dir, 'queue.yaml');
  await writeFile(path, text);
  return path;
}

/**
 * Set once the file's fixture has torn down: a test that failed or timed out may still be running
 * (Vitest does not stop its promises), and a node it starts then would outlive every teardown.
 */
let tornDown = false;

/**
 * `clockSkewMs`: the node's wall clock is that far off (test/helpers/clock-skew.mjs), as on a
 * machine whose clock is wrong. `env`: more environment for the node (a test hook such as PUSHQ_HEADERS_TIMEOUT_MS).
 */
export async function startNode(args: string[], clockSkewMs = 0, env: Record<string, string> = {}): Promise<Node> {
  if (tornDown) throw new Error('the cluster fixture is torn down: no node is started after it');
  const skew = clockSkewMs === 0 ? { env } : { node: ['--import', join(import.meta.dirname, '..', 'helpers', 'clock-skew.mjs')], env: { ...env, PUSHQ_TEST_CLOCK_SKEW_MS: String(clockSkewMs) } };
  const proc = await startServe(['--cluster', ...args], SERVE_START_BOUND_MS, undefined, skew);
  const lines: Line[] = [];
  let partial = '';
  const take = (chunk: string): void => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const text of parts) lines.push({ atMs: Date.now(), text });
  };
  take(proc.stdout());
  proc.child.stdout!.on('data', take);
  const id = /cluster node (\S+)/.exec(proc.stdout())?.[1] ?? '';
  return { proc, api: proc.api, id, lines };
}

/**
 * Starts `count` nodes with `args` side by side (each added to `nodes` once up, for the fixture's
 * cleanup), as an orchestrator starts a cluster: one after another cost a node's start-up each
 * (~1.5-3 s at load). A start that fails fails the call, once the others are up (and in `nodes`).
 */
export async function startNodes(nodes: Node[], args: string[], count: number): Promise<Node[]> {
  const started = await Promise.allSettled(
    Array.from({ length: count }, async () => {
      const node = await startNode(args);
      nodes.push(node);
      return node;
    }),
  );
  const failed = started.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return started.map((r) => (r as PromiseFulfilledResult<Node>).value);
}

/**
 * Starts `count` nodes with `args` (each added to `nodes`, for the fixture's cleanup) such that
 * each owns at least one of `queues`. Node ids are random (host:pid:random), so rendezvous hashing
 * leaves one of two nodes none of six queues about once in 32: such a node is stopped and replaced
 * by a new one (a new id), a few times at most. Returns the nodes in their places.
 */
export async function startNodesEachOwning(nodes: Node[], args: string[], queues: readonly string[], count = 2): Promise<Node[]> {
  const started = await startNodes(nodes, args, count);
  for (let tries = 0; tries < 8; tries++) {
    const ids = started.map((n) => n.id);
    const idle = started.findIndex((n) => !queues.some((q) => ownerFor(q, ids) === n.id));
    if (idle < 0) return started;
    const left = started[idle]!;
    left.proc.child.kill('SIGTERM');
    await left.proc.exited;
    nodes.splice(nodes.indexOf(left), 1);
    started[idle] = await startNode(args);
    nodes.push(started[idle]!);
  }
  throw new Error(`no placement of ${queues.join(', ')} over ${count} nodes gave each node a queue in 8 tries`);
}

/** The queues a node owns now (its /pushq/health). */
export async function ownedBy(node: Node): Promise<string[]> {
  const res = await fetch(`${node.proc.url}/pushq/health`);
  return ((await res.json()) as { owns: string[] }).owns;
}

export async function waitUntil(what: string, pred: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Placement settled: each of `nodes` owns exactly the queues rendezvous hashing gives it among
 * them (`default` and q0..q{queues-2}), so no queue is moving (rendezvous hashing may leave a node
 * none of a few queues).
 */
export async function spread(nodes: readonly Node[], queues: number): Promise<boolean> {
  const names = ['default', ...Array.from({ length: queues - 1 }, (_, i) => `q${i}`)];
  const ids = nodes.map((n) => n.id);
  try {
    const owned = await Promise.all(nodes.map(ownedBy));
    return nodes.every((n, i) => owned[i]!.join() === names.filter((q) => ownerFor(q, ids) === n.id).sort().join());
  } catch {
    return false;
  }
}

/** The node that owns the most queues besides `default`, and those queues. */
export async function busiest(nodes: readonly Node[]): Promise<{ node: Node; queues: string[] }> {
  const owned = await Promise.all(nodes.map(async (node) => ({ node, queues: (await ownedBy(node)).filter((q) => q !== 'default') })));
  return owned.sort((a, b) => b.queues.length - a.queues.length)[0]!;
}

export interface CreateOutcome {
  /** Answered 200 by some node: acknowledged. */
  acknowledged: string[];
  /** Answered 409 on a retry: an earlier try was taken, though never acknowledged. */
  taken: string[];
  /** Names given up on (never answered 200 nor 409 in time). */
  unanswered: string[];
}

/** What one try to create a task gave: acknowledged, "already exists", or worth trying again. */
export type CreateTry = 'ok' | 'exists' | 'retry';
export type TaskToCreate = { name: string; queue: string };

/** What `postTask` may add to a task: a schedule time from now, a body (base64 of it is sent). */
export interface TaskExtras {
  delayMs?: number;
  body?: string | Buffer;
}

/**
 * One REST CreateTask of task `name` in `queue` through `node`: its status and, on a refusal, the
 * error's message and status (the Cloud Tasks JSON error).
 */
export async function postTask(node: Node, queue: string, name: string, extras: TaskExtras = {}): Promise<{ status: number; message?: string; grpcStatus?: string }> {
  const res = await fetch(`${node.api}/${queue}/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      task: {
        name: `projects/p/locations/l/queues/${queue}/tasks/${name}`,
        ...(extras.delayMs !== undefined && extras.delayMs > 0 ? { scheduleTime: new Date(Date.now() + extras.delayMs).toISOString() } : {}),
        appEngineHttpRequest: { relativeUri: `/t/${queue}/${name}`, ...(extras.body === undefined ? {} : { body: Buffer.from(extras.body).toString('base64') }) },
      },
    }),
  });
  const body = (await res.json()) as { error?: { message: string; status: string } };
  return { status: res.status, ...(body.error ? { message: body.error.message, grpcStatus: body.error.status } : {}) };
}

/** One REST CreateTask of `t` through `node`. */
export async function restCreate(node: Node, t: TaskToCreate): Promise<CreateTry> {
  let status = 0;
  try {
    const res = await fetch(`${node.api}/${t.queue}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task: { name: `projects/p/locations/l/queues/${t.queue}/tasks/${t.name}`, appEngineHttpRequest: { relativeUri: `/t/${t.queue}/${t.name}` } } }),
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    status = res.status;
  } catch {
    return 'retry';
  }
  if (status === 200) return 'ok';
  if (status === 409) return 'exists';
  if (status === 503) return 'retry';
  throw new Error(`create ${t.name} through ${node.api}: HTTP ${status}`);
}

/**
 * Creates `tasks` through the nodes in turn, `parallel` at a time, each by `attempt` (REST unless
 * given; `index` is the task's place in `tasks`). A try that fails (no answer, unavailable) is
 * made again with the same name on the next node: "ok" is acknowledged (`onAcknowledged` hears
 * it); "already exists" on a retry means an earlier try was taken, but it was never acknowledged,
 * so it is not counted as such (on a first try it is an error). `alive()` lists the nodes a try
 * may go to at that moment.
 */
export async function createTasks(
  alive: () => readonly Node[],
  tasks: readonly TaskToCreate[],
  parallel: number,
  deadlineMs: number,
  attempt: (node: Node, t: TaskToCreate, index: number) => Promise<CreateTry> = restCreate,
  onAcknowledged: (index: number) => void = () => {},
): Promise<CreateOutcome> {
  const acknowledged: string[] = [];
  const taken: string[] = [];
  const unanswered: string[] = [];
  let next = 0;
  let turn = 0;
  const end = Date.now() + deadlineMs;
  const one = async (t: TaskToCreate, index: number): Promise<void> => {
    for (let tries = 0; Date.now() < end; tries++) {
      const nodes = alive();
      const outcome = await attempt(nodes[turn++ % nodes.length]!, t, index);
      if (outcome === 'ok') {
        acknowledged.push(t.name);
        onAcknowledged(index);
        return;
      }
      if (outcome === 'exists') {
        if (tries === 0) throw new Error(`create ${t.name}: already exists on its first try`);
        taken.push(t.name);
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    unanswered.push(t.name);
  };
  const loop = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++;
      await one(tasks[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: parallel }, loop));
  return { acknowledged, taken, unanswered };
}

/** One query's first row's `n`. */
export async function count(url: string, sql: string, values: unknown[] = []): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query<{ n: string }>(sql, values)).rows[0]!.n);
  } finally {
    await c.end();
  }
}

/** Rows of a query. */
export async function rows<R extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(sql, values)).rows;
  } finally {
    await c.end();
  }
}

export function stopAll(nodes: readonly Node[]): void {
  for (const n of nodes) if (n.proc.child.exitCode === null && n.proc.child.signalCode === null) n.proc.child.kill('SIGKILL');
}

/** The most dispatches of one queue in any 1 s window at the worker. */
export function busiestSecond(received: readonly Received[]): number {
  const at = received.map((r) => r.atMs).sort((a, b) => a - b);
  let most = 0;
  let from = 0;
  for (let i = 0; i < at.length; i++) {
    while (at[i]! - at[from]! >= 1000) from++;
    most = Math.max(most, i - from + 1);
  }
  return most;
}

/** What every cluster test file starts: a throwaway PostgreSQL, a scratch directory, and the nodes and workers to stop at the end. */
export interface ClusterFixture {
  readonly pg: PgCluster;
  readonly dir: string;
  readonly nodes: Node[];
  readonly workers: Worker[];
}

/** Registers the file's beforeAll/afterAll: PostgreSQL started and a directory made (`prefix`); every node killed, worker closed, both removed after. */
export function clusterFixture(prefix: string): ClusterFixture {
  const fx = { nodes: [] as Node[], workers: [] as Worker[] } as { pg: PgCluster; dir: string; nodes: Node[]; workers: Worker[] };
  beforeAll(async () => {
    tornDown = false;
    fx.pg = await startPgCluster();
    fx.dir = await mkdtemp(join(tmpdir(), prefix));
  }, 120_000);
  afterAll(async () => {
    tornDown = true;
    // Every process started, not only those in `nodes`: a node still starting when a test failed or
    // timed out, or started and not yet pushed, is in no list (one was found an hour later).
    await killEveryStarted();
    for (const w of fx.workers) await w.close();
    await fx.pg?.stop();
    if (fx.dir) await rm(fx.dir, { recursive: true, force: true });
  });
  return fx;
}

/**
 * Retry counts across a kill -9, as designed. A request goes out before its AttemptDispatched is
 * durable (docs/architecture.md), so the dead owner may have sent attempts it never stored; the
 * next owner counts from the log, and the worker may then see a count again, or a smaller one,
 * once, at the handover. So:
 * - before the kill (one owner per queue), a task's deliveries never go back;
 * - every delivery received `quietMs` after it (the dead node's requests have all arrived, and its
 *   lease has not run out yet) is from a live owner, whose AttemptDispatched reaches the store: its
 *   retry count is that dispatch's place among the task's dispatches in the store (0 for the first),
 *   the dispatch being the task's last one logged before the request arrived (attempts of a task
 *   are at least the minimum backoff apart). The store is read again until the live owners' last
 *   events are in it.
 * Returns how many tasks were delivered after the kill.
 */
export async function expectRetryCountsFromTheLog(url: string, received: readonly Received[], killedAtMs: number, quietMs = 1000): Promise<number> {
  const before = new Map<string, number[]>();
  const after = new Map<string, { atMs: number; retry: number }[]>();
  for (const r of received) {
    const name = r.url.slice(r.url.lastIndexOf('/') + 1);
    const retry = Number(r.headers['x-appengine-taskretrycount']);
    if (r.atMs > killedAtMs + quietMs) after.set(name, [...(after.get(name) ?? []), { atMs: r.atMs, retry }]);
    else before.set(name, [...(before.get(name) ?? []), retry]);
  }
  for (const [name, retries] of before) expect(retries, `${name} before the kill`).toEqual([...retries].sort((a, b) => a - b));
  // Receive and dispatch times come from two processes' clocks, both anchored to the wall clock.
  const SLACK_US = 20_000;
  const expected = async (): Promise<Map<string, (number | null)[]>> => {
    const names = new Map<string, string>();
    const dispatches = new Map<string, number[]>();
    const logged = await rows<{ stream: string; body: string }>(url, `SELECT stream, body FROM pushq_events WHERE body LIKE '{"type":"TaskAdded"%' OR body LIKE '{"type":"AttemptDispatched"%' ORDER BY stream, position`);
    for (const { stream, body } of logged) {
      const e = JSON.parse(body) as { type: string; t: number; id: number; options?: { name?: string } };
      const key = `${stream}/${e.id}`;
      if (e.type === 'TaskAdded') names.set(key, e.options?.name ?? `task${e.id}`);
      else {
        const name = names.get(key) as string;
        dispatches.set(name, [...(dispatches.get(name) ?? []), e.t]);
      }
    }
    return new Map([...after].map(([name, got]) => [name, got.map((g) => {
      const ts = dispatches.get(name) ?? [];
      let place: number | null = null;
      for (let j = 0; j < ts.length; j++) if ((ts[j] as number) <= g.atMs * 1000 + SLACK_US) place = j;
      return place;
    })]));
  };
  let want = await expected();
  const matches = (): boolean => [...after].every(([name, got]) => got.every((g, i) => want.get(name)?.[i] === g.retry));
  for (const end = Date.now() + 10_000; !matches() && Date.now() < end; ) {
    await new Promise((r) => setTimeout(r, 200));
    want = await expected();
  }
  for (const [name, got] of after) expect(got.map((g) => g.retry), `${name} after the kill: the retry counts sent, against each dispatch's place in the store`).toEqual(want.get(name));
  return after.size;
}
