/**
 * `pushq simulate --dev-server` and the scenario's `dev_server` (S39): the real CLI on the built
 * dist/. The same scenario with and without the flag answers "how did my app behave under
 * dev_appserver, and how will production differ".
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';
import { DEV_SERVER_CONTRAST_SCENARIO } from '../helpers/dev-server-scenario.js';

const dir = mkdtempSync(join(tmpdir(), 'pushq-sim-dev-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const BODY = DEV_SERVER_CONTRAST_SCENARIO;
const SCENARIO = file('app.yaml', BODY);

describe('pushq simulate --dev-server', () => {
  it('production and dev_appserver side by side: the same scenario, with and without the flag', async () => {
    const prod = await pushq(['simulate', SCENARIO, '--json', '--quiet']);
    const dev = await pushq(['simulate', SCENARIO, '--json', '--quiet', '--dev-server']);
    expect([prod.code, dev.code]).toEqual([0, 0]);
    const p = JSON.parse(prod.stdout);
    const d = JSON.parse(dev.stdout);
    // Production: 2/s after a burst of 2, and the rate-0 queue holds its tasks (said on stderr).
    expect(p.queues.mail.last_dispatch_at_seconds).toBe(9);
    expect(p.queues.held.pending).toBe(3);
    expect(prod.stderr).toContain('3 tasks left pending that can never be dispatched (queue held: rate: 0 pauses it)');
    // dev_appserver: back to back, one per 50 ms handler, the rate-0 queue included.
    expect(d.queues.mail.last_dispatch_at_seconds).toBeCloseTo(0.95, 6);
    expect(d.queues.held.succeeded).toBe(3);
    expect(d.queues.mail.in_flight_max).toBe(1);
    expect(dev.stderr).not.toContain('never be dispatched');
  });

  it('--json marks a dev-server run with "dev_server": true after adds_refused, and a production run has no such key (its bytes as before)', async () => {
    const dev = await pushq(['simulate', SCENARIO, '--json', '--quiet', '--dev-server']);
    const prod = await pushq(['simulate', SCENARIO, '--json', '--quiet']);
    const d = JSON.parse(dev.stdout);
    expect(d.dev_server).toBe(true);
    expect(Object.keys(d)).toEqual(['seed', 'virtual_seconds', 'wall_seconds', 'events', 'queues', 'adds_refused', 'dev_server']);
    expect(Object.keys(JSON.parse(prod.stdout))).toEqual(['seed', 'virtual_seconds', 'wall_seconds', 'events', 'queues', 'adds_refused']);
    // --seeds' runs are each run's report exactly as a single run prints it: marked too.
    const seeds = await pushq(['simulate', SCENARIO, '--json', '--quiet', '--dev-server', '--seeds', '2', '--jobs', '1']);
    expect(JSON.parse(seeds.stdout).runs.map((r: { dev_server?: boolean }) => r.dev_server)).toEqual([true, true]);
    // With --assert the assertions still come last.
    const asserted = await pushq(['simulate', SCENARIO, '--json', '--quiet', '--dev-server', '--assert', 'all.failed == 0']);
    expect(Object.keys(JSON.parse(asserted.stdout)).slice(-2)).toEqual(['dev_server', 'assertions']);
  });

  it('the summary says the run followed dev_appserver\'s rules', async () => {
    const dev = await pushq(['simulate', SCENARIO, '--quiet', '--dev-server']);
    expect(dev.stdout.split('\n')[2]).toMatch(/^dev-server mode \(dev_appserver's rules\): one task at a time for the whole app/);
    const prod = await pushq(['simulate', SCENARIO, '--quiet']);
    expect(prod.stdout).not.toContain('dev-server mode');
  });

  it('--seeds and --report say the run followed dev_appserver\'s rules too: the scenario text they show does not (the flag is not in it)', async () => {
    const RULES = "dev-server mode (dev_appserver's rules): one task at a time for the whole app";
    const seeds = await pushq(['simulate', SCENARIO, '--quiet', '--dev-server', '--seeds', '2', '--jobs', '1']);
    expect(seeds.code).toBe(0);
    expect(seeds.stdout.split('\n')[2]).toContain(RULES);
    const one = join(dir, 'one.html');
    const many = join(dir, 'many.html');
    expect((await pushq(['simulate', SCENARIO, '--quiet', '--dev-server', '--report', one])).code).toBe(0);
    expect((await pushq(['simulate', SCENARIO, '--quiet', '--dev-server', '--seeds', '2', '--jobs', '1', '--report', many])).code).toBe(0);
    for (const page of [one, many]) expect(readFileSync(page, 'utf8')).toContain(RULES.replace("'", '&#39;'));
    // Production's runs say nothing of it.
    const prodSeeds = await pushq(['simulate', SCENARIO, '--quiet', '--seeds', '2', '--jobs', '1', '--report', many]);
    expect(prodSeeds.stdout).not.toContain('dev-server mode');
    expect(readFileSync(many, 'utf8')).not.toContain('dev-server mode');
  });

  it('dev_server: true in the scenario is the flag: the same log bytes', async () => {
    const inFile = file('dev.yaml', `dev_server: true\n${BODY}`);
    const a = join(dir, 'flag.jsonl');
    const b = join(dir, 'field.jsonl');
    expect((await pushq(['simulate', SCENARIO, '--quiet', '--dev-server', '--log', a])).code).toBe(0);
    expect((await pushq(['simulate', inFile, '--quiet', '--log', b])).code).toBe(0);
    expect(readFileSync(a, 'utf8')).toContain('"devServer":true');
    expect(readFileSync(b, 'utf8')).toBe(readFileSync(a, 'utf8'));
    // And `dev_server: false` is the default: no trace in the log.
    const off = join(dir, 'off.jsonl');
    expect((await pushq(['simulate', file('off.yaml', `dev_server: false\n${BODY}`), '--quiet', '--log', off])).code).toBe(0);
    expect(readFileSync(off, 'utf8')).not.toContain('devServer');
  });

  it('dev_server must be true or false: anything else is dev-server-invalid at its line, and nothing runs', async () => {
    const bad = file('bad.yaml', `seed: 1\ndev_server: yes\nworkload: [ { count: 1 } ]\n`);
    const run = await pushq(['simulate', bad, '--quiet']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${bad}:2:13 error dev_server \`yes\` is not valid: it is true (dev_appserver's dispatch rules, docs/simulate.md) or false (dev-server-invalid)`);
  });
});
