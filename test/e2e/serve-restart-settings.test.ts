/**
 * A restart with the same queue.yaml and other settings (a --target added) is not a deploy: a
 * queue paused through the API stays paused, and its tasks wait. A restart with a changed
 * queue.yaml is a deploy (reference §1.4): the queue's rate above 0 resumes it.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { api, startServe } from '../helpers/serve-process.js';
import { startWorker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

it('keeps a paused queue paused across a restart that only adds a --target; a changed queue.yaml resumes it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pushq-restart-settings-'));
  const worker = await startWorker(() => 200);
  const other = await startWorker(() => 200);
  const yaml = join(dir, 'queue.yaml');
  await writeFile(yaml, 'queue:\n- name: one\n  rate: 100/s\n');
  const data = join(dir, 'data');
  const base = ['--config', yaml, '--data', data, '--target', `default=${worker.url}`];
  const state = async (s: { api: string }): Promise<string> => ((await (await fetch(`${s.api}/one`)).json()) as { state: string }).state;
  try {
    const first = await startServe(base);
    expect((await api('POST', `${first.api}/one:pause`, {})).status).toBe(200);
    const r = await api('POST', `${first.api}/one/tasks`, { task: { name: 'projects/p/locations/l/queues/one/tasks/held', appEngineHttpRequest: { relativeUri: '/held' } } });
    expect(r.status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await startServe([...base, '--target', `other=${other.url}`]);
    expect(await state(second)).toBe('PAUSED');
    await sleep(500);
    expect(worker.received).toEqual([]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    const configs = (await readFile(join(data, 'events.log'), 'utf8')).split('\n').filter((l) => l.includes('"type":"ConfigApplied"'));
    expect(configs).toHaveLength(2);
    expect(configs[1]).toContain('"settingsOnly":true');
    expect(configs[1]).toContain(other.url);

    // A deploy: the file changed, its rate is above 0, so the queue runs and the task goes.
    await writeFile(yaml, 'queue:\n- name: one\n  rate: 50/s\n');
    const third = await startServe([...base, '--target', `other=${other.url}`]);
    expect(await state(third)).toBe('RUNNING');
    await worker.waitFor((rs) => rs.some((x) => x.url === '/held' && x.answered === 200), EVENT_BOUND_MS, 'the held task after the deploy');
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  } finally {
    await worker.close();
    await other.close();
    await rm(dir, { recursive: true, force: true });
  }
});
