/**
 * `pushq simulate` outputs beyond the table: --series FILE.csv, --report FILE.html, --resolution,
 * the progress line; and the refusals that run nothing (a bad resolution, too many points, an
 * output path that cannot be written).
 */
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERIES_CSV_HEADER } from '../../src/projections/series-types.js';
import { simulateCommand } from '../../src/cli/simulate.js';
import { compareCommand } from '../../src/cli/compare.js';
import { ProgressLine } from '../../src/cli/progress.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { LOG_FILE_MODE } from '../../src/log/file-log.js';
import { pushq } from '../helpers/cli.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

const dir = mkdtempSync(join(tmpdir(), 'pushq-simulate-outputs-'));
const BURST = join(dir, 'burst.yaml');
// App Engine's burst example: 1,000 tasks at once at 20/s, bucket 40, 1 ms handlers.
writeFileSync(BURST, 'seed: 7\nqueue:\n  - name: q\n    rate: 20/s\n    bucket_size: 40\nworkload:\n  - { queue: q, count: 1000 }\nworker:\n  latency: { distribution: constant, value: 1ms }\n');
const UNTIL = join(dir, 'until.yaml');
writeFileSync(UNTIL, 'queue:\n  - name: q\n    rate: 5/s\nworkload:\n  - { queue: q, count: 10 }\nuntil: 1d\n');

