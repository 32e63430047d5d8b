/**
 * The crash swarm on PostgreSQL in CI (docs/testing.md, "The crash swarm on PostgreSQL"): 2–3
 * simulated nodes over the real PgStore on a throwaway server (or PUSHQ_TEST_PG_URL's), each seed
 * in a fresh database. A bounded budget of fresh random seeds (PUSHQ_PG_SWARM_SECONDS, default
 * 25), each printed; a failure prints the check, the last operations and the command that replays
 * it: `npm run swarm -- --store pg --seed N`.
 */
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runPgSwarm, type PgSwarmResult } from '../../src/testing/swarm/pg-swarm.js';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';

const BUDGET_MS = Number(process.env.PUSHQ_PG_SWARM_SECONDS ?? 25) * 1000;

let server: PgCluster;
beforeAll(async () => {
  server = await startPgCluster();
});
afterAll(async () => {
  await server?.stop();
});

function report(r: PgSwarmResult): string {
  const s = r.stats;
  if (r.ok) return `pg swarm seed ${r.seed}: ok (${s.nodes} nodes, ${s.queues} queues, ${s.ops} ops, ${s.crashes} crashes (${s.crashesMidFlush} mid-flush, ${s.crashesMidTransaction} mid-transaction), ${s.leaseExpiries} leases run out, ${s.races} acquires racing an append, ${s.sharedFlushes} group flushes, ${s.handovers} takeovers, ${s.refusedAcquires} acquires refused, ${s.fencedAppends} deposed appends refused, ${s.tasks} tasks)\n`;
  const f = r.failure!;
  return `pg swarm seed ${r.seed}: FAILED [${f.check}] ${f.message}\n  the last operations:\n${f.trace.map((l) => `    ${l}\n`).join('')}  reproduce: npm run swarm -- --store pg --seed ${r.seed}\n`;
}

test('the same seed gives the same run, crashes mid-transaction and races included: the same figures and the same streams', async () => {
  // Seed 63: crashes with a flush on its way and in the middle of a transaction, acquires racing
  // appends, group flushes of a node's queues, deposed appends refused.
  const a = await runPgSwarm(63, { adminUrl: server.adminUrl });
  const b = await runPgSwarm(63, { adminUrl: server.adminUrl });
  expect(a.ok, report(a)).toBe(true);
  expect(b.stats).toEqual(a.stats);
  expect(b.digest).toBe(a.digest);
  expect(a.stats).toMatchObject({ crashesMidFlush: 1, crashesMidTransaction: 2, races: 4, sharedFlushes: 3, fencedAppends: 3 });
  expect(a.stats.handovers).toBeGreaterThan(a.stats.queues);
});

test('fresh random seeds for the budget: every check holds, and the runs hand queues over, crash and fence', async () => {
  const first = process.env.PUSHQ_PG_SWARM_SEED === undefined ? randomInt(2 ** 31 - 10_000) : Number(process.env.PUSHQ_PG_SWARM_SEED);
  process.stdout.write(`pg swarm: fresh seeds from ${first} for ${BUDGET_MS / 1000} s\n`);
  const failures: PgSwarmResult[] = [];
  const totals = { runs: 0, handovers: 0, crashes: 0, crashesMidFlush: 0, crashesMidTransaction: 0, races: 0, fencedAppends: 0, refusedAcquires: 0, leaseExpiries: 0 };
  const end = Date.now() + BUDGET_MS;
  for (let seed = first; totals.runs < 3 || Date.now() < end; seed++) {
    const r = await runPgSwarm(seed, { adminUrl: server.adminUrl });
    totals.runs++;
    for (const k of ['handovers', 'crashes', 'crashesMidFlush', 'crashesMidTransaction', 'races', 'fencedAppends', 'refusedAcquires', 'leaseExpiries'] as const) totals[k] += r.stats[k];
    process.stdout.write(report(r));
    if (!r.ok) failures.push(r);
  }
  process.stdout.write(`pg swarm: ${totals.runs} seeds, ${failures.length} failed; ${JSON.stringify(totals)}\n`);
  expect(failures.map((f) => `seed ${f.seed}: [${f.failure!.check}] ${f.failure!.message}`)).toEqual([]);
  // The faults the swarm is for did happen, across the seeds run.
  expect(totals.handovers).toBeGreaterThan(totals.runs);
  expect(totals.leaseExpiries).toBeGreaterThan(0);
  expect(totals.crashes).toBeGreaterThan(0);
}, BUDGET_MS + 90_000);
