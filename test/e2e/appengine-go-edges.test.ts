/**
 * An App Engine Go app's Task Queue calls at the edges of what the API takes, through a real
 * `pushq serve` with a real worker: Google's Go library (Debian's golang-google-appengine-dev,
 * installed by .ci/ensure-go.sh) in test/fixtures/appengine-go-edges, built and run as
 * test/e2e/appengine-go.test.ts runs its program (docs/app-engine.md's GOPATH-mode command).
 * Each case is one pushq got wrong once.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
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
/** Service `worker`'s URL (--target worker=...): where a task whose Host names it must go. */
let serviceWorker: Worker;
let serve: ServeProcess;
let out: any;

beforeAll(async () => {
  requireAppEngineGoLibrary('taskqueue/taskqueue.go');
  dir = await mkdtemp(join(tmpdir(), 'pushq-appengine-go-edges-'));
  await writeFile(join(dir, 'queue.yaml'), YAML);
  worker = await startWorker();
  serviceWorker = await startWorker();
  serve = await startServe(['--config', join(dir, 'queue.yaml'), '--memory', '--target', `default=${worker.url}`, '--target', `worker=${serviceWorker.url}`]);
  out = await runAppEngineGoFixture('appengine-go-edges', serve.url);
}, 330_000);

afterAll(async () => {
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  await worker?.close();
  await serviceWorker?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('taskqueue at its edges, from Google\'s Go library', () => {
  it('a header value reaches the worker as the bytes the app gave: UTF-8 text stays UTF-8, other bytes pass unchanged', async () => {
    expect(out.headerBytes).toBe('ok');
    await worker.waitFor((rs) => rs.some((r) => r.url === '/header-bytes'), EVENT_BOUND_MS, 'the task with non-ASCII header values');
    const r = worker.forUrl('/header-bytes')[0]!;
    // Node reads each byte of a header value as one Latin-1 character: back to the bytes.
    expect(Buffer.from(r.headers['x-text'] as string, 'latin1').toString('utf8')).toBe('hé 日本');
    expect([...Buffer.from(r.headers['x-raw'] as string, 'latin1')]).toEqual([0xff, 0xfe, 0x80]);
  });

  it('the 100 KiB rule counts a header in the bytes sent: a task of exactly 102400 bytes with non-ASCII header bytes is taken, one byte more is TASK_TOO_LARGE', () => {
    expect(out.atLimit).toBe('ok');
    expect(out.overLimit).toMatch(/^API error 4 \(taskqueue: TASK_TOO_LARGE\): .*the task is 102401 bytes, above the limit of 102400/);
  });

  it('a Host header routes the task, as App Engine reads it: the service (and version) it names, else the app\'s default version; the worker gets its own Host', async () => {
    expect([out.hostService, out.hostVersion, out.hostApp]).toEqual(['ok', 'ok', 'ok']);
    await serviceWorker.waitFor((rs) => rs.some((r) => r.url === '/host-service') && rs.some((r) => r.url === '/host-version'), EVENT_BOUND_MS, 'the tasks routed to service worker by Host');
    await worker.waitFor((rs) => rs.some((r) => r.url === '/host-app'), EVENT_BOUND_MS, 'the task whose Host is the app\'s own hostname');
    expect(worker.forUrl('/host-service')).toEqual([]);
    expect(serviceWorker.forUrl('/host-app')).toEqual([]);
    const r = serviceWorker.forUrl('/host-service')[0]!;
    expect(r.headers['host']).toBe(new URL(serviceWorker.url).host);
  });
});
