/**
 * The data directory and its log are their owner's alone: the log holds every task's payload and
 * headers, and with --auth-token the API refuses them to another user of the machine; the file
 * must not hand them over. A directory that already exists (the user's) is left as it is.
 */
import { mkdtemp, mkdir, readFile, rm, stat } from 'node:fs/promises';
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

describe('pushq serve --data: who may read the log', () => {
  it('a first start makes the directories 0700 and the log 0600 (whatever the umask lets through); an existing directory keeps its mode', async () => {
    const top = await mkdtemp(join(tmpdir(), 'pushq-perm-'));
    dirs.push(top);
    await mkdir(join(top, 'mine'), { mode: 0o755 });
    const modeOfMine = await mode(join(top, 'mine'));
    const data = join(top, 'mine', 'made', 'data');
    const s = await startServe(['--data', data], 15_000);
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
});
