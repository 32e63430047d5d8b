/** SIGHUP reloads queue.yaml in a running `pushq serve` (deploy semantics: rate 0 → >0 resumes). */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { api, startServe } from '../helpers/serve-process.js';
import { startWorker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

it('applies an edited queue.yaml on SIGHUP', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pushq-hup-'));
  const worker = await startWorker();
  const yaml = join(dir, 'queue.yaml');
  await writeFile(yaml, 'queue:\n- name: later\n  rate: 0\n');
  const serve = await startServe(['--config', yaml, '--data', join(dir, 'data'), '--target', `default=${worker.url}`]);
  try {
    expect((await api('GET', `${serve.api}/later`)).json.state).toBe('PAUSED');
    expect((await api('POST', `${serve.api}/later/tasks`, { task: { appEngineHttpRequest: { relativeUri: '/later/1' } } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(worker.received).toHaveLength(0);
    await writeFile(yaml, 'queue:\n- name: later\n  rate: 10/s\n- name: added\n  rate: 1/s\n');
    serve.child.kill('SIGHUP');
    await worker.waitFor((rs) => rs.some((r) => r.url === '/later/1'), EVENT_BOUND_MS, 'the task after reload');
    expect((await api('GET', `${serve.api}/later`)).json.state).toBe('RUNNING');
    expect((await api('GET', `${serve.api}/added`)).status).toBe(200);
    await expect.poll(() => serve.stdout(), { timeout: EVENT_BOUND_MS }).toContain('reload applied');
  } finally {
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    await worker.close();
    await rm(dir, { recursive: true, force: true });
  }
});

it('refuses an invalid queue.yaml on SIGHUP on stderr, each issue with its line; stdout only says what was applied', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pushq-hup-refused-'));
  const yaml = join(dir, 'queue.yaml');
  await writeFile(yaml, 'queue:\n- name: steady\n  rate: 5/s\n');
  const serve = await startServe(['--config', yaml, '--memory']);
  try {
    await writeFile(yaml, 'queue:\n- name: steady\n  rate: fast\n');
    serve.child.kill('SIGHUP');
    await expect.poll(() => serve.stderr(), { timeout: EVENT_BOUND_MS }).toContain('pushq serve: reload refused\n');
    expect(serve.stderr()).toMatch(/pushq serve: reload refused\n {2}\S*queue\.yaml:3:\d+ error rate `fast` is not valid/);
    expect(serve.stdout()).not.toContain('reload');
    expect((await api('GET', `${serve.api}/steady`)).json.rateLimits.maxDispatchesPerSecond).toBe(5); // nothing changed
  } finally {
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    await rm(dir, { recursive: true, force: true });
  }
});

it('refuses a queue.yaml whose aliases cannot be read (none before, one inside its own value, a billion values): the service keeps running its config and its log as they were', async () => {
  // Before: an alias inside its own value overflowed the stack ("reload failed: Maximum call
  // stack size exceeded", no file or line), and nested aliases held the event loop for minutes.
  const dir = await mkdtemp(join(tmpdir(), 'pushq-hup-alias-'));
  const yaml = join(dir, 'queue.yaml');
  const data = join(dir, 'data');
  await writeFile(yaml, 'queue:\n- name: steady\n  rate: 5/s\n');
  const serve = await startServe(['--config', yaml, '--data', data]);
  try {
    const log = await readFile(join(data, 'events.log'));
    const bomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`)];
    const files = [
      { text: 'queue:\n- name: steady\n  rate: *fast\n', issue: /queue\.yaml:3:9 error alias \*fast names no anchor/ },
      { text: 'queue: &q\n- name: steady\n  rate: 5/s\n  retry_parameters: *q\n', issue: /queue\.yaml:4:21 error alias \*q is inside the value its anchor &q names/ },
      { text: `${bomb.join('\n')}\nqueue:\n- name: steady\n  rate: 1/s\n`, issue: /queue\.yaml:4:45 error aliases repeat more than 10000 values/ },
    ];
    for (const [index, file] of files.entries()) {
      await writeFile(yaml, file.text);
      serve.child.kill('SIGHUP');
      await expect.poll(() => serve.stderr().split('pushq serve: reload refused\n').length - 1, { timeout: EVENT_BOUND_MS }).toBe(index + 1);
      expect(serve.stderr()).toMatch(file.issue);
    }
    expect(serve.stderr()).not.toContain('reload failed');
    const steady = (await api('GET', `${serve.api}/steady`)).json;
    expect(steady).toMatchObject({ state: 'RUNNING', rateLimits: { maxDispatchesPerSecond: 5 } });
    expect(await readFile(join(data, 'events.log'))).toEqual(log);
  } finally {
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    await rm(dir, { recursive: true, force: true });
  }
});

it('says a reload applied through POST /pushq/reload on stdout, as a SIGHUP one: the output never lags the queues', async () => {
  // Before, only SIGHUP's reloads were printed: after a reload through the endpoint the process's
  // output still told of the queues of the last SIGHUP, while the service ran others.
  const dir = await mkdtemp(join(tmpdir(), 'pushq-reload-api-'));
  const yaml = join(dir, 'queue.yaml');
  await writeFile(yaml, 'queue:\n- name: first\n  rate: 1/s\n');
  const serve = await startServe(['--config', yaml, '--memory']);
  try {
    await writeFile(yaml, 'queue:\n- name: second\n  rate: 1/s\n');
    const applied = await api('POST', `${serve.url}/pushq/reload`, {});
    expect(applied.status).toBe(200);
    expect((await api('GET', `${serve.api}/first`)).json.state).toBe('DISABLED');
    await expect.poll(() => serve.stdout(), { timeout: EVENT_BOUND_MS }).toContain('pushq serve: reload applied (POST /pushq/reload)\n');
    expect(serve.stdout()).toContain(`  ${yaml}: applied (2 queues)\n`);
    // A refused one is the caller's answer (docs/serve.md), and changes nothing on either stream.
    await writeFile(yaml, 'queue:\n- name: second\n  rate: fast\n');
    const refused = await api('POST', `${serve.url}/pushq/reload`, {});
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toMatch(/queue\.yaml:3:\d+ error rate `fast` is not valid/);
    expect(serve.stdout().split('reload applied').length - 1).toBe(1);
    expect(serve.stderr()).not.toContain('reload');
  } finally {
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    await rm(dir, { recursive: true, force: true });
  }
});
