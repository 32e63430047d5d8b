#!/usr/bin/env node
// The crash swarm's command line (docs/testing.md, "The crash swarm"). `npm run swarm` builds
// dist/ first, then:
//   npm run swarm -- --seed N            replays seed N exactly (the command a failure prints)
//   npm run swarm -- --seed N --runs K   seeds N, N+1, ... N+K-1
//   npm run swarm -- --runs K            K fresh random seeds (each printed)
//   npm run swarm -- --minutes M         fresh random seeds (or N, N+1, ... with --seed) for M minutes
//   npm run swarm -- --plant NAME ...    the same with a planted bug (src/testing/swarm/planted.ts):
//                                        stops at the first seed that catches it and says how many it took
//                                        (with --keep-going: runs every seed and says how many caught it)
// Options: --ops N (operations per run; default drawn from the seed), --keep (keep every run's log),
// --quiet (one line per failure, none per passing seed).
// Exit status: 0 when every run passed (with --plant: when the bug was caught), 1 otherwise.
import { randomInt } from 'node:crypto';
import { register } from 'node:module';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    runs: { type: 'string' },
    minutes: { type: 'string' },
    ops: { type: 'string' },
    plant: { type: 'string' },
    keep: { type: 'boolean' },
    'keep-going': { type: 'boolean' },
    quiet: { type: 'boolean' },
  },
});

const whole = (name, text) => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`swarm: --${name} wants a whole number, got ${text}`);
    process.exit(2);
  }
  return n;
};

const { PLANTED_FAULTS } = await import('../dist/testing/swarm/planted.js');
if (values.plant !== undefined) {
  const plant = PLANTED_FAULTS[values.plant];
  if (plant === undefined) {
    console.error(`swarm: no planted fault ${values.plant}; there are ${Object.keys(PLANTED_FAULTS).join(', ')}`);
    process.exit(2);
  }
  register('./swarm-plant-hooks.mjs', import.meta.url, { data: plant });
  console.log(`planted: ${values.plant}: ${plant.what}`);
}
const { runSwarm } = await import('../dist/testing/swarm/swarm.js');

const first = values.seed === undefined ? null : whole('seed', values.seed);
const runs = values.runs === undefined ? (values.minutes === undefined ? 1 : Infinity) : whole('runs', values.runs);
const endAt = values.minutes === undefined ? Infinity : Date.now() + Number(values.minutes) * 60_000;
const options = { ...(values.ops === undefined ? {} : { ops: whole('ops', values.ops) }), keepLog: values.keep === true };

let passed = 0;
let failed = 0;
const started = Date.now();
for (let i = 0; i < runs && Date.now() < endAt; i++) {
  const seed = first === null ? randomInt(2 ** 31) : first + i;
  const r = await runSwarm(seed, options);
  const s = r.stats;
  const d = s.deliveries;
  const figures = `${s.ops} ops, ${s.crashes} crashes, ${s.tasks} tasks (${s.acknowledged} acknowledged), ${s.events} events, ${s.virtualSeconds} virtual s` + (d ? `; ${d.deliveries} deliveries, ${d.lostRecords} re-sent after a lost record, ${d.afterSuccess} after a 2xx` : '');
  if (r.ok) {
    passed++;
    if (!values.quiet) console.log(`seed ${seed}: ok (${figures})`);
    continue;
  }
  failed++;
  console.log(`seed ${seed}: FAILED [${r.failure.check}] ${r.failure.message.split('\n')[0]}`);
  if (values.quiet) continue;
  for (const line of r.failure.message.split('\n').slice(1)) console.log(`  ${line}`);
  console.log(`  after ${figures}`);
  console.log('  the last operations:');
  for (const line of r.failure.trace) console.log(`    ${line}`);
  console.log(`  log kept at ${r.failure.logPath}`);
  console.log(`  reproduce: npm run swarm -- --seed ${seed}${values.plant ? ` --plant ${values.plant}` : ''}${values.ops ? ` --ops ${values.ops}` : ''}`);
  if (values.plant !== undefined && !values['keep-going']) break;
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (values.plant !== undefined) {
  if (values['keep-going']) console.log(`planted ${values.plant}: caught by ${failed} of ${passed + failed} seeds, ${seconds} s`);
  else console.log(failed > 0 ? `planted ${values.plant}: caught by seed ${passed + failed} of the run (${passed} passed before it), ${seconds} s` : `planted ${values.plant}: NOT caught in ${passed} seeds (${seconds} s)`);
  process.exitCode = failed > 0 ? 0 : 1;
} else {
  console.log(`${passed} passed, ${failed} failed, ${seconds} s`);
  process.exitCode = failed > 0 ? 1 : 0;
}
