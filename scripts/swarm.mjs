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
//   npm run swarm -- --store pg ...       the swarm on PostgreSQL: 2–3 simulated nodes contending for the
//                                        queues' streams (src/testing/swarm/pg-swarm.ts), each seed in a fresh
//                                        database of a throwaway server (or of PUSHQ_TEST_PG_URL's; or
//                                        --store postgres://user:pass@host/db, a user that may CREATE DATABASE)
// Options: --ops N (operations per run; default drawn from the seed), --keep (keep every run's log,
// or database), --quiet (one line per failure, none per passing seed).
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
    store: { type: 'string' },
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

const onPg = values.store !== undefined;
if (onPg && values.store !== 'pg' && !/^postgres(ql)?:\/\//.test(values.store)) {
  console.error(`swarm: --store wants pg or a postgres:// URL, got ${values.store}`);
  process.exit(2);
}

const { PLANTED_FAULTS } = await import('../dist/testing/swarm/planted.js');
if (values.plant !== undefined) {
  const plant = PLANTED_FAULTS[values.plant];
  if (plant === undefined) {
    console.error(`swarm: no planted fault ${values.plant}; there are ${Object.keys(PLANTED_FAULTS).join(', ')}`);
    process.exit(2);
  }
  if ((plant.store === 'pg') !== onPg) {
    console.error(`swarm: planted fault ${values.plant} is for the ${plant.store === 'pg' ? 'PostgreSQL swarm (add --store pg)' : 'file swarm (drop --store)'}`);
    process.exit(2);
  }
  register('./swarm-plant-hooks.mjs', import.meta.url, { data: plant });
  console.log(`planted: ${values.plant}: ${plant.what}`);
}
const { runSwarm } = await import('../dist/testing/swarm/swarm.js');
const { runPgSwarm } = await import('../dist/testing/swarm/pg-swarm.js');

// The PostgreSQL swarm's server: the URL given, PUSHQ_TEST_PG_URL, or a throwaway one (stopped at exit).
let server = null;
let adminUrl = null;
if (onPg) {
  if (values.store !== 'pg') adminUrl = values.store;
  else if (process.env.PUSHQ_TEST_PG_URL) adminUrl = process.env.PUSHQ_TEST_PG_URL;
  else {
    const { startPgCluster } = await import('../dist/testing/pg-cluster.js');
    server = await startPgCluster();
    adminUrl = server.adminUrl;
  }
}

/** One seed on the chosen swarm: { ok, failure, figures, kept } for the report. */
async function runOne(seed) {
  if (!onPg) {
    const r = await runSwarm(seed, options);
    const s = r.stats;
    const d = s.deliveries;
    const figures = `${s.ops} ops, ${s.crashes} crashes, ${s.tasks} tasks (${s.acknowledged} acknowledged), ${s.events} events, ${s.virtualSeconds} virtual s` + (d ? `; ${d.deliveries} deliveries, ${d.lostRecords} re-sent after a lost record, ${d.afterSuccess} after a 2xx` : '');
    return { ok: r.ok, failure: r.failure, figures, kept: r.failure ? `log kept at ${r.failure.logPath}` : '' };
  }
  const r = await runPgSwarm(seed, { adminUrl, ...(values.ops === undefined ? {} : { ops: whole('ops', values.ops) }), keep: values.keep === true });
  const s = r.stats;
  const d = s.deliveries;
  const figures = `${s.nodes} nodes, ${s.queues} queues, ${s.ops} ops, ${s.crashes} crashes (${s.crashesMidFlush} mid-flush, ${s.crashesMidTransaction} mid-transaction), ${s.leaseExpiries} leases run out, ${s.races} acquires racing an append, ${s.sharedFlushes} group flushes, ${s.handovers} takeovers (${s.refusedAcquires} acquires refused), ${s.fencedAppends} deposed appends refused, ${s.conflictRetries} conflicts retried, ${s.snapshotsWritten} snapshots (crashes around a put: ${s.snapshotCrashesBefore} before, ${s.snapshotCrashesDuring} during, ${s.snapshotCrashesAfter} after; ${s.restoredFromSnapshot} takeovers from one, ${s.eventsNotReplayed} events not replayed), ${s.tasks} tasks (${s.acknowledged} acknowledged), ${s.events} events` + (d ? `; ${d.deliveries} deliveries, ${d.lostRecords} re-sent after a lost record, ${d.afterSuccess} after a 2xx` : '');
  const kept = r.database ? `database kept: ${r.database}${server ? ' (the throwaway server is removed at exit: --store postgres://... keeps it)' : ''}` : '';
  return { ok: r.ok, failure: r.failure, figures, kept };
}

const first = values.seed === undefined ? null : whole('seed', values.seed);
const runs = values.runs === undefined ? (values.minutes === undefined ? 1 : Infinity) : whole('runs', values.runs);
const endAt = values.minutes === undefined ? Infinity : Date.now() + Number(values.minutes) * 60_000;
const options = { ...(values.ops === undefined ? {} : { ops: whole('ops', values.ops) }), keepLog: values.keep === true };

let passed = 0;
let failed = 0;
const started = Date.now();
try {
  for (let i = 0; i < runs && Date.now() < endAt; i++) {
    const seed = first === null ? randomInt(2 ** 31) : first + i;
    const r = await runOne(seed);
    const figures = r.figures;
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
    console.log(`  ${r.kept}`);
    console.log(`  reproduce: npm run swarm -- --seed ${seed}${values.plant ? ` --plant ${values.plant}` : ''}${onPg ? ` --store ${values.store === 'pg' ? 'pg' : 'URL'}` : ''}${values.ops ? ` --ops ${values.ops}` : ''}`);
    if (values.plant !== undefined && !values['keep-going']) break;
  }
} finally {
  // The throwaway server goes whatever happened (a run that threw included).
  if (server !== null) await server.stop();
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
