/**
 * An experiment's argument error holds the library option at fault (src/experiments/errors.ts);
 * the CLI names it by its flag (src/cli/experiment-cli.ts, `flagName`), as it always has: here the
 * errors the library raises, rendered as `pushq tune`, `compare` and `simulate --seeds` print them,
 * including an option named inside another's detail (`--search bisection`) and several values of
 * one option (`--vary a --vary b`). test/cli/experiments.test.ts runs the commands themselves.
 */
import { describe, expect, it } from 'vitest';
import { flagName, reportExperimentError } from '../../src/cli/experiment-cli.js';
import { EXIT_USAGE } from '../../src/cli/io.js';
import { compare } from '../../src/experiments/compare.js';
import { runSeeds } from '../../src/experiments/run-seeds.js';
import { tune } from '../../src/experiments/tune.js';
import { parseScenario } from '../../src/scenario/parse.js';
import type { Scenario } from '../../src/scenario/types.js';

async function scenario(text: string): Promise<Scenario> {
  const { scenario: s, issues } = await parseScenario(text, { file: 'test.yaml' });
  if (s === null) throw new Error(issues.map((i) => i.message).join('\n'));
  return s;
}

const BURST = 'seed: 1\nqueue:\n  - { name: q, rate: 20/s, bucket_size: 40 }\nworkload:\n  - { queue: q, count: 1000 }\nworker:\n  latency: 1ms\n';
const OUTAGE = `${BURST}  outages: [ { from: 2s, to: 4s, status: 503 } ]\n`;

/** The line the CLI prints for what `run` rejects with, and its exit status. */
async function printed(command: string, run: () => Promise<unknown>): Promise<string> {
  const error = await run().then(() => null, (e: unknown) => e);
  expect(error, 'the call was refused').not.toBeNull();
  let stderr = '';
  expect(reportExperimentError(command, error, { stdout: () => {}, stderr: (s) => (stderr += s) })).toBe(EXIT_USAGE);
  return stderr;
}

describe('the library’s argument errors in the CLI’s words', () => {
  it('names each option by its flag, values quoted as the flag takes them', async () => {
    const s = await scenario(BURST);
    expect(await printed('simulate', () => runSeeds(s, { seeds: 0 }))).toBe('pushq simulate: --seeds: must be a whole number from 1 to 10000 (got 0); nothing was run\n');
    expect(await printed('simulate', () => runSeeds(s, { seeds: 2, firstSeed: 4294967295 }))).toMatch(/^pushq simulate: --seed: seeds 4294967295 to 4294967296 go past/);
    expect(await printed('simulate', () => runSeeds(s, { seeds: 2, series: { resolutionSeconds: 0 } }))).toBe('pushq simulate: --resolution: must be above zero (got 0); nothing was run\n');
    expect(await printed('compare', () => compare([s], { seeds: 1 }))).toBe('pushq compare: SCENARIO: compare takes two scenario files or more (got 1); nothing was run\n');
    expect(await printed('tune', () => tune(s, { seeds: 1, vary: ['q.rate=1..10'], goals: ['q.wait <= 1'] }))).toMatch(/^pushq tune: --goal 'q\.wait <= 1': wait is not a figure/);
    expect(await printed('tune', () => tune(s, { seeds: 1, vary: ['q.colour=1..2'], goals: ['q.failed <= 1'] }))).toMatch(/^pushq tune: --vary q\.colour=1\.\.2: colour is not a directive --vary takes \(rate, /);
  });

  it('several values of one option, and an option named inside the detail', async () => {
    const s = await scenario(BURST);
    expect(await printed('tune', () => tune(s, { seeds: 1, vary: ['q.rate=1..100', 'q.bucket_size=1..100'], goals: ['q.failed <= 1'] }))).toBe(
      'pushq tune: --vary q.rate=1..100 --vary q.bucket_size=1..100: a grid of 10,000 settings; a grid search runs at most 400: give a larger STEP or a narrower range; nothing was run\n',
    );
    expect(await printed('tune', () => tune(s, { seeds: 1, vary: ['q.rate=1..10', 'q.bucket_size=1..5'], goals: ['q.failed <= 1'], search: 'bisection' }))).toBe(
      'pushq tune: --search bisection: a bisection varies one key; several take a grid; nothing was run\n',
    );
    const outage = await scenario(OUTAGE);
    expect(await printed('tune', () => tune(outage, { seeds: 1, vary: ['q.rate=1..401'], goals: ['q.drained_at_seconds <= 1h'] }))).toMatch(
      /^pushq tune: --vary q\.rate=1\.\.401: 401 settings; the worker has outages, .* \(or --search bisection, which may not find the least\); nothing was run\n$/,
    );
  });

  it('flagName: the flag alone, or once per value', () => {
    expect(flagName({ option: 'jobs' })).toBe('--jobs');
    expect(flagName({ option: 'assertions', values: ['all.failed == 0'] })).toBe("--assert 'all.failed == 0'");
  });
});
