/**
 * Bug: a data directory whose log was damaged in the middle could not be recovered from the CLI:
 * `pushq serve` said "--repair cuts the log here" but had no --repair (exit 2), and `pushq replay
 * --repair` only reads. Now `pushq serve --repair` cuts the log at the last complete batch before
 * the damage, keeps the bytes cut off in events.log.damaged-<offset> beside it, says so, and starts;
 * a sound log is not changed; each command's refusal says what its own --repair does. And the
 * refusal names the file the repair will really write (it named events.log.damaged-<offset> even
 * when an earlier repair's file had that name, and the repair wrote .1).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';
import { SERVE_START_BOUND_MS, api, startServe } from '../helpers/serve-process.js';

/**
 * Each test runs four or five processes one after another (serve to write a log, refused starts,
 * the repair, replays): 1-3 s each alone, but 10-15 s each at load 14, where one test took 59.9 s
 * against its former 60 s. Each process is bounded by itself (SERVE_START_BOUND_MS).
 */
const EACH_TEST_MS = 180_000;

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-repair-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A data directory whose log holds `n` tasks (each CreateTask its own batch), written by a real server. */
async function dataDirWithTasks(name: string, n: number): Promise<string> {
  const data = join(dir, name);
  const s = await startServe(['--data', data]);
  for (let i = 0; i < n; i++) expect((await api('POST', `${s.api}/default/tasks`, { task: { name: `projects/p/locations/l/queues/default/tasks/t${i}`, appEngineHttpRequest: { relativeUri: `/t/${i}` } } })).status).toBe(200);
  s.child.kill('SIGTERM');
  expect(await s.exited).toBe(0);
  return data;
}

