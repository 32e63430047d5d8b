/**
 * The data directory and its log are their owner's alone: the log holds every task's payload and
 * headers, and with --auth-token the API refuses them to another user of the machine; the file
 * must not hand them over. A directory that already exists (the user's) is left as it is.
 */
import { chmod, mkdtemp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { api, startServe, type ServeProcess } from '../helpers/serve-process.js';

const children: ServeProcess[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;
/** A target, so that stderr holds only what these tests look for (with none, serve warns that every App Engine attempt fails). */
const ROUTED = ['--target', 'default=http://127.0.0.1:9/'];

describe('pushq serve --data: who may read the log', () => {
  it('a first start makes the directories 0700 and the log 0600 (whatever the umask lets through); an existing directory keeps its mode', async () => {
    const top = await mkdtemp(join(tmpdir(), 'pushq-perm-'));
    dirs.push(top);
    await mkdir(join(top, 'mine'), { mode: 0o755 });
    const modeOfMine = await mode(join(top, 'mine'));
    const data = join(top, 'mine', 'made', 'data');
    const s = await startServe(['--data', data]);
    children.push(s);
    const created = await api('POST', `${s.api}/default/tasks`, { task: { appEngineHttpRequest: { relativeUri: '/x', body: Buffer.from('secret payload').toString('base64') } } });
    expect(created.status).toBe(200);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const log = join(data, 'events.log');
    expect(await readFile(log, 'utf8')).toContain(Buffer.from('secret payload').toString('base64'));
    expect((await mode(log)).toString(8)).toBe('600');
    expect((await mode(data)).toString(8)).toBe('700');
    expect((await mode(join(top, 'mine', 'made'))).toString(8)).toBe('700');
    expect(await mode(join(top, 'mine'))).toBe(modeOfMine);
  }, 60_000);

  it('a log an older pushq made 0644 is made 0600 when serve opens it, said once on stderr; its tasks are kept; an empty one too', async () => {
    const top = await mkdtemp(join(tmpdir(), 'pushq-perm-old-'));
    dirs.push(top);
    const data = join(top, 'data');
    const log = join(data, 'events.log');
    const first = await startServe(['--data', data]);
    children.push(first);
    const created = await api('POST', `${first.api}/default/tasks`, { task: { name: 'projects/p/locations/l/queues/default/tasks/kept', scheduleTime: new Date(Date.now() + 20 * 86_400_000).toISOString(), appEngineHttpRequest: { relativeUri: '/x' } } });
    expect(created.status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // As a pushq from before the logs were made 0600 left it.
    await chmod(log, 0o644);
    const second = await startServe(['--data', data, ...ROUTED]);
    children.push(second);
    expect((await mode(log)).toString(8)).toBe('600');
    expect(second.stderr()).toBe(`pushq serve: ${log} was open to group or others (mode 0644: an older pushq made its logs so), who could read every task's payload in it: made it 0600\n`);
    const got = await api('GET', `${second.api}/default/tasks/kept`);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(got.status).toBe(200);
    const third = await startServe(['--data', data, ...ROUTED]);
    children.push(third);
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
    expect(third.stderr()).toBe('');
    // An empty log file there (open with a mode leaves an existing file's as it is).
    const empty = join(top, 'empty');
    await mkdir(empty, { mode: 0o700 });
    await writeFile(join(empty, 'events.log'), '');
    await chmod(join(empty, 'events.log'), 0o644);
    const fourth = await startServe(['--data', empty]);
    children.push(fourth);
    fourth.child.kill('SIGTERM');
    expect(await fourth.exited).toBe(0);
    expect((await mode(join(empty, 'events.log'))).toString(8)).toBe('600');
  }, 90_000);
});
