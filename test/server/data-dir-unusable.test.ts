/**
 * Every refusal of a data directory is typed, names the file, ends with its code, and changes
 * nothing: a file where the directory should be (or above it), a log `pushq simulate` wrote, a log
 * corrupt before its tail (the line named), a log of a newer format. Before, the first two came
 * out as untyped errors (`EEXIST: file already exists, mkdir 'f'`; a plain Error for the
 * simulation's log) and the LOG_* refusals printed no code.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirUnusableError, openDataDir } from '../../src/server/data-dir.js';
import { ROOT, pushq } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'pushq-data-unusable-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** `pushq serve --data data`, a start that must be refused (bounded: it never runs). */
const serve = (data: string) => pushq(['serve', '--port', '0', '--grpc-port', '0', '--data', data], { timeoutMs: 30_000 });

/** A data directory holding a simulation's log (the example scenario's). */
async function simulated(name: string): Promise<string> {
  const data = join(root, name);
  mkdirSync(data);
  const r = await pushq(['simulate', join(ROOT, 'examples', 'default.yaml'), '--log', join(data, 'events.log'), '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  return data;
}

describe('pushq serve --data: a directory it cannot use', () => {
  it('a file at the path, or above it: DATA_DIR_UNUSABLE naming it, the file untouched', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'mine\n');
    for (const data of [file, join(file, 'below')]) {
      const r = await serve(data);
      expect(r.code, data).toBe(1);
      expect(r.stderr).toBe(`pushq serve: cannot open the data directory ${data}: ${data}: not a directory (DATA_DIR_UNUSABLE)\n`);
    }
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
    // The library: a typed error with its code and path.
    const err = await openDataDir(file, 'h').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirUnusableError);
    expect(err).toMatchObject({ code: 'DATA_DIR_UNUSABLE', path: file });
  }, 60_000);

  it("a simulation's log: DATA_DIR_UNUSABLE naming the log; the log unchanged, no lock left", async () => {
    const data = await simulated('simulated');
    const before = readFileSync(join(data, 'events.log'));
    const r = await serve(data);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`pushq serve: cannot open the data directory ${data}: ${join(data, 'events.log')}: this log was written by a simulation (virtual clock), not by pushq serve; use another --data directory (DATA_DIR_UNUSABLE)\n`);
    expect(readFileSync(join(data, 'events.log'))).toEqual(before);
    expect(readdirSync(data)).toEqual(['events.log']);
    const err = await openDataDir(data, 'h').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATA_DIR_UNUSABLE', path: join(data, 'events.log') });
  }, 60_000);

  it('a log corrupt before its tail, or of a newer format: the LOG_* code printed, file (and line) named, nothing changed', async () => {
    const corrupt = await simulated('corrupt');
    const log = join(corrupt, 'events.log');
    // A wall-clock header (as serve writes), then the simulation's events with line 3 broken.
    const lines = readFileSync(log, 'utf8').split('\n');
    lines[0] = lines[0]!.replace('"clock":"virtual"', '"clock":"wall"');
    lines[2] = `x${lines[2]}`;
    writeFileSync(log, lines.join('\n'));
    const damaged = readFileSync(log);
    const r = await serve(corrupt);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^pushq serve: cannot open the data directory ${corrupt}: ${log}:3: corrupt log at byte \\d+: .*, and starts \\(LOG_CORRUPT\\)\\n$`));
    expect(readFileSync(log)).toEqual(damaged);

    const newer = await simulated('newer');
    const newerLog = join(newer, 'events.log');
    writeFileSync(newerLog, readFileSync(newerLog, 'utf8').replace(/^\{"format":"pushq-events","version":\d+/, '{"format":"pushq-events","version":99'));
    const kept = readFileSync(newerLog);
    const n = await serve(newer);
    expect(n.code).toBe(1);
    expect(n.stderr).toMatch(new RegExp(`^pushq serve: cannot open the data directory ${newer}: ${newerLog}: log format version 99 is newer than this pushq \\(\\d+\\) \\(LOG_VERSION_NEWER\\)\\n$`));
    expect(readFileSync(newerLog)).toEqual(kept);
    expect(readdirSync(newer)).toEqual(['events.log']);
    // replay says the same, with the same code.
    const replayed = await pushq(['replay', newerLog]);
    expect(replayed.code).toBe(1);
    expect(replayed.stderr).toMatch(/is newer than this pushq \(\d+\) \(LOG_VERSION_NEWER\)\n$/);
  }, 60_000);
});
