/**
 * Random queue configurations for the crash swarm, written as queue.yaml and read by the real
 * reader (src/config), so every config the swarm runs is one a user could write. The queue names
 * stay the same across reloads (a reload changes their rates, buckets, caps and retry rules).
 */
import { parseQueueConfig } from '../../config/parse.js';
import type { QueueFileConfig } from '../../core/queue-config.js';
import type { SwarmRng } from './rng.js';

const RATES = ['1/s', '5/s', '20/s', '100/s', '500/s', '30/m', '2.5/s', '0.5/s'];

export function queueNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `q${i}`);
}

/** A random config for `names`; `live`: every queue dispatches (rate > 0, bucket ≥ 1), for the liveness phase. */
export function randomQueueYaml(rng: SwarmRng, names: readonly string[], live = false): string {
  const lines = ['queue:'];
  for (const name of names) {
    lines.push(`- name: ${name}`);
    lines.push(`  rate: ${!live && rng.chance(0.05) ? '0' : rng.pick(RATES)}`);
    lines.push(`  bucket_size: ${!live && rng.chance(0.05) ? 0 : rng.between(1, 20)}`);
    if (rng.chance(0.6)) lines.push(`  max_concurrent_requests: ${rng.between(1, 10)}`);
    if (rng.chance(0.8)) {
      lines.push('  retry_parameters:');
      if (rng.chance(0.5)) lines.push(`    task_retry_limit: ${rng.between(0, 6)}`);
      if (rng.chance(0.3)) lines.push(`    task_age_limit: ${rng.pick(['30s', '2m', '10m', '1h'])}`);
      const min = rng.pick([0.1, 0.5, 1, 2]);
      lines.push(`    min_backoff_seconds: ${min}`);
      lines.push(`    max_backoff_seconds: ${min * rng.pick([1, 4, 30])}`);
      lines.push(`    max_doublings: ${rng.between(0, 5)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function parseSwarmConfig(yaml: string): QueueFileConfig {
  const parsed = parseQueueConfig(yaml, { file: 'swarm-queue.yaml' });
  if (parsed.config === null) throw new Error(`the swarm wrote an invalid queue.yaml:\n${yaml}\n${JSON.stringify(parsed.errors)}`);
  return parsed.config;
}