describe('pushq simulate --series', () => {
  it('writes one row per interval per queue and `*`, whose counts sum to the totals', async () => {
    const csv = join(dir, 'burst.csv');
    const r = await pushq(['simulate', BURST, '--series', csv, '--resolution', '1s', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    const [header, ...rows] = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(header).toBe(SERIES_CSV_HEADER);
    const cells = rows.map((l) => l.split(','));
    const q = cells.filter((c) => c[1] === 'q');
    const all = cells.filter((c) => c[1] === '*');
    expect(q.length).toBe(all.length);
    expect(cells.filter((c) => c[1] === 'default').length).toBe(q.length);
    const column = (name: string) => SERIES_CSV_HEADER.split(',').indexOf(name);
    const sum = (rs: string[][], name: string) => rs.reduce((n, c) => n + Number(c[column(name)]), 0);
    expect(sum(q, 'dispatched')).toBe(report.queues.q.attempts);
    expect(sum(q, 'added')).toBe(1000);
    expect(sum(all, 'succeeded')).toBe(1000);
    expect(Number(q[0]![column('t_seconds')])).toBe(1);
    expect([59, 60]).toContain(Number(q[0]![column('dispatched')]));
    expect(report.queues.q.drained_at_seconds).toBeCloseTo(48, 0);
  });

  it('--report writes one HTML file next to the series', async () => {
    const html = join(dir, 'burst.html');
    const r = await pushq(['simulate', BURST, '--report', html]);
    expect(r.code).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page.startsWith('<!doctype html>') || page.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(page).toContain('burst.yaml');
    expect(page).not.toMatch(/<script[^>]+src=["']https?:/);
  });
});

describe('pushq simulate refuses before running', () => {
  it('a --resolution that is not a duration, or not above zero: exit 2, one line naming it', async () => {
    for (const bad of ['fast', '0', '-1s']) {
      const r = await pushq(['simulate', BURST, `--resolution=${bad}`]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr.split('\n')[0], bad).toMatch(/^pushq simulate: --resolution/);
    }
  });

  it('a --resolution that gives more than 100,000 points over a run with until: exit 2, nothing run', async () => {
    const log = join(dir, 'until.log');
    const r = await pushq(['simulate', UNTIL, '--resolution', '100ms', '--series', join(dir, 'until.csv'), '--log', log]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/864,001 points .* at most 100,000/);
    expect(existsSync(log)).toBe(false);
    expect(existsSync(join(dir, 'until.csv'))).toBe(false);
  });

  it('a run to until covers the instant until too: 100,001 intervals of 1 ms over until 100s are refused; 99.999s passes with 100,000 rows', async () => {
    const atEnd = join(dir, 'at-end.yaml');
    writeFileSync(atEnd, 'workload:\n  - { count: 1, at: 100s }\nuntil: 100s\n');
    const csv = join(dir, 'at-end.csv');
    const r = await pushq(['simulate', atEnd, '--resolution', '1ms', '--series', csv]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/100,001 points .* at most 100,000/);
    expect(existsSync(csv)).toBe(false);
    writeFileSync(atEnd, 'workload:\n  - { count: 1, at: 99.999s }\nuntil: 99.999s\n');
    const ok = await pushq(['simulate', atEnd, '--resolution', '1ms', '--series', csv]);
    expect(ok.code).toBe(0);
    expect(readFileSync(csv, 'utf8').trimEnd().split('\n').filter((l) => l.split(',')[1] === '*').length).toBe(100_000);
  });

  it('the library: the open interval counts toward the 100,000 points (a run ending on the last boundary with events there)', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 5)), worker: { latency: { distribution: 'constant', valueUs: 0 } }, seriesResolutionSeconds: 0.001 });
    sim.addTasks([{ queue: 'q', countdownSeconds: 100 }]);
    sim.runUntilIdle();
    expect(sim.now).toBe(100);
    expect(() => sim.series()).toThrow(expect.objectContaining({ code: 'SERIES_TOO_LONG' }));
  });

  it('a --resolution without --series or --report (it would shape a series nobody writes): exit 2, nothing run', async () => {
    for (const extra of [[], ['--seeds', '2']]) {
      const r = await pushq(['simulate', BURST, '--resolution', '1s', ...extra]);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('pushq simulate: --resolution sets the interval of the series that --series and --report write: it goes with one of them; nothing was run\n');
    }
  });

  it('too fine a --resolution for a run without until stops it as it passes 100,000 points, with --seeds too: exit 2, nothing written', async () => {
    // 1,000 tasks at 20/s run ~48 s: ~192,000 points at 0.25 ms.
    for (const extra of [[], ['--seeds', '2']]) {
      const csv = join(dir, `fine${extra.length}.csv`);
      const r = await pushq(['simulate', BURST, '--resolution', '0.25ms', '--series', csv, ...extra]);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^pushq simulate: (seed \d+: )?--resolution 0\.00025s gives more than 100,000 points over this run: choose a coarser resolution; nothing was written\n$/);
      expect(existsSync(csv)).toBe(false);
    }
    // With --log too: the log it had begun is not kept (none left at the path, nor beside it)...
    const csv = join(dir, 'fine-log.csv');
    const log = join(dir, 'fine.jsonl');
    const before = readdirSync(dir).sort();
    const r = await pushq(['simulate', BURST, '--resolution', '0.25ms', '--series', csv, '--log', log]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/; nothing was written\n$/);
    expect([existsSync(csv), existsSync(log)]).toEqual([false, false]);
    expect(readdirSync(dir).sort()).toEqual(before);
    // ...and a log already at the path is left as it was, as an output not written always is.
    writeFileSync(log, 'an earlier log\n');
    const again = await pushq(['simulate', BURST, '--resolution', '0.25ms', '--series', csv, '--log', log]);
    expect(again.code).toBe(2);
    expect(readFileSync(log, 'utf8')).toBe('an earlier log\n');
  });

  it('an unwritable --series, --report or --log path: exit 2, the reason named, nothing run and nothing left behind', async () => {
    const before = readdirSync(dir).sort();
    const log = join(dir, 'never.log');
    for (const [flag, path] of [['--series', join(dir, 'no-such-dir', 'x.csv')], ['--report', dir], ['--log', join(dir, 'no-such-dir', 'x.jsonl')]] as const) {
      const r = await pushq(['simulate', BURST, flag, path, ...(flag === '--log' ? [] : ['--log', log])]);
      expect(r.code, flag).toBe(2);
      expect(r.stderr, flag).toContain(`${flag} ${path}: cannot be written: ${path === dir ? 'it is a directory' : 'no such directory (ENOENT)'}; nothing was run`);
      expect(r.stdout, flag).toBe('');
    }
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('a path through a regular file (ENOTDIR), in simulate and replay: the same refusal, not an internal error', async () => {
    // The check that outputs and inputs are different files stats them (output-paths.ts sameFile):
    // a stat that failed other than ENOENT threw, exit 70 with a stack trace.
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'not a directory\n');
    const log = join(file, 'x.jsonl');
    const simulated = await pushq(['simulate', BURST, '--log', log]);
    expect(simulated.stderr).toContain(`--log ${log}: cannot be written: `);
    expect(simulated.code).toBe(2);
    const recorded = join(dir, 'recorded.jsonl');
    expect((await pushq(['simulate', UNTIL, '--log', recorded])).code).toBe(0);
    const replayed = await pushq(['replay', recorded, '--write-snapshot', join(file, 'snap')]);
    expect(replayed.stderr).toContain(`--write-snapshot ${join(file, 'snap')}: cannot be written: `);
    expect(replayed.code).toBe(1);
  });
});

