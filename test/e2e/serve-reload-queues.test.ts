/**
 * What a reload does to queues that hold tasks, against a real `pushq serve` (docs/serve.md,
 * "Reload and signals"; reference §1.3, §1.4).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { api, startServe } from '../helpers/serve-process.js';
import { startWorker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

it('a push queue made `mode: pull` by a reload keeps its push tasks, and the reload says so: the queue, how many, what to do', async () => {
  // Before: the reload answered only "applied (2 queues)", and the queue's tasks stayed pending
  // for ever with nothing said (pushq has no pull API to lease them).
  const dir = await mkdtemp(join(tmpdir(), 'pushq-reload-pull-'));
  const yaml = join(dir, 'queue.yaml');
  const worker = await startWorker();
  await writeFile(yaml, 'queue:\n- name: jobs\n  rate: 0\n');
  const serve = await startServe(['--config', yaml, '--memory', '--target', `default=${worker.url}`]);
  try {
    for (let i = 0; i < 3; i++) expect((await api('POST', `${serve.api}/jobs/tasks`, { task: { appEngineHttpRequest: { relativeUri: `/jobs/${i}` } } })).status).toBe(200);
    await writeFile(yaml, 'queue:\n- name: jobs\n  mode: pull\n');
    const applied = await api('POST', `${serve.url}/pushq/reload`, {});
    expect(applied.status).toBe(200);
    const warning = 'queue jobs: now mode: pull, and holds 3 push tasks that pushq will not dispatch (it serves no pull API); set mode: push again to dispatch them, or purge the queue';
    expect(applied.json.lines).toContain(warning);
    await expect.poll(() => serve.stdout(), { timeout: EVENT_BOUND_MS }).toContain(`  ${warning}\n`);
    expect((await api('GET', `${serve.api}/jobs/tasks`)).json.tasks).toHaveLength(3);
    // Back to push: they are dispatched, and nothing is said of stranded tasks.
    await writeFile(yaml, 'queue:\n- name: jobs\n  rate: 10/s\n');
    const back = await api('POST', `${serve.url}/pushq/reload`, {});
    expect(back.json.lines.join('\n')).not.toContain('mode: pull');
    await worker.waitFor((rs) => rs.length === 3, EVENT_BOUND_MS, 'the three tasks once push again');
  } finally {
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    await worker.close();
    await rm(dir, { recursive: true, force: true });
  }
});

it('a file that leaves `default` out keeps the default queue as it was, on a reload and on a restart (reference §1.3: gcloud leaves it out of a deploy)', async () => {
  // Before: default fell back to App Engine's preset, 5/s and bucket 5, at the first reload (or
  // restart) of a file that no longer named it: a queue the user had slowed to 1/m ran at 5/s.
  const dir = await mkdtemp(join(tmpdir(), 'pushq-reload-default-'));
  const yaml = join(dir, 'queue.yaml');
  const data = join(dir, 'data');
  await writeFile(yaml, 'queue:\n- name: default\n  rate: 1/m\n  bucket_size: 2\n');
  const rateOf = async (api_: string) => (await api('GET', `${api_}/default`)).json.rateLimits;
  let serve = await startServe(['--config', yaml, '--data', data]);
  try {
    expect(await rateOf(serve.api)).toMatchObject({ maxDispatchesPerSecond: 0.016666667, maxBurstSize: 2 });
    await writeFile(yaml, 'queue:\n- name: other\n  rate: 1/s\n');
    expect((await api('POST', `${serve.url}/pushq/reload`, {})).status).toBe(200);
    expect(await rateOf(serve.api)).toMatchObject({ maxDispatchesPerSecond: 0.016666667, maxBurstSize: 2 });
    expect((await api('GET', `${serve.api}/default`)).json.state).toBe('RUNNING');
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    serve = await startServe(['--config', yaml, '--data', data]);
    expect(await rateOf(serve.api)).toMatchObject({ maxDispatchesPerSecond: 0.016666667, maxBurstSize: 2 });
    // Named again, it takes the file's values.
    await writeFile(yaml, 'queue:\n- name: default\n  rate: 5/s\n');
    expect((await api('POST', `${serve.url}/pushq/reload`, {})).status).toBe(200);
    expect(await rateOf(serve.api)).toMatchObject({ maxDispatchesPerSecond: 5, maxBurstSize: 5 });
  } finally {
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    await rm(dir, { recursive: true, force: true });
  }
});

it('`resume_paused_queues: false` keeps a queue paused through the API paused across a reload and a restart with a changed file; the log carries it', async () => {
  // Before: the key was checked and ignored, so every deploy resumed a queue the user had paused.
  const dir = await mkdtemp(join(tmpdir(), 'pushq-reload-keep-paused-'));
  const yaml = join(dir, 'queue.yaml');
  const data = join(dir, 'data');
  const stateOf = async (api_: string) => (await api('GET', `${api_}/jobs`)).json.state;
  await writeFile(yaml, 'resume_paused_queues: false\nqueue:\n- name: jobs\n  rate: 1/s\n');
  let serve = await startServe(['--config', yaml, '--data', data]);
  try {
    expect((await api('POST', `${serve.api}/jobs:pause`, {})).status).toBe(200);
    await writeFile(yaml, 'resume_paused_queues: false\nqueue:\n- name: jobs\n  rate: 2/s\n');
    expect((await api('POST', `${serve.url}/pushq/reload`, {})).status).toBe(200);
    expect(await stateOf(serve.api)).toBe('PAUSED');
    expect((await api('GET', `${serve.api}/jobs`)).json.rateLimits.maxDispatchesPerSecond).toBe(2);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    await writeFile(yaml, 'resume_paused_queues: false\nqueue:\n- name: jobs\n  rate: 3/s\n');
    serve = await startServe(['--config', yaml, '--data', data]);
    expect(await stateOf(serve.api)).toBe('PAUSED');
    // Without it (App Engine's default, true), the deploy resumes the queue.
    await writeFile(yaml, 'queue:\n- name: jobs\n  rate: 3/s\n');
    expect((await api('POST', `${serve.url}/pushq/reload`, {})).status).toBe(200);
    expect(await stateOf(serve.api)).toBe('RUNNING');
    const log = await readFile(join(data, 'events.log'), 'utf8');
    const applied = log.split('\n').filter((l) => l.includes('"type":"ConfigApplied"')).map((l) => JSON.parse(l).config.resume_paused_queues);
    expect(applied).toEqual([false, false, false, undefined]);
  } finally {
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    await rm(dir, { recursive: true, force: true });
  }
});

it('a restart with a file that made a push queue `mode: pull` says, as a reload does, which queue holds push tasks nothing will dispatch', async () => {
  // Before: only a reload said so; a restart with the same change started silently.
  const dir = await mkdtemp(join(tmpdir(), 'pushq-restart-pull-'));
  const yaml = join(dir, 'queue.yaml');
  const data = join(dir, 'data');
  await writeFile(yaml, 'queue:\n- name: jobs\n  rate: 0\n');
  let serve = await startServe(['--config', yaml, '--data', data]);
  try {
    for (let i = 0; i < 2; i++) expect((await api('POST', `${serve.api}/jobs/tasks`, { task: { appEngineHttpRequest: { relativeUri: `/jobs/${i}` } } })).status).toBe(200);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    await writeFile(yaml, 'queue:\n- name: jobs\n  mode: pull\n');
    serve = await startServe(['--config', yaml, '--data', data]);
    const warning = 'pushq serve: warning: queue jobs: now mode: pull, and holds 2 push tasks that pushq will not dispatch (it serves no pull API); set mode: push again to dispatch them, or purge the queue\n';
    await expect.poll(() => serve.stderr(), { timeout: EVENT_BOUND_MS }).toContain(warning);
    expect(serve.stderr().split(warning)).toHaveLength(2); // said once
  } finally {
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    await rm(dir, { recursive: true, force: true });
  }
});

it('a queue left out of queue.yaml holding tasks is disabled with them, and a reload and a restart say so: the queue, how many, what to do', async () => {
  // Before: the reload answered only "applied (1 queues)" and the restart said nothing, while the
  // queue's tasks waited for ever (a renamed queue in a deploy strands its tasks so).
  const dir = await mkdtemp(join(tmpdir(), 'pushq-reload-left-out-'));
  const yaml = join(dir, 'queue.yaml');
  const data = join(dir, 'data');
  const worker = await startWorker();
  await writeFile(yaml, 'queue:\n- name: jobs\n  rate: 0\n- name: other\n  rate: 1/s\n');
  let serve = await startServe(['--config', yaml, '--data', data, '--target', `default=${worker.url}`]);
  try {
    for (let i = 0; i < 3; i++) expect((await api('POST', `${serve.api}/jobs/tasks`, { task: { appEngineHttpRequest: { relativeUri: `/jobs/${i}` } } })).status).toBe(200);
    await writeFile(yaml, 'queue:\n- name: other\n  rate: 1/s\n');
    const applied = await api('POST', `${serve.url}/pushq/reload`, {});
    expect(applied.status).toBe(200);
    const warning = (n: number) =>
      `queue jobs: not in ${yaml}, so disabled (as App Engine disables a queue a deploy leaves out), and holds ${n} tasks that pushq will not dispatch; ` +
      // No "resume it": its last configuration has rate 0, for which a resume is refused (QUEUE_NOT_RESUMABLE).
      `add it to ${yaml} again and reload, or purge it`;
    expect(applied.json.lines).toContain(warning(3));
    await expect.poll(() => serve.stdout(), { timeout: EVENT_BOUND_MS }).toContain(`  ${warning(3)}\n`);
    expect((await api('GET', `${serve.api}/jobs`)).json.state).toBe('DISABLED');
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    serve = await startServe(['--config', yaml, '--data', data, '--target', `default=${worker.url}`]);
    await expect.poll(() => serve.stderr(), { timeout: EVENT_BOUND_MS }).toContain(`pushq serve: warning: ${warning(3)}\n`);
    // Back in the file, with a rate: dispatched, and nothing is said of stranded tasks.
    await writeFile(yaml, 'queue:\n- name: jobs\n  rate: 10/s\n- name: other\n  rate: 1/s\n');
    const back = await api('POST', `${serve.url}/pushq/reload`, {});
    expect(back.json.lines.join('\n')).not.toContain('so disabled');
    await worker.waitFor((rs) => rs.length === 3, EVENT_BOUND_MS, 'the three tasks once in the file again');
  } finally {
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    await worker.close();
    await rm(dir, { recursive: true, force: true });
  }
});
