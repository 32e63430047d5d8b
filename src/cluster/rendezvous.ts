/**
 * Which live node should own a queue: rendezvous (highest random weight) hashing. Every node
 * computes the same answer from the same list of live nodes, with no coordination: each queue goes
 * to the node whose hash of (queue, node) is highest. When a node joins, only the queues it now
 * wins move (to it); when one leaves, only its queues move, each to its own next-highest node. So
 * a change of membership moves about 1/N of the queues, never reshuffles the rest.
 */
import { createHash } from 'node:crypto';

/** The weight of `node` for `queue`: the first 48 bits of SHA-256 (exact as a JS number). */
function weight(queue: string, node: string): number {
  const digest = createHash('sha256').update(queue).update('\u0000').update(node).digest();
  return digest.readUIntBE(0, 6);
}

/** The node that should own `queue` among `nodes` (ties, practically impossible, go to the smaller name); null when none is live. */
export function ownerFor(queue: string, nodes: readonly string[]): string | null {
  let best: string | null = null;
  let bestWeight = -1;
  for (const node of nodes) {
    const w = weight(queue, node);
    if (w > bestWeight || (w === bestWeight && best !== null && node < best)) {
      best = node;
      bestWeight = w;
    }
  }
  return best;
}
