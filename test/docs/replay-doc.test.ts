/**
 * docs/replay.md shows what the CLI prints: each `$ npx pushq ...` block is run as written, in a
 * directory that has the package's examples/ (as a user's checkout or node_modules/pushq has), and
 * must print what the doc pastes under it (aside from the wall seconds, and the log format's and
 * pushq's versions in the header line, which move with releases: docs/events.md is their
 * reference). The log it replays is the one the doc's first command writes, so the doc never
 * leans on a file the package does not ship.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'replay.md'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'pushq-replay-doc-'));
symlinkSync(join(ROOT, 'examples'), join(dir, 'examples'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pushq(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'pushq.js'), ...args], { cwd: dir }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      if (code === null) reject(error);
      else resolve({ code, stdout, stderr });
    });
  });
}

/** Every fenced block that starts with `$ npx pushq `: the command's words and the output pasted under it. */
const examples = [...DOC.matchAll(/```\n\$ npx pushq (.*)\n([\s\S]*?)```/g)].map((m) => ({ args: (m[1] as string).split(' '), output: m[2] as string }));
const wall = (s: string) => s.replace(/in [\d.]+ wall seconds/, 'in W wall seconds').replace(/pushq-events v\d+ \(pushq [^)]+\)/g, 'pushq-events vN (pushq V)');

describe('docs/replay.md', () => {
  it('makes its log with pushq simulate from a shipped example, and names no file under test/', () => {
    expect(examples[0]?.args.slice(0, 2)).toEqual(['simulate', 'examples/retries/flaky-worker.yaml']);
    expect(examples.length).toBeGreaterThanOrEqual(4);
    expect(DOC).not.toMatch(/test\/fixtures/);
  });

  it('prints, for each command, what it pastes (in order: the first writes the log the others read)', async () => {
    for (const { args, output } of examples) {
      const r = await pushq(args);
      expect(r, args.join(' ')).toMatchObject({ code: 0, stderr: '' });
      expect(wall(r.stdout), args.join(' ')).toBe(wall(output));
    }
  });

  it('quotes the refusal of an --at beyond the log as pushq replay prints it (on the log the first command wrote)', async () => {
    const r = await pushq(['replay', 'flaky.jsonl', '--at', '99999']);
    expect(r.code).toBe(2);
    const said = r.stderr.split('\n')[0] as string;
    expect(said).toMatch(/^pushq replay: --at 99999: outside this log's span/);
    expect(DOC).toContain(`\n\`\`\`\n${said}\n\`\`\`\n`);
  });
});
