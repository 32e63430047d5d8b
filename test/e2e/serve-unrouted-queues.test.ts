/**
 * Queues whose tasks go to a service no --target gives a URL (docs/serve.md, "Targets and
 * routing"), against a real `pushq serve`: the start says which, and a failed attempt says why.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { api, startServe } from '../helpers/serve-process.js';
import { startWorker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

it('targets given but none for a queue\'s service: the start warns naming the service and its queues, and the attempt\'s error names what was looked up and what is given', async () => {
  // Before: the start said nothing, and each attempt failed with `no-target-url: default` alone.
  const dir = await mkdtemp(join(tmpdir(), 'pushq-unrouted-'));
  const yaml = join(dir, 'queue.yaml');
  const worker = await startWorker();
  await writeFile(yaml, 'queue:\n- name: mail\n  rate: 5/s\n- name: jobs\n  rate: 5/s\n  target: worker\n- name: reports\n  rate: 5/s\n  target: v2.batch\n');
  const serve = await startServe(['--config', yaml, '--memory', '--target', `worker=${worker.url}`]);
  try {
    await expect.poll(() => serve.stderr(), { timeout: EVENT_BOUND_MS }).toContain('pushq serve: warning: no --target gives a URL for service v2.batch');
    expect(serve.stderr()).toContain(
      'pushq serve: warning: no --target gives a URL for service default, where queues default, mail send their tasks: ' +
        'each attempt of theirs fails (no-target-url) unless the task names a service that has one; give --target default=URL\n',
    );
    expect(serve.stderr()).toContain('pushq serve: warning: no --target gives a URL for service v2.batch, where queue reports sends its tasks: ');
    expect(serve.stderr()).not.toContain('service worker');
    const name = `${serve.api.replace(/^.*\/v2\//, '')}/mail/tasks/t1`;
    expect((await api('POST', `${serve.api}/mail/tasks`, { task: { name, appEngineHttpRequest: { relativeUri: '/m' } } })).status).toBe(200);
    await expect.poll(async () => (await api('GET', `${serve.api}/mail/tasks/t1`)).json.lastAttempt?.responseStatus?.message, { timeout: EVENT_BOUND_MS }).toBe(
      'no-target-url: no URL for service "default" (URLs are given for worker)',
    );
    // A task that names a service with a URL reaches it from the same queue.
    expect((await api('POST', `${serve.api}/mail/tasks`, { task: { appEngineHttpRequest: { relativeUri: '/routed', appEngineRouting: { service: 'worker' } } } })).status).toBe(200);
    await worker.waitFor((rs) => rs.some((r) => r.url === '/routed'), EVENT_BOUND_MS, 'the routed task');
  } finally {
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    await worker.close();
    await rm(dir, { recursive: true, force: true });
  }
});

it('a reload that adds a queue for a service with no URL, or moves a queue to one, says so in its answer and on stdout, as the start does', async () => {
  // Before: the start warned, a reload said only 'applied (N queues)', and every attempt then failed no-target-url.
  const dir = await mkdtemp(join(tmpdir(), 'pushq-unrouted-reload-'));
  const yaml = join(dir, 'queue.yaml');
  const worker = await startWorker();
  await writeFile(yaml, 'queue:\n- name: default\n  rate: 5/s\n  target: worker\n- name: jobs\n  rate: 5/s\n  target: worker\n');
  const serve = await startServe(['--config', yaml, '--memory', '--target', `worker=${worker.url}`]);
  try {
    expect(serve.stderr()).not.toContain('warning');
    // `reports` added with a target no --target gives; `jobs` moved to one.
    await writeFile(yaml, 'queue:\n- name: default\n  rate: 5/s\n  target: worker\n- name: jobs\n  rate: 5/s\n  target: v2.batch\n- name: reports\n  rate: 5/s\n  target: v2.batch\n');
    const reload = await api('POST', `${serve.url}/pushq/reload`, {});
    expect(reload.status).toBe(200);
    const line =
      'no --target gives a URL for service v2.batch, where queues jobs, reports send their tasks: each attempt of their App Engine tasks fails (no-target-url), ' +
      "whatever service the task names (each queue's target overrides it); give --target v2.batch=URL";
    expect(reload.json.lines).toContain(line);
    await expect.poll(() => serve.stdout(), { timeout: EVENT_BOUND_MS }).toContain(`pushq serve: reload applied (POST /pushq/reload)\n`);
    expect(serve.stdout()).toContain(`  ${line}\n`);
    // A reload that routes them again says nothing of it.
    await writeFile(yaml, 'queue:\n- name: default\n  rate: 5/s\n  target: worker\n- name: jobs\n  rate: 5/s\n  target: worker\n');
    const back = await api('POST', `${serve.url}/pushq/reload`, {});
    expect(back.json.lines.join('\n')).not.toContain('no --target');
  } finally {
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    await worker.close();
    await rm(dir, { recursive: true, force: true });
  }
});

it('no --target at all: the start and a reload (SIGHUP, POST /pushq/reload) say the same line, naming the running push queues', async () => {
  // Before: the start said 'targets none (every attempt fails: ...)' in its startup line, and a
  // reload that added a queue said only 'applied (N queues)'.
  const dir = await mkdtemp(join(tmpdir(), 'pushq-no-target-'));
  const yaml = join(dir, 'queue.yaml');
  await writeFile(yaml, 'queue:\n- name: mail\n  rate: 5/s\n');
  const serve = await startServe(['--config', yaml, '--memory']);
  const line = (queues: string) =>
    `no --target is given, so no service has a URL: each attempt of an App Engine task fails (no-target-url) in queues ${queues}; ` +
    'give --target default=URL (every service without a URL of its own then uses it)';
  try {
    expect(serve.stdout()).toContain(' · targets none · queues default, mail');
    await expect.poll(() => serve.stderr(), { timeout: EVENT_BOUND_MS }).toContain(`pushq serve: warning: ${line('default, mail')}\n`);
    // A reload by signal that adds a queue, and one through the endpoint that adds another (a pull queue sends nothing: not named).
    await writeFile(yaml, 'queue:\n- name: mail\n  rate: 5/s\n- name: jobs\n  rate: 1/s\n');
    serve.child.kill('SIGHUP');
    await expect.poll(() => serve.stdout(), { timeout: EVENT_BOUND_MS }).toContain(`pushq serve: reload applied\n  ${yaml}: applied (3 queues)\n  ${line('default, mail, jobs')}\n`);
    await writeFile(yaml, 'queue:\n- name: mail\n  rate: 5/s\n- name: jobs\n  rate: 1/s\n- name: pulled\n  mode: pull\n- name: reports\n  rate: 1/s\n');
    const reload = await api('POST', `${serve.url}/pushq/reload`, {});
    expect(reload.status).toBe(200);
    expect(reload.json.lines).toContain(line('default, mail, jobs, reports'));
    await expect.poll(() => serve.stdout(), { timeout: EVENT_BOUND_MS }).toContain(`pushq serve: reload applied (POST /pushq/reload)\n`);
    expect(serve.stdout()).toContain(`  ${line('default, mail, jobs, reports')}\n`);
  } finally {
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    await rm(dir, { recursive: true, force: true });
  }
});