describe('pushq serve --repair', () => {
  it('refuses a log damaged in the middle, naming what --repair would do; --repair cuts there, keeps the rest beside it, and starts', async () => {
    const data = await dataDirWithTasks('mid', 6);
    const path = join(data, 'events.log');
    const bytes = Buffer.from(readFileSync(path));
    // One character of the third task's name: still JSON, but its batch's checksum no longer matches.
    const line = bytes.indexOf('"t2"');
    bytes[line + 2] = '9'.charCodeAt(0);
    writeFileSync(path, bytes);

    const refused = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--data', data], { timeoutMs: SERVE_START_BOUND_MS });
    expect(refused.code, refused.stderr).toBe(1);
    const m = /corrupt log at byte (\d+): .*not a torn tail\); pushq serve --repair cuts the log at byte (\d+), the end of the last complete batch before it, keeping the (\d+) bytes from there on in (\S+), and starts/.exec(refused.stderr);
    expect(m, refused.stderr).not.toBeNull();
    const [cut, moved, keptIn] = [m![2]!, m![3]!, m![4]!];
    expect(keptIn).toBe(`${path}.damaged-${cut}`);
    expect(Number(moved)).toBe(bytes.length - Number(cut));
    expect(bytes.subarray(Number(cut)).toString()).toContain('"t9"'); // the damaged batch is in what is moved
    expect(readFileSync(path)).toEqual(bytes); // refused: nothing changed

    const replayed = await pushq(['replay', path]);
    expect(replayed.code).toBe(1);
    expect(replayed.stderr).toContain(`; --repair replays up to the last complete batch before it (byte ${cut}) and leaves the file as it is`);
    expect(replayed.stderr).not.toContain('pushq serve --repair');

    const repaired = await startServe(['--data', data, '--repair']);
    expect(repaired.stderr()).toMatch(new RegExp(`--repair: .*events\\.log:\\d+: corrupt at byte \\d+ \\(.*\\); cut the log at byte ${cut}, the end of the last complete batch before it, and moved the ${moved} bytes from there on to ${keptIn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    // The tasks before the damage are back; nothing after the cut is.
    const list = await api('GET', `${repaired.api}/default/tasks`);
    const names = (list.json.tasks as { name: string }[]).map((t) => t.name.split('/').pop()).sort();
    expect(names).toEqual(['t0', 't1']);
    repaired.child.kill('SIGTERM');
    expect(await repaired.exited).toBe(0);
    expect(readFileSync(keptIn)).toEqual(bytes.subarray(Number(cut)));
    expect(readFileSync(path).subarray(0, Number(cut))).toEqual(bytes.subarray(0, Number(cut)));
    expect((await pushq(['replay', path])).code).toBe(0);
  }, EACH_TEST_MS);

  it("names the file it will really write: with an earlier repair's file at events.log.damaged-OFFSET, the advice and the repair both say .1; the earlier file is kept", async () => {
    const data = await dataDirWithTasks('taken', 6);
    const path = join(data, 'events.log');
    const bytes = Buffer.from(readFileSync(path));
    const line = bytes.indexOf('"t2"');
    bytes[line + 2] = '9'.charCodeAt(0);
    writeFileSync(path, bytes);
    const first = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--data', data], { timeoutMs: SERVE_START_BOUND_MS });
    const cut = /pushq serve --repair cuts the log at byte (\d+),/.exec(first.stderr)?.[1];
    expect(cut, first.stderr).toBeDefined();
    const earlier = `${path}.damaged-${cut}`;
    writeFileSync(earlier, 'an earlier repair kept this\n');

    const refused = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--data', data], { timeoutMs: SERVE_START_BOUND_MS });
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain(`bytes from there on in ${earlier}.1, and starts`);
    const repaired = await startServe(['--data', data, '--repair']);
    expect(repaired.stderr()).toContain(`bytes from there on to ${earlier}.1 (tasks in them are not restored)`);
    repaired.child.kill('SIGTERM');
    expect(await repaired.exited).toBe(0);
    expect(readFileSync(`${earlier}.1`)).toEqual(bytes.subarray(Number(cut)));
    expect(readFileSync(earlier, 'utf8')).toBe('an earlier repair kept this\n');
  }, EACH_TEST_MS);

  it('on a sound log changes nothing, and says so', async () => {
    const data = await dataDirWithTasks('sound', 2);
    const before = readFileSync(join(data, 'events.log'));
    const s = await startServe(['--data', data, '--repair']);
    expect(s.stderr()).toContain('is not corrupt; nothing changed');
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(readFileSync(join(data, 'events.log')).subarray(0, before.length)).toEqual(before);
    expect(readdirSync(data).filter((f) => f.includes('damaged'))).toEqual([]);
    expect(existsSync(join(data, 'events.log'))).toBe(true);
  }, EACH_TEST_MS);

  it("refuses a simulation's damaged log before cutting anything: the file comes out unchanged", async () => {
    const data = join(dir, 'simulated');
    const path = join(data, 'events.log');
    mkdirSync(data);
    expect((await pushq(['simulate', join(import.meta.dirname, '..', '..', 'examples', 'default.yaml'), '--log', path, '--quiet'])).code).toBe(0);
    const bytes = Buffer.from(readFileSync(path));
    const at = bytes.indexOf('"type":"AttemptSucceeded"', bytes.length >> 1);
    bytes[at + 9] = 'a'.charCodeAt(0); // AttemptSucceeded -> AttemptSucceaded: its batch no longer checks
    writeFileSync(path, bytes);
    const r = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--data', data, '--repair'], { timeoutMs: SERVE_START_BOUND_MS });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('this log was written by a simulation (virtual clock), not by pushq serve');
    expect(readFileSync(path)).toEqual(bytes);
    expect(readdirSync(data).filter((f) => f.includes('damaged'))).toEqual([]);
  }, EACH_TEST_MS);

  it('is for a data directory: with --memory or --store it is a usage error', async () => {
    for (const other of [['--memory'], ['--store', 'postgres://h/db']]) {
      const r = await pushq(['serve', '--repair', ...other]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--repair is for a data directory's log (--data), not ${other[0]}`);
    }
  });
});
