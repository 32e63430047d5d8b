/**
 * An output path that passes the check before the run but cannot be written after it (made
 * immutable, its directory removed, the disk full meanwhile) gets the one-line error of an
 * unwritable path, exit 2, not an internal error with a stack trace (exit 70); and the message
 * names the flag whose file failed (--series), not "the report".
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

// checkReportPath stays real (the path is fine before the run); every later write fails as EPERM does.
vi.mock('../../src/simulate/report/write.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/simulate/report/write.js')>();
  return {
    ...real,
    writeFileAtomically: async (path: string) => {
      throw new real.ReportPathError(path, 'permission denied (EPERM)');
    },
    writeReportFile: async (path: string) => {
      throw new real.ReportPathError(path, 'permission denied (EPERM)');
    },
  };
});

const { simulateCommand } = await import('../../src/cli/simulate.js');

const dir = mkdtempSync(join(tmpdir(), 'pushq-simulate-write-failure-'));
const SCENARIO = join(dir, 'small.yaml');
writeFileSync(SCENARIO, 'seed: 3\nqueue:\n  - name: q\n    rate: 20/s\nworkload:\n  - { queue: q, count: 20 }\nworker:\n  latency: 1ms\n');

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await simulateCommand([SCENARIO, ...args], { stdout: (s) => out.push(s), stderr: (s) => err.push(s) });
  return { code, out: out.join(''), err: err.join('') };
}

describe('pushq simulate: an output that fails after the run', () => {
  for (const [flag, file] of [['--series', 'out.csv'], ['--report', 'out.html']] as const) {
    for (const seeds of [[], ['--seeds', '2', '--jobs', '1']]) {
      it(`${flag}${seeds.length === 0 ? '' : ' with --seeds'}: one line naming ${flag}, exit 2`, async () => {
        const path = join(dir, file);
        const r = await run([flag, path, ...seeds]);
        expect(r.err).toBe(`pushq simulate: ${flag} ${path}: cannot be written: permission denied (EPERM)\n`);
        expect(r.code).toBe(2);
        expect(r.out).toBe('');
      });
    }
  }
});
