/**
 * A reload of a large queue.yaml (a few MiB: pull queues with long acl lists) is parsed and checked
 * on a worker thread: the service goes on answering while it runs. Before, the parse ran on the
 * event loop and `GET /pushq/health` waited for all of it (a 4.8 MiB file: 6–8 s on this loaded
 * machine, ~1 s idle), and a kept-alive connection was sometimes reset once the loop came back.
 *
 * Each test polls /pushq/health, one request after the other, for as long as the reload is out, and
 * requires every answer to come in less than half the reload's time: a parse on the event loop holds
 * one of them for nearly all of it. The figures are printed (console.info).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, startServe, type ServeProcess } from '../helpers/serve-process.js';

/** Acl entries per pull queue: 50 queues of them make a ~3.5 MiB file. */
const ACL = 1_500;

/** A valid queue.yaml of a few MiB: `shared` at `sharedRate`, then 50 pull queues with long acls; `tail` appended. */
function largeQueueYaml(sharedRate: string, tail = ''): string {
  const lines = ['queue:', '- name: shared', `  rate: ${sharedRate}`];
  for (let q = 0; q < 50; q++) {
    lines.push(`- name: pull-${q}`, '  mode: pull', '  acl:');
    for (let a = 0; a < ACL; a++) lines.push(`  - user_email: user-${a}-of-queue-${q}@example.com`);
  }
  return `${lines.join('\n')}\n${tail}`;
}

interface Polled {
  /** The reload's answer. */
  status: number;
  body: any;
  reloadMs: number;
  /** Each /pushq/health answered while the reload was out, in ms. */
  healthMs: number[];
}

/** Sends POST /pushq/reload and, until it answers, GET /pushq/health one after the other. */
async function reloadWhilePolling(serve: ServeProcess): Promise<Polled> {
  const started = performance.now();
  let answered: { status: number; body: any; reloadMs: number } | null = null;
  const reload = api('POST', `${serve.url}/pushq/reload`, {}).then((r) => (answered = { status: r.status, body: r.json, reloadMs: performance.now() - started }));
  const healthMs: number[] = [];
  while (answered === null) {
    const sent = performance.now();
    expect((await api('GET', `${serve.url}/pushq/health`)).status).toBe(200);
    healthMs.push(performance.now() - sent);
    await new Promise((r) => setTimeout(r, 5));
  }
  await reload;
  const done = answered as { status: number; body: any; reloadMs: number };
  return { ...done, healthMs };
}

function figures(what: string, p: Polled): string {
  const sorted = [...p.healthMs].sort((a, b) => a - b);
  return `${what}: reload answered in ${p.reloadMs.toFixed(0)} ms; /pushq/health answered ${sorted.length} times meanwhile, median ${sorted[sorted.length >> 1]!.toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(0)} ms`;
}

/** The service answered throughout: several health checks, none held for half the reload. */
function expectAnsweredThroughout(p: Polled): void {
  expect(p.healthMs.length).toBeGreaterThanOrEqual(3);
  expect(Math.max(...p.healthMs)).toBeLessThan(p.reloadMs / 2);
}

let dir: string;
let yaml: string;
let serve: ServeProcess;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-reload-large-'));
  yaml = join(dir, 'queue.yaml');
  await writeFile(yaml, 'queue:\n- name: shared\n  rate: 1/s\n');
  serve = await startServe(['--config', yaml, '--memory']);
});

afterAll(async () => {
  serve?.child.kill('SIGTERM');
  if (serve !== undefined) expect(await serve.exited).toBe(0);
  await rm(dir, { recursive: true, force: true });
});

const rateOf = async (queue: string) => (await api('GET', `${serve.api}/${queue}`)).json.rateLimits.maxDispatchesPerSecond;

it('answers other requests while it reloads a queue.yaml of a few MiB', { timeout: 120_000 }, async () => {
  await writeFile(yaml, largeQueueYaml('2/s'));
  const p = await reloadWhilePolling(serve);
  console.info(figures('valid 3.5 MiB queue.yaml', p));
  expect(p.status).toBe(200);
  expect(p.body.lines[0]).toBe(`${yaml}: applied (52 queues)`);
  expect(await rateOf('shared')).toBe(2);
  expectAnsweredThroughout(p);
});

it('refuses a large file with an error at its end as before (file, line, column), answering meanwhile, and keeps the running configuration', { timeout: 120_000 }, async () => {
  const good = largeQueueYaml('3/s');
  const badLine = good.split('\n').length + 2; // the tail's third line
  await writeFile(yaml, `${good}- name: late\n  mode: push\n  rate: fast\n`);
  const p = await reloadWhilePolling(serve);
  console.info(figures('invalid 3.5 MiB queue.yaml', p));
  expect(p.status).toBe(400);
  expect(p.body.error.message).toContain(`${yaml}:${badLine}:9 error rate \`fast\` is not valid`);
  expect(await rateOf('shared')).toBe(2); // the last applied file's
  expect((await api('GET', `${serve.api}/late`)).status).toBe(404);
  expectAnsweredThroughout(p);
});

it('applies two reloads asked in quick succession in order: the file as it was last written wins, even when the first is the slow one', { timeout: 120_000 }, async () => {
  await writeFile(yaml, largeQueueYaml('4/s'));
  const first = api('POST', `${serve.url}/pushq/reload`, {});
  // Long enough for the first reload's thread to have read the large file (its parse takes far
  // longer); were the reloads not one after the other, the small file's would end first and the
  // large one's would then put 4/s back.
  await new Promise((r) => setTimeout(r, 300));
  await writeFile(yaml, 'queue:\n- name: shared\n  rate: 7/s\n');
  const second = api('POST', `${serve.url}/pushq/reload`, {});
  const [a, b] = await Promise.all([first, second]);
  expect([a.status, b.status]).toEqual([200, 200]);
  expect(b.json.lines[0]).toBe(`${yaml}: applied (2 queues)`);
  expect(await rateOf('shared')).toBe(7);
});
