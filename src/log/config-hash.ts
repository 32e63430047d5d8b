/** The log header's `configHash`: one definition for the simulation, `pushq serve` and a cluster's nodes (which announce it to each other). */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';
import type { QueueFileConfig } from '../core/queue-config.js';

/** sha256 of the configuration's canonical JSON (sorted keys): the log header's config hash. */
export function configHash(config: QueueFileConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}
