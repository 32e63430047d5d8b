/**
 * docs/experiments.md shows what pushq prints: each `$ npx pushq ...` block runs as written in
 * examples/experiments/ and must print what the doc pastes under it (wall seconds and the number
 * of worker threads aside: they depend on the machine); the library example runs and prints what
 * the doc shows. The files the doc quotes are the example files themselves.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLES = join(ROOT, 'examples', 'experiments');
const DOC = readFileSync(join(ROOT, 'docs', 'experiments.md'), 'utf8');
const BIN = join(ROOT, 'bin', 'pushq.js');

function sh(command: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', command], { cwd: EXAMPLES, maxBuffer: 64 << 20 }, (_error, stdout, stderr) => resolve({ stdout, stderr }));
  });
}

/** Wall seconds and thread counts vary with the machine; everything else is deterministic. */
const steady = (s: string) => s.replace(/in [\d.]+ wall seconds/g, 'in W wall seconds').replace(/on \d+ worker threads?/g, 'on N worker threads').trimEnd();

const examples = [...DOC.matchAll(/```\n\$ npx (pushq .*)\n([\s\S]*?)```/g)].map((m) => ({ command: m[1] as string, output: m[2] as string }));

describe('docs/experiments.md', () => {
  it('has the walk-through’s commands, and quotes the example files as they are', () => {
    expect(examples.map((e) => e.command.split(' ').slice(0, 2).join(' '))).toEqual(expect.arrayContaining(['pushq simulate', 'pushq tune', 'pushq compare']));
    for (const file of ['newsletter.yaml', 'queue.yaml']) expect(DOC).toContain(readFileSync(join(EXAMPLES, file), 'utf8'));
  });

  for (const { command, output } of examples) {
    it(`prints what it shows: ${command}`, async () => {
      const r = await sh(command.replace(/^pushq /, `node ${BIN} `));
      // A command whose stdout goes to /dev/null shows its stderr, then the exit status it echoes.
      const printed = command.includes('> /dev/null') ? r.stderr + r.stdout : r.stdout + r.stderr;
      expect(steady(printed)).toBe(steady(output));
    }, 600_000);
  }

  it('the library example runs and prints what the doc shows', async () => {
    const [example, printed] = [...DOC.split('\n## Library API\n')[1]!.matchAll(/```\w*\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    const path = join(EXAMPLES, '.library-example.mjs');
    writeFileSync(path, example!.replace(/from 'pushq'/g, `from '${pathToFileURL(join(ROOT, 'dist', 'index.js')).href}'`));
    try {
      const r = await sh(`node ${path}`);
      expect(r.stderr).toBe('');
      expect(steady(r.stdout)).toBe(steady(printed!));
    } finally {
      rmSync(path, { force: true });
    }
  }, 600_000);
});
