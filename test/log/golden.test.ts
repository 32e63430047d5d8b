/**
 * Golden logs (test/fixtures/logs, v<format version>-<scenario>.jsonl) must keep replaying to
 * what they replayed to when they were made: the state digest, the live run's statistics, and
 * `pushq replay`'s output. A change that breaks old logs fails here; the fixtures are never
 * regenerated. A scenario written again in a later format holds the same events (only their
 * bytes differ), so it replays to the same state and prints the same task stories.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { readEventLogFile } from '../../src/log/file-log.js';
import { foldLogFile, stateDigest } from '../../src/log/replay.js';
import { StatsCollector } from '../../src/projections/stats.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'test', 'fixtures', 'logs');
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Record<string, { events: number; digest: string; liveDigest: string; stats: unknown }>;

async function pushq(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'pushq.js'), ...args], { cwd: DIR });
  return stdout;
}

describe.each(Object.keys(expected))('golden log %s', (name) => {
  test('replays to the committed state digest and statistics', () => {
    const want = expected[name]!;
    const stats = new StatsCollector();
    const { fold, scan: r } = foldLogFile(join(DIR, `${name}.jsonl`), [stats]);
    const state = fold.state;
    expect(r.header.version).toBe(Number(/^v(\d+)-/.exec(name)?.[1]));
    expect(r.recovered.droppedBytes).toBe(0);
    expect(r.end.events).toBe(want.events);
    expect(fold.events).toBe(want.events);
    expect(stateDigest(state)).toBe(want.digest);
    expect(want.digest).toBe(want.liveDigest);
    expect(stats.report(state)).toEqual(want.stats);
  });
});

test.each([
  [['replay', 'v1-rich.jsonl', '--json'], 'v1-rich.replay.json'],
  [['replay', 'v1-rich.jsonl', '--task', 'welcome-1'], 'v1-rich.welcome-1.txt'],
  [['replay', 'v1-rich.jsonl', '--task', 'own-retry', '--json'], 'v1-rich.own-retry.json'],
  [['replay', 'v1-retries.jsonl', '--json'], 'v1-retries.replay.json'],
  [['replay', 'v1-retries.jsonl', '--at', '5', '--json'], 'v1-retries.at-5.json'],
])('pushq %j prints what it printed when the golden log was made', async (args, file) => {
  expectSameOutput(await pushq(...args), readFileSync(join(DIR, file), 'utf8'));
});

/** The golden logs of one scenario in each format version, oldest first: [name, version]. */
const versionsOf = (scenario: string): [string, number][] =>
  Object.keys(expected)
    .filter((name) => name.endsWith(`-${scenario}`))
    .map((name): [string, number] => [name, Number(/^v(\d+)-/.exec(name)?.[1])])
    .sort((a, b) => a[1] - b[1]);

describe.each(['rich', 'retries'])('scenario %s in every format version', (scenario) => {
  test('the same events, the same state', async () => {
    const [first, ...later] = versionsOf(scenario).map(([name]) => name);
    expect(later.length).toBeGreaterThanOrEqual(1);
    const want = await readEventLogFile(join(DIR, `${first}.jsonl`));
    for (const name of later) {
      expect((await readEventLogFile(join(DIR, `${name}.jsonl`))).events, name).toStrictEqual(want.events);
      expect(expected[name]!.digest).toBe(expected[first as string]!.digest);
    }
  });
});

test.each([
  [['replay', 'v1-rich.jsonl', '--json'], 'v1-rich.replay.json'],
  [['replay', 'v1-rich.jsonl', '--task', 'welcome-1'], 'v1-rich.welcome-1.txt'],
  [['replay', 'v1-rich.jsonl', '--task', 'own-retry', '--json'], 'v1-rich.own-retry.json'],
  [['replay', 'v1-retries.jsonl', '--json'], 'v1-retries.replay.json'],
  [['replay', 'v1-retries.jsonl', '--at', '5', '--json'], 'v1-retries.at-5.json'],
])('pushq %j on the version 2 log of the same scenario prints the same (its header says version 2)', async (args, file) => {
  const v2 = args.map((a) => a.replace(/^v1-/, 'v2-'));
  const want = readFileSync(join(DIR, file), 'utf8').replace('"format":"pushq-events","version":1,', '"format":"pushq-events","version":2,');
  expectSameOutput(await pushq(...v2), want);
});

/**
 * Text output: the same, byte for byte. JSON output: every field it had when the golden log was
 * made, with the same value (the same state and the same stories); fields added to the output
 * since (e.g. the wait figures, an attempt's `waited_seconds`) may come beside them.
 */
function expectSameOutput(actual: string, golden: string): void {
  if (!golden.trimStart().startsWith('{')) {
    expect(actual).toBe(golden);
    return;
  }
  expect(JSON.parse(actual)).toMatchObject(JSON.parse(golden) as Record<string, unknown>);
}
