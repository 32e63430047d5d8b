/**
 * The log bytes of the example scenarios, run with their own seeds, pinned by hash. A change to
 * the engine that is meant to leave default behaviour alone (an opt-in mode, a refactor, a speed-up)
 * must leave these hashes alone: the same scenario and seed write the same bytes, event for event.
 * A deliberate change of what the engine does (a new event field, a corrected rule) changes them,
 * and the commit that makes it says so and updates the hash.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { createFileEventLogSync } from '../../src/log/file-log.js';
import { loadScenario } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'pushq-log-bytes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GOLDEN: Record<string, string> = {
  'examples/default.yaml': 'ce406b81ed250b79c174cc3f3b3c84df612fd4f34423058d68f9b6837181bf75',
  'examples/retries/flaky-worker.yaml': '06ed16b4578185cf44489c5a397aee2c3ade314f2b18b5042b5bb0bc019c163b',
  'examples/retries/per-task-limit.yaml': '9f52decd0655e050dc3da1d95a0e40f1ebcc17278e23bee5d0725096bbf33494',
  'examples/worked-example/latency-5s.yaml': '3b5ed2a9ed5b1bb379d12cf72e05e275c8d8a197690f9c35c5b0605a11ebb6e5',
};

test.each(Object.keys(GOLDEN))('%s (its own seed) writes the log bytes it always wrote', async (file) => {
  const { scenario } = await loadScenario(join(ROOT, file));
  if (scenario === null) throw new Error(`${file} is not a valid scenario`);
  const path = join(dir, `${file.replaceAll('/', '_')}.jsonl`);
  const run = runScenario(scenario, { log: (header) => createFileEventLogSync(path, header, { durable: false }), series: false });
  await run.simulation.kernel.log.close();
  // The header names pushq's version: hashed without it, so a release does not change the hash.
  const [, ...events] = readFileSync(path, 'utf8').split('\n');
  expect(createHash('sha256').update(events.join('\n')).digest('hex')).toBe(GOLDEN[file]);
});
