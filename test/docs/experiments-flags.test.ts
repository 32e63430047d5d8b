/**
 * docs/experiments.md's synopses of `pushq simulate --seeds`, `pushq compare` and `pushq tune` are
 * written by hand; the flags are defined once, in the commands' specs. This keeps the two in step:
 * every flag, with its value, in the spec's order, and no other; and the default seed counts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandSpec, FlagTable } from '../../src/cli/args.js';
import { COMPARE, COMPARE_SEEDS_DEFAULT } from '../../src/cli/compare.js';
import { SIMULATE } from '../../src/cli/simulate.js';
import { TUNE, TUNE_SEEDS_DEFAULT } from '../../src/cli/tune.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'experiments.md'), 'utf8');

/** The synopsis block under `## heading`: its first fenced block. */
function synopsis(heading: string): string {
  const section = doc.split(/^## /m).find((s) => s.startsWith(heading));
  expect(section, heading).toBeDefined();
  return /```\n([\s\S]*?)```/.exec(section!)![1]!;
}

const names = (text: string): string[] => [...new Set([...text.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]!))];

function expectAllFlags(block: string, spec: CommandSpec<FlagTable>): void {
  const flags = Object.entries(spec.flags);
  expect(names(block)).toEqual(flags.map(([name]) => name));
  for (const [name, flag] of flags) if (flag.type === 'string') expect(block, `--${name}`).toContain(`--${name} ${flag.value}`);
}

describe('docs/experiments.md synopses', () => {
  it('pushq compare: every flag with its value, in order, and no other; N defaults as the command does', () => {
    expectAllFlags(synopsis('pushq compare'), COMPARE);
    expect(doc.split(/^## /m).find((s) => s.startsWith('pushq compare'))).toContain(`N default ${COMPARE_SEEDS_DEFAULT};`);
  });

  it('pushq tune: every flag with its value, in order, and no other; N defaults as the command does', () => {
    expectAllFlags(synopsis('pushq tune'), TUNE);
    expect(doc.split(/^## /m).find((s) => s.startsWith('pushq tune'))).toContain(`N default ${TUNE_SEEDS_DEFAULT};`);
  });

  it('pushq simulate --seeds: every flag of simulate but --log (refused with --seeds, as the doc says)', () => {
    const block = synopsis('pushq simulate --seeds');
    expect(names(block).sort()).toEqual(Object.keys(SIMULATE.flags).filter((n) => n !== 'log').sort());
    expect(doc).toContain('`--log` writes one run\'s log: with `--seeds` it is refused');
  });
});
