/**
 * The one whole-file write (src/log/atomic-file.ts), used by snapshots, the file store and
 * `pushq simulate`'s outputs: each write has a temporary file of its own beside the target, so two
 * writers of one path (two processes) never write into one temporary file, and one rename never
 * publishes the other's half-written bytes, as a fixed `PATH.tmp` name would.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { tempPathBeside, writeFileAtomicallySync } from '../../src/log/atomic-file.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('gives each write a hidden temporary file of its own in the target’s directory', () => {
  dir = mkdtempSync(join(tmpdir(), 'pushq-atomic-'));
  const target = join(dir, 'epochs.json');
  const names = new Set(Array.from({ length: 50 }, () => tempPathBeside(target)));
  expect(names.size).toBe(50);
  for (const name of names) {
    expect(dirname(name)).toBe(dir); // rename is atomic only within one file system
    expect(basename(name)).toMatch(/^\.epochs\.json\..+\.tmp$/);
  }
  writeFileAtomicallySync(target, Buffer.from('{"q":2}'));
  expect(readFileSync(target, 'utf8')).toBe('{"q":2}');
  expect(readdirSync(dir)).toEqual(['epochs.json']);
});
