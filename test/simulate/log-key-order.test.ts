/**
 * Same inputs, same log bytes, whatever order the keys of a mapping were written in. A YAML
 * mapping (a scenario's `targets`) and a configuration object built in code have no order that
 * means anything, yet ConfigApplied carried the caller's: swapping two targets in a scenario file
 * changed the log's second line (the header's configHash, canonical, did not change), and a config
 * built with its keys in another order changed the line and the state digest.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createSimulation } from '../../src/simulate/simulation.js';
import { createFileEventLogSync } from '../../src/log/file-log.js';
import { stateDigest } from '../../src/log/replay.js';
import type { EngineSettings } from '../../src/core/events.js';
import type { QueueFileConfig } from '../../src/core/queue-config.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

const ROOT = join(import.meta.dirname, '..', '..');
const cli = async (...args: string[]) => (await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'pushq.js'), ...args], { cwd: ROOT })).stdout;

/** The same value with every object's keys in reverse order (arrays keep theirs: their order means something). */
function reversedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reversedKeys) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversedKeys(v)])) as T;
}

describe('the order of keys in the inputs does not reach the log', () => {
  it('pushq simulate: a scenario whose targets (and other mappings) are written in another order gives the same log bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushq-key-order-'));
    const body = (targets: string) =>
      `seed: 4\nqueue:\n  - { name: q, rate: 5/s, target: batch }\n  - { name: r, rate: 2/s }\n${targets}\n` +
      'workload:\n  - { queue: q, count: 20 }\n  - { queue: r, count: 10, target: v1.api }\n' +
      'worker:\n  latency: 200ms\n  routes: [ { target: batch, error_rate: 0.3 } ]\n';
    writeFileSync(join(dir, 'a.yaml'), body('targets:\n  batch: { scaling: basic }\n  v1.api: { scaling: manual }\n  zeta: { scaling: automatic }'));
    writeFileSync(join(dir, 'b.yaml'), body('targets:\n  zeta: { scaling: automatic }\n  v1.api: { scaling: manual }\n  batch: { scaling: basic }'));
    await cli('simulate', join(dir, 'a.yaml'), '--quiet', '--json', '--log', join(dir, 'a.jsonl'));
    await cli('simulate', join(dir, 'b.yaml'), '--quiet', '--json', '--log', join(dir, 'b.jsonl'));
    const a = readFileSync(join(dir, 'a.jsonl'), 'utf8');
    expect(a).toContain('"targets":{"batch":{"scaling":"basic"},"v1.api":{"scaling":"manual"},"zeta":{"scaling":"automatic"}}');
    expect(readFileSync(join(dir, 'b.jsonl'), 'utf8')).toBe(a);
  });

  it('createSimulation: a config and targets built with their keys in another order give the same log bytes and state digest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushq-key-order-'));
    const config: QueueFileConfig = { ...fileConfig(pushQueue('q', 10, { bucket_size: 3, max_concurrent_requests: 2, retry: { task_retry_limit: 2 } })), total_storage_limit_bytes: 1_000_000 };
    const targets: EngineSettings['targets'] = { batch: { scaling: 'basic', url: 'http://127.0.0.1:1' }, api: { scaling: 'manual' } };
    const run = (name: string, c: QueueFileConfig, t: EngineSettings['targets']) => {
      const path = join(dir, name);
      const sim = createSimulation({ config: c, targets: t, seed: 9, worker: { errorRate: 0.4 }, log: (header) => createFileEventLogSync(path, header) });
      sim.addWorkload({ queue: 'q', count: 30, task: { target: 'batch' } });
      sim.runUntilIdle({ maxSeconds: 3600 });
      return { digest: stateDigest(sim.state), close: sim.kernel.log.close(), path };
    };
    const a = run('a.jsonl', config, targets);
    const b = run('b.jsonl', reversedKeys(config), reversedKeys(targets));
    return Promise.all([a.close, b.close]).then(() => {
      const bytes = readFileSync(a.path, 'utf8');
      // The loader's order, the one every log written from a queue file has always had.
      expect(bytes).toContain('"config":{"total_storage_limit_bytes":1000000,"queues":[{"name":"default","mode":"push","state":"running","rate_per_second":5,"rate_exact":{"tokens":1,"period_us":200000},');
      expect(bytes).toContain('"settings":{"targets":{"api":{"scaling":"manual"},"batch":{"scaling":"basic","url":"http://127.0.0.1:1"}},"tombstoneSeconds":777600}');
      expect(readFileSync(b.path, 'utf8')).toBe(bytes);
      expect(b.digest).toBe(a.digest);
    });
  });
});
