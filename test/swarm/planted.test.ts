/**
 * The swarm catches the bugs planted on purpose (src/testing/swarm/planted.ts): each plant's text
 * is in its module exactly once (so the plant still applies), and the real command,
 * `node scripts/swarm.mjs --plant NAME` (what `npm run swarm -- --plant NAME` runs after its
 * build; dist/ is built by test/global-setup.ts), reports it caught within a few seeds.
 *
 * The PostgreSQL plants share one throwaway server, started once for the file and handed to the
 * command as PUSHQ_TEST_PG_URL (what `--store pg` uses when it is set): each seed still runs in a
 * fresh database of its own, and the file no longer starts (initdb) a server per plant.
 *
 * The plants run concurrently: each is a child process that spends most of its time waiting on
 * PostgreSQL's fsyncs, not on the CPU, and fence-skipped alone takes a dozen seeds; the timeout is
 * wider for that (a slow catch is still a catch; NOT caught in 20 seeds still fails).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { pgForTheseTests } from '../helpers/pg-cluster.js';
import { PLANTED_FAULTS, type PlantedFaultName } from '../../src/testing/swarm/planted.js';

const ROOT = join(import.meta.dirname, '..', '..');
const fx = pgForTheseTests();

describe.concurrent.each(Object.keys(PLANTED_FAULTS) as PlantedFaultName[])('planted %s', (name) => {
  const plant = PLANTED_FAULTS[name];

  test('its text occurs exactly once in its module', () => {
    const source = readFileSync(join(ROOT, 'src', `${plant.module}.ts`), 'utf8');
    expect(source.split(plant.find)).toHaveLength(2);
  });

  test('the swarm catches it', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'swarm.mjs'), '--plant', name, ...('store' in plant ? ['--store', plant.store] : []), '--seed', '1', '--runs', '20'], {
      cwd: ROOT,
      env: 'store' in plant ? { ...process.env, PUSHQ_TEST_PG_URL: fx.pg.adminUrl } : process.env,
    });
    expect(stdout).toMatch(new RegExp(`planted ${name}: caught by seed \\d+`));
    expect(stdout).toMatch(/reproduce: npm run swarm -- --seed \d+ --plant /);
  }, 150_000);
});
