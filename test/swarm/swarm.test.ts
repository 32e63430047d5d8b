/**
 * The crash swarm in CI (docs/testing.md, "The crash swarm"): a bounded budget of fresh random
 * seeds (about a minute: PUSHQ_SWARM_SECONDS, default 50), each printed, after the seeds that
 * once found a bug (kept as regressions). A failure prints the check, the last operations and the
 * command that replays it: `npm run swarm -- --seed N`.
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runSwarm, type SwarmResult } from '../../src/testing/swarm/swarm.js';

/**
 * Seeds that found a bug: each lost a task acknowledged ALREADY_EXISTS before it was synced, when
 * the API answered refusals at once (the planted fault answer-before-sync brings it back).
 */
const REGRESSIONS = [28, 116, 118];
const BUDGET_MS = Number(process.env.PUSHQ_SWARM_SECONDS ?? 50) * 1000;

function report(r: SwarmResult): string {
  if (r.ok) return `swarm seed ${r.seed}: ok (${r.stats.ops} ops, ${r.stats.crashes} crashes, ${r.stats.tasks} tasks, ${r.stats.deliveries?.lostRecords} re-sent after a lost record)\n`;
  const f = r.failure!;
  return `swarm seed ${r.seed}: FAILED [${f.check}] ${f.message}\n  the last operations:\n${f.trace.map((l) => `    ${l}\n`).join('')}  log: ${f.logPath}\n  reproduce: npm run swarm -- --seed ${r.seed}\n`;
}

test('the same seed gives the same run, byte for byte', async () => {
  const a = await runSwarm(7, { keepLog: true, ops: 150 });
  const b = await runSwarm(7, { keepLog: true, ops: 150 });
  expect(a.ok && b.ok).toBe(true);
  expect(b.stats).toEqual(a.stats);
  const logOf = (r: SwarmResult): Buffer => readFileSync(join(r.logDir!, 'events.log'));
  expect(logOf(b).equals(logOf(a))).toBe(true);
});

test('regression seeds, then fresh random seeds for the budget: every check holds', async () => {
  const first = process.env.PUSHQ_SWARM_SEED === undefined ? randomInt(2 ** 31 - 10_000) : Number(process.env.PUSHQ_SWARM_SEED);
  process.stdout.write(`swarm: regression seeds ${REGRESSIONS.join(', ')}, then fresh seeds from ${first} for ${BUDGET_MS / 1000} s\n`);
  const failures: SwarmResult[] = [];
  const end = Date.now() + BUDGET_MS;
  let runs = 0;
  for (const seed of [...REGRESSIONS, ...Array.from({ length: 10_000 }, (_, i) => first + i)]) {
    if (runs >= REGRESSIONS.length && Date.now() > end) break;
    const r = await runSwarm(seed);
    runs++;
    process.stdout.write(report(r));
    if (!r.ok) failures.push(r);
  }
  process.stdout.write(`swarm: ${runs} seeds, ${failures.length} failed\n`);
  expect(failures.map((f) => `seed ${f.seed}: [${f.failure!.check}] ${f.failure!.message}`)).toEqual([]);
  expect(runs).toBeGreaterThan(REGRESSIONS.length);
}, BUDGET_MS + 60_000);
