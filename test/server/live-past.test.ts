/**
 * The past of a live service kept in a data directory (`pushq serve --data DIR`, the real CLI, a
 * real worker): the first reads of `?at=` read its whole log (on a thread of its own, folded a
 * chunk at a time: src/server/read-source.ts), later ones what it gained since. Several first
 * reads at once share that read, and every answer is what `pushq replay DIR/events.log --at S
 * --json` prints, also after the service wrote on.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayJson } from '../helpers/replay-json.js';
import { api, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

let dir: string;
let worker: Worker;
let serve: ServeProcess;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-live-past-'));
  await writeFile(join(dir, 'queue.yaml'), 'queue:\n- name: q\n  rate: 100/s\n  retry_parameters:\n    task_retry_limit: 1\n    min_backoff_seconds: 0.05\n');
  worker = await startWorker((r) => (r.url.startsWith('/bad/') ? 500 : 200));
  serve = await startServe(['--config', join(dir, 'queue.yaml'), '--data', join(dir, 'data'), '--no-sync', '--target', `default=${worker.url}`]);
}, 30_000);

afterAll(async () => {
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  await worker?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function addTasks(prefix: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await api('POST', `${serve.api}/q/tasks`, { task: { appEngineHttpRequest: { relativeUri: `/${i % 4 === 0 ? 'bad' : 'ok'}/${prefix}${i}` } } });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
  }
}

/** What `pushq replay LOG --at S --json` prints under `queues`, and its events. */
async function replayAt(seconds: number): Promise<{ queues: unknown; events: number }> {
  const json = await replayJson([join(dir, 'data', 'events.log'), '--at', String(seconds)]);
  return { queues: json.queues, events: json.events };
}

/**
 * `live` (a timeline's endSeconds: the service's now) or, when that is past the log's last event,
 * that event's instant: replay --at takes no instant past a file log's last event, and on a loaded
 * machine every attempt may have been answered before `live` was read. Either is after every task
 * created before `live` was read. (The instants, in µs, as the log holds them: line by line, its
 * header first, and lines that are no event.)
 */
async function withinLog(live: number): Promise<number> {
  const times = (await readFile(join(dir, 'data', 'events.log'), 'utf8'))
    .split('\n')
    .slice(1)
    .filter((line) => line.endsWith('}'))
    .map((line) => (JSON.parse(line) as { t?: unknown }).t)
    .filter((t): t is number => typeof t === 'number');
  return Math.min(live, (times[times.length - 1]! - times[0]!) / 1e6);
}

const settled = (n: number) => worker.waitFor((rs) => rs.filter((r) => r.answered !== undefined).length >= n, EVENT_BOUND_MS, `${n} answers`);

describe('the past of pushq serve --data', () => {
  it('several first reads of ?at= at once each answer as replay --at; after the service wrote on, too', async () => {
    await addTasks('a', 24);
    // 24 tasks, 6 of them answered 500 twice (one retry): 30 attempts.
    await settled(30);
    const mid = (await api('GET', `${serve.url}/pushq/timeline.json`)).json.endSeconds;
    await new Promise((r) => setTimeout(r, 50));
    await addTasks('b', 8);
    const bLive = (await api('GET', `${serve.url}/pushq/timeline.json`)).json.endSeconds;
    await settled(40);
    const b = await withinLog(bLive);
    const instants = [mid / 3, mid, b];
    // The first reads of the past, all at once.
    const first = await Promise.all(instants.map((s) => api('GET', `${serve.url}/pushq/dashboard.json?at=${s}`)));
    for (const [i, r] of first.entries()) {
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      const replayed = await replayAt(instants[i] as number);
      expect(r.json.summary, `at ${instants[i]}`).toEqual(replayed.queues);
      expect(r.json.events).toBe(replayed.events);
    }
    expect(first[1]!.json.summary.q.tasks_total).toBe(24);
    // The service writes on; the next read of the past takes what was added.
    await addTasks('c', 4);
    const laterLive = (await api('GET', `${serve.url}/pushq/timeline.json`)).json.endSeconds;
    await settled(45);
    const later = await withinLog(laterLive);
    for (const s of [mid, later]) {
      const r = await api('GET', `${serve.url}/pushq/dashboard.json?at=${s}`);
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      expect(r.json.summary, `at ${s}`).toEqual((await replayAt(s)).queues);
    }
    expect((await api('GET', `${serve.url}/pushq/dashboard.json?at=${later}`)).json.summary.q.tasks_total).toBe(36);
    expect((await api('GET', `${serve.url}/pushq/dashboard.json?at=${b}`)).json.summary.q.tasks_total).toBe(32);
  });
});
