/**
 * Transactional tasks (S23) from an App Engine app, unchanged: a Go program using Google's Go
 * library (Debian's golang-google-appengine-dev, installed by .ci/ensure-go.sh) runs
 * `datastore.RunInTransaction` with `taskqueue.Add` / `AddMulti` inside, against a real
 * `pushq serve --data DIR` and a real worker, built and run as docs/app-engine.md says (GOPATH
 * mode). The library sends datastore_v3.BeginTransaction, the tasks with the transaction, then
 * Commit or Rollback: each task is named at its Add (the name Add and AddMulti return), a commit
 * adds the tasks under those names in one batch of the log and they are dispatched;
 * a rollback adds nothing; a named task and a sixth task are refused, adding none
 * (test/fixtures/appengine-go-transactions/main.go).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { requireAppEngineGoLibrary, runAppEngineGoFixture } from '../helpers/appengine-go.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const YAML = `
queue:
- name: default
  rate: 20/s
- name: held
  rate: 0
`;

let dir: string;
let worker: Worker;
let serve: ServeProcess;
let out: any;

beforeAll(async () => {
  requireAppEngineGoLibrary('datastore/transaction.go');
  dir = await mkdtemp(join(tmpdir(), 'pushq-appengine-go-txn-'));
  await writeFile(join(dir, 'queue.yaml'), YAML);
  worker = await startWorker();
  serve = await startServe(['--config', join(dir, 'queue.yaml'), '--data', join(dir, 'data'), '--target', `default=${worker.url}`]);
  out = await runAppEngineGoFixture('appengine-go-transactions', serve.url);
}, 330_000);

afterAll(async () => {
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  await worker?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** The log's batches: each one's event lines, parsed (docs/events.md, File format). */
function batches(): any[][] {
  const lines = readFileSync(join(dir, 'data', 'events.log'), 'utf8').split('\n').slice(1).filter((l) => l !== '');
  const all: any[][] = [];
  let current: any[] = [];
  for (const line of lines) {
    const v = JSON.parse(line);
    if ('commit' in v) {
      expect(v.n).toBe(current.length);
      all.push(current);
      current = [];
    } else current.push(v);
  }
  return all;
}

describe('transactional tasks from Google\'s Go library', () => {
  it('a commit adds the tasks (Add, AddMulti, two queues): invisible while the transaction is open, then dispatched', async () => {
    expect(out.committed).toBe('ok');
    expect(out.seenInside).toBe(0);
    // Named at the Add, as the development server names them (Add and AddMulti return the Name);
    // the commit adds each under its name.
    expect(out.names).toHaveLength(4);
    const handle = /^txn(\d+)-0$/.exec(out.names[0])?.[1];
    expect(out.names).toEqual([0, 1, 2, 3].map((k) => `txn${handle}-${k}`));
    await worker.waitFor((rs) => ['/txn/one', '/txn/two', '/txn/three'].every((u) => rs.some((r) => r.url === u)), EVENT_BOUND_MS, 'the committed tasks');
    ['/txn/one', '/txn/two', '/txn/three'].forEach((url, i) => {
      const [r, again] = worker.forUrl(url);
      expect(again).toBeUndefined();
      expect(r!.headers['x-appengine-queuename']).toBe('default');
      expect(r!.headers['x-appengine-taskname']).toBe(out.names[i]);
      expect(new URLSearchParams(r!.body.toString()).get('p')).toBe(url);
    });
    const heldTasks = await api('GET', `${serve.api}/held/tasks`);
    expect(heldTasks.json.tasks.map((t: any) => [t.appEngineHttpRequest.relativeUri, t.name.split('/').pop()])).toEqual([['/txn/held', out.names[3]]]);
  });

  it('the commit is one batch of the log holding all four tasks, and nothing of the transaction is logged before it', () => {
    const added = batches().filter((b) => b.some((e) => e.type === 'TaskAdded' && JSON.stringify(e).includes('/txn/')));
    expect(added).toHaveLength(1);
    const tasks = added[0]!.filter((e) => e.type === 'TaskAdded');
    expect(tasks.map((e) => e.options.url)).toEqual(['/txn/one', '/txn/two', '/txn/three', '/txn/held']);
    expect(tasks.map((e) => e.queue)).toEqual(['default', 'default', 'default', 'held']);
  });

  it('a function that returns an error rolls back: nothing is added', () => {
    expect(out.rolledBack).toBe('the app changed its mind');
    expect(out.afterRollback).toBe(1);
    expect(JSON.stringify(batches())).not.toContain('/rolled-back');
  });

  it('a named task in a transaction is INVALID_TASK_NAME, and nothing is added', () => {
    expect(out.named).toMatch(/^API error 5 \(taskqueue: INVALID_TASK_NAME\): task "named-in-txn" is bound to a transaction: a task bound to a transaction cannot be named/);
    expect(JSON.stringify(batches())).not.toContain('/named');
  });

  it('six tasks in one transaction are refused (DATASTORE_ERROR + BAD_REQUEST, 10001), in one call or two, and none is added', async () => {
    expect(out.six).toMatch(/^API error 10001 \(taskqueue: \): too many transactional tasks: 6 more would make 6 in transaction \d+, and one transaction adds at most 5; none of these was added/);
    expect(out.sixInTwoFirst).toBe('ok');
    expect(out.sixInTwo).toMatch(/^API error 10001 .*3 more would make 6 .*\(it holds 3 already\)/);
    const log = JSON.stringify(batches());
    expect(log).not.toContain('/six');
    expect(worker.forUrl('/six')).toHaveLength(0);
    expect(worker.forUrl('/rolled-back')).toHaveLength(0);
    expect(worker.forUrl('/named')).toHaveLength(0);
  });

  it('every other Datastore call is refused: pushq serves no Datastore', () => {
    expect(out.datastore).toMatch(/datastore_v3\.Get\(\) was not found: pushq serves only the task queue \(service "taskqueue"\) and no Datastore/);
  });
});
