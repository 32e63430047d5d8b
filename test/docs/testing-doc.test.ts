/**
 * docs/testing.md, what a user of the kit and of the crash swarm relies on (its runnable example
 * and the exports it names: test/testing/kit-docs.test.ts): each option's range and the error a
 * value outside it gets; the swarm's commands (their flags are the script's, their plants exist,
 * and the first one runs as written); and the check and plant tables, which name every check a
 * run can fail with and every planted bug, each under its swarm (file or PostgreSQL), and nothing else.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as kit from '../../src/testing/index.js';
import { PLANTED_FAULTS } from '../../src/testing/swarm/planted.js';
import { ROOT } from '../helpers/cli.js';
import { blockAfter, docText, missingPaths, section, tableKeys, unionMembers } from '../helpers/doc-text.js';

const doc = docText('testing.md');
const fileSwarm = section(doc, '## The crash swarm');
const pgSwarm = section(doc, '## The crash swarm on PostgreSQL');

/** Which arbitrary takes each option the doc gives a range for (the others take it through them). */
const TAKES: Record<string, (value: number) => unknown> = {
  maxQueues: (v) => kit.simQueueFileConfigArbitrary({ maxQueues: v }),
  maxTasks: (v) => kit.workloadArbitrary({ queues: ['q'], maxTasks: v }),
  maxGroups: (v) => kit.workloadArbitrary({ queues: ['q'], maxGroups: v }),
  startSecondsMax: (v) => kit.workloadArbitrary({ queues: ['q'], startSecondsMax: v }),
  maxCommands: (v) => kit.queueCommandsArbitrary({ queues: ['q'], tasks: [], maxCommands: v }),
  atSecondsMax: (v) => kit.queueCommandsArbitrary({ queues: ['q'], tasks: [], atSecondsMax: v }),
  errorRateMax: (v) => kit.workerModelArbitrary({ errorRateMax: v }),
  timeoutRateMax: (v) => kit.workerModelArbitrary({ timeoutRateMax: v }),
};

describe('docs/testing.md, the options of the arbitraries', () => {
  /** "`maxQueues` 0 to 100 (...), ..., `startSecondsMax` and `atSecondsMax` 0 to a year (31,536,000 s)": option → [low, high]. */
  const ranges = new Map<string, [number, number]>();
  const sentence = doc.slice(doc.indexOf('Each option has one range'), doc.indexOf('A value outside throws'));
  for (const m of sentence.matchAll(/((?:`\w+`(?:\s+and\s+)?)+)\s+(\d[\d,]*) to\s+(?:a year \()?(\d[\d,]*)/g)) {
    for (const name of m[1]!.matchAll(/`(\w+)`/g)) ranges.set(name[1]!, [Number(m[2]!.replaceAll(',', '')), Number(m[3]!.replaceAll(',', ''))]);
  }

  it('each range the doc gives is the one the arbitrary takes: both ends accepted, one step beyond refused', () => {
    expect([...ranges.keys()].sort()).toEqual(Object.keys(TAKES).sort());
    for (const [name, [low, high]] of ranges) {
      const make = TAKES[name]!;
      expect(() => make(low), `${name} ${low}`).not.toThrow();
      expect(() => make(high), `${name} ${high}`).not.toThrow();
      const step = high <= 1 ? 0.01 : 1;
      for (const outside of [low - step, high + step]) expect(() => make(outside), `${name} ${outside}`).toThrow(RangeError);
    }
  });

  it('the refusal the doc quotes is the one given', () => {
    const quoted = /`(\w+): (\w+) must be [^`]+; got ([^`]+)`/.exec(doc);
    expect(quoted, 'a quoted RangeError').not.toBeNull();
    const [message, arbitrary, option, got] = quoted!;
    expect(arbitrary).toBe('workerModelArbitrary');
    expect(() => kit.workerModelArbitrary({ [option!]: Number(got) })).toThrow(new RangeError(message!.slice(1, -1)));
  });
});

describe('docs/testing.md, the crash swarms', () => {
  const checks = unionMembers('src/testing/swarm/checks.ts', 'SwarmCheck');
  const planted = (store: 'file' | 'pg') => Object.entries(PLANTED_FAULTS).filter(([, p]) => ('store' in p ? p.store : 'file') === store).map(([name]) => name);

  it('the check tables name every check a run can fail with (SwarmCheck), and nothing else', () => {
    const named = [...tableKeys(fileSwarm), ...tableKeys(pgSwarm)].filter((k) => !(k in PLANTED_FAULTS));
    expect(named.filter((k) => !checks.includes(k))).toEqual([]);
    expect([...new Set(named)].sort()).toEqual([...checks].sort());
  });

  it('the plant tables name each planted bug under its own swarm', () => {
    expect(tableKeys(fileSwarm).filter((k) => k in PLANTED_FAULTS)).toEqual(planted('file'));
    expect(tableKeys(pgSwarm).filter((k) => k in PLANTED_FAULTS).sort()).toEqual(planted('pg').sort());
  });

  it("every flag of the doc's swarm commands is the script's, and every plant they name exists", () => {
    const script = readFileSync(join(ROOT, 'scripts', 'swarm.mjs'), 'utf8');
    const options = /parseArgs\(\{\s*options: \{([\s\S]*?)\n {2}\},/.exec(script)?.[1];
    expect(options, 'parseArgs options in scripts/swarm.mjs').toBeDefined();
    const known = new Set([...options!.matchAll(/^\s+'?([\w-]+)'?: \{/gm)].map((m) => m[1]!));
    const commands = [blockAfter(fileSwarm, 'By hand', ''), blockAfter(pgSwarm, 'By hand', '')].join('\n');
    const prose = [...(fileSwarm + pgSwarm).matchAll(/`(--[\w-]+)/g)].map((m) => m[1]!);
    const flags = new Set([...[...commands.matchAll(/ (--[\w-]+)/g)].map((m) => m[1]!).filter((f) => f !== '--'), ...prose]);
    expect([...flags].filter((f) => !known.has(f.slice(2)))).toEqual([]);
    for (const m of commands.matchAll(/--plant ([\w-]+)/g)) expect(PLANTED_FAULTS, m[1]).toHaveProperty(m[1]!);
  });

  it('the first command runs as written: `npm run swarm` is a build and the script, and seed 118 passes', async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(manifest.scripts['swarm']).toBe('npm run build && node scripts/swarm.mjs');
    const first = blockAfter(fileSwarm, 'By hand', '').split('\n')[0]!.replace(/#.*/, '').trim();
    expect(first).toBe('npm run swarm -- --seed 118');
    // The build is the test run's (test/global-setup.ts); the rest of the line is the script's.
    const args = first.slice('npm run swarm -- '.length).split(' ');
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'swarm.mjs'), ...args], { cwd: ROOT, timeout: 60_000 });
    expect(stdout).toMatch(/^seed 118: ok \(/m);
    expect(stdout).toMatch(/^1 passed, 0 failed/m);
  }, 70_000);
});

describe('docs/testing.md, the files it names', () => {
  it('every file of this repository it names is there', () => {
    expect(missingPaths(doc)).toEqual([]);
  });
});
