/**
 * examples/serve/README.md, as written: its worker app, its queue.yaml and its requests, through
 * the real CLI; the worker's output is what the README shows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, api, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

let worker: ChildProcess;
let workerOut = '';
let serve: ServeProcess;

beforeAll(async () => {
  worker = spawn(process.execPath, [join(ROOT, 'examples/serve/worker.mjs'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  worker.stdout!.setEncoding('utf8').on('data', (s: string) => (workerOut += s));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${workerOut}`)), EVENT_BOUND_MS);
    worker.stdout!.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(workerOut);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
  });
  serve = await startServe(['--config', 'examples/serve/queue.yaml', '--target', `default=${url}`, '--memory']);
});

afterAll(async () => {
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  worker?.kill();
});

const lines = (prefix: string) => workerOut.split('\n').filter((l) => l.startsWith(prefix));

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; worker printed:\n${workerOut}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('examples/serve', () => {
  it('delivers the README\'s tasks, and the worker prints what the README shows', async () => {
    const API = `${serve.url}/v2/projects/-/locations/-/queues`;
    expect((await api('POST', `${API}/emails/tasks`, { task: { appEngineHttpRequest: { relativeUri: '/hello/1', body: 'aGk=' } } })).status).toBe(200);
    const named = { task: { name: 'projects/-/locations/-/queues/emails/tasks/welcome-42', appEngineHttpRequest: { relativeUri: '/fail-twice/42' } } };
    expect((await api('POST', `${API}/emails/tasks`, named)).status).toBe(200);
    await until(() => lines('POST /fail-twice/42').length === 3, EVENT_BOUND_MS, 'three attempts of welcome-42');
    expect(lines('POST /hello/1')).toEqual([expect.stringMatching(/^POST \/hello\/1 queue=emails task=task\d+ retry=0 executions=0 body=2B -> 200$/)]);
    expect(lines('POST /fail-twice/42')).toEqual([
      'POST /fail-twice/42 queue=emails task=welcome-42 retry=0 executions=0 body=0B -> 503',
      'POST /fail-twice/42 queue=emails task=welcome-42 retry=1 executions=1 previous=503 body=0B -> 503',
      'POST /fail-twice/42 queue=emails task=welcome-42 retry=2 executions=2 previous=503 body=0B -> 200',
    ]);
    const story = await api('GET', `${serve.url}/pushq/queues/emails/tasks/welcome-42/story`);
    expect(story.json.attempts.map((a: { status: number }) => a.status)).toEqual([503, 503, 200]);
    expect(story.json.attempts.slice(0, 2).map((a: { backoff: { delaySeconds: number } }) => a.backoff.delaySeconds)).toEqual([0.5, 1]);
  });
});