describe('--log replaces its path as --series and --report do (written beside it, then renamed over it)', () => {
  it('a symlink at the path is replaced, not followed: the file it points to is untouched', async () => {
    const sub = mkdtempSync(join(dir, 'link-'));
    const victim = join(sub, 'victim.txt');
    writeFileSync(victim, 'not a log\n');
    for (const flag of ['--log', '--series', '--report']) {
      const link = join(sub, `out${flag}`);
      symlinkSync(victim, link);
      const r = await pushq(['simulate', BURST, flag, link]);
      expect(r.code, flag).toBe(0);
      expect(readFileSync(victim, 'utf8'), flag).toBe('not a log\n');
      expect(lstatSync(link).isSymbolicLink(), flag).toBe(false);
    }
    expect(readFileSync(join(sub, 'out--log'), 'utf8')).toMatch(/^\{"format":"pushq-events"/);
    expect(readdirSync(sub).sort()).toEqual(['out--log', 'out--report', 'out--series', 'victim.txt']);
  });

  it('an overwritten log is a new file: the mode of a new log (0600), its other hard links keep their content', async () => {
    const sub = mkdtempSync(join(dir, 'mode-'));
    const fresh = join(sub, 'fresh.jsonl');
    const old = join(sub, 'old.jsonl');
    writeFileSync(old, 'an earlier log\n', { mode: 0o644 });
    chmodSync(old, 0o644); // whatever the umask
    linkSync(old, join(sub, 'other-name'));
    for (const path of [fresh, old]) expect((await pushq(['simulate', BURST, '--log', path])).code).toBe(0);
    expect([statSync(fresh).mode & 0o777, statSync(old).mode & 0o777]).toEqual([LOG_FILE_MODE, LOG_FILE_MODE]);
    expect(readFileSync(old, 'utf8')).toBe(readFileSync(fresh, 'utf8'));
    expect(readFileSync(join(sub, 'other-name'), 'utf8')).toBe('an earlier log\n');
  });
});

describe('outputs that name the same file', () => {
  const run = async (command: typeof simulateCommand, args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await command(args, { stdout: (s) => out.push(s), stderr: (s) => err.push(s) });
    return { code, out: out.join(''), err: err.join('') };
  };

  it('--series and --report (or --log) on one file, written two ways: one line naming both flags, exit 2, nothing run or written', async () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    const before = readdirSync(dir).sort();
    const same = join(dir, 'same.out');
    const again = `${dir}/sub/../same.out`; // the same file once resolved (join would resolve it already)
    for (const [first, second] of [['--series', '--report'], ['--log', '--series'], ['--log', '--report']] as const) {
      const r = await run(simulateCommand, [BURST, first, same, second, again]);
      expect(r.err, `${first} ${second}`).toBe(`pushq simulate: ${first} ${same} and ${second} ${again} name the same file (${same}): one would overwrite the other; give each its own path; nothing was run\n`);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
    }
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('an output on the scenario file itself, in simulate and compare: refused, the scenario untouched', async () => {
    const scenario = readFileSync(BURST, 'utf8');
    const simulated = await run(simulateCommand, [BURST, '--report', BURST]);
    expect(simulated.err).toBe(`pushq simulate: --report ${BURST} is the scenario file (${BURST}): writing it would overwrite it; give --report another path; nothing was run\n`);
    expect(simulated.code).toBe(2);
    const compared = await run(compareCommand, [BURST, UNTIL, '--seeds', '1', '--jobs', '1', '--report', UNTIL]);
    expect(compared.err).toBe(`pushq compare: --report ${UNTIL} is the scenario file (${UNTIL}): writing it would overwrite it; give --report another path; nothing was run\n`);
    expect(compared.code).toBe(2);
    expect(compared.out).toBe('');
    expect(readFileSync(BURST, 'utf8')).toBe(scenario);
  });

  it("an output on the queue file the scenario's queue_yaml names, in simulate and compare: refused, the queue file untouched", async () => {
    // The app's real queue.yaml beside the scenario: `--log queue.yaml` used to replace it with an event log.
    const queueYaml = join(dir, 'queue.yaml');
    const text = 'queue:\n- name: q\n  rate: 5/s\n';
    writeFileSync(queueYaml, text);
    const withFile = join(dir, 'with-queue-file.yaml');
    writeFileSync(withFile, 'queue_yaml: queue.yaml\nworkload:\n  - { queue: q, count: 3 }\n');
    const reads = `queue file ${withFile} reads (queue_yaml)`;
    for (const flag of ['--log', '--series', '--report']) {
      const simulated = await run(simulateCommand, [withFile, flag, `${dir}/sub/../queue.yaml`]);
      expect(simulated.err, flag).toBe(`pushq simulate: ${flag} ${dir}/sub/../queue.yaml is the ${reads} (${queueYaml}): writing it would overwrite it; give ${flag} another path; nothing was run\n`);
      expect(simulated.code, flag).toBe(2);
      expect(simulated.out, flag).toBe('');
    }
    const compared = await run(compareCommand, [BURST, withFile, '--seeds', '1', '--jobs', '1', '--report', queueYaml]);
    expect(compared.err).toBe(`pushq compare: --report ${queueYaml} is the ${reads} (${queueYaml}): writing it would overwrite it; give --report another path; nothing was run\n`);
    expect(compared.code).toBe(2);
    expect(readFileSync(queueYaml, 'utf8')).toBe(text);
    const elsewhere = await run(simulateCommand, [withFile, '--log', join(dir, 'with-queue-file.jsonl')]);
    expect(elsewhere.code).toBe(0);
  });
});

describe('the progress line', () => {
  it('is drawn on a terminal, at most 10 times a second, and cleared at the end; not with --quiet, never into stdout', async () => {
    const big = join(dir, 'big.yaml');
    writeFileSync(big, 'queue:\n  - name: q\n    rate: 500/s\n    bucket_size: 500\nworkload:\n  - { queue: q, count: 60000 }\nworker:\n  latency: { distribution: constant, value: 10ms }\n');
    const run = async (extra: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await simulateCommand([big, '--json', '--seed', '1', ...extra], { stdout: (s) => out.push(s), stderr: (s) => err.push(s), stderrIsTerminal: true });
      return { code, out: out.join(''), err: err.join('') };
    };
    const shown = await run([]);
    expect(shown.code).toBe(0);
    expect(shown.err).toMatch(/\rvirtual [\d.hms]+ · [\d.kM]+ events\/s · [\d,]+ tasks settled/);
    expect(shown.err.endsWith('\r\x1b[K')).toBe(true);
    expect(() => JSON.parse(shown.out)).not.toThrow();
    const quiet = await run(['--quiet']);
    expect(quiet.err).toBe('');
  });

  it('is not drawn when stderr is not a terminal (a child with pipes)', async () => {
    const r = await pushq(['simulate', BURST]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('throttles itself to one draw per 100 ms and estimates the time left when the end is known', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 10)) });
    sim.addWorkload({ queue: 'q', count: 20 });
    sim.runUntil(1);
    let nowMs = 0;
    const drawn: string[] = [];
    const line = new ProgressLine({ write: (s) => drawn.push(s) }, 4_000_000, () => nowMs);
    nowMs = 150;
    line.tick(sim);
    nowMs = 200;
    line.tick(sim); // 50 ms later: skipped
    nowMs = 260;
    line.tick(sim);
    expect(drawn).toHaveLength(2);
    // 1 s of 4 s virtual in 0.15 s of wall time: about 0.45 s left, shown rounded up.
    expect(drawn[0]).toContain('~1s left');
    line.clear();
    expect(drawn.at(-1)).toBe('\r\x1b[K');
  });
});
