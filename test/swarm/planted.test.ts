/**
 * The swarm catches the bugs planted on purpose (src/testing/swarm/planted.ts): each plant's text
 * is in its module exactly once (so the plant still applies), and the real command,
 * `node scripts/swarm.mjs --plant NAME` (what `npm run swarm -- --plant NAME` runs after its
 * build; dist/ is built by test/global-setup.ts), reports it caught within a few seeds.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { PLANTED_FAULTS, type PlantedFaultName } from '../../src/testing/swarm/planted.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe.each(Object.keys(PLANTED_FAULTS) as PlantedFaultName[])('planted %s', (name) => {
  const plant = PLANTED_FAULTS[name];

  test('its text occurs exactly once in its module', () => {
    const source = readFileSync(join(ROOT, 'src', `${plant.module}.ts`), 'utf8');
    expect(source.split(plant.find)).toHaveLength(2);
  });

  test('the swarm catches it', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'swarm.mjs'), '--plant', name, ...('store' in plant ? ['--store', plant.store] : []), '--seed', '1', '--runs', '20'], { cwd: ROOT });
    expect(stdout).toMatch(new RegExp(`planted ${name}: caught by seed \\d+`));
    expect(stdout).toMatch(/reproduce: npm run swarm -- --seed \d+ --plant /);
  }, 60_000);
});
