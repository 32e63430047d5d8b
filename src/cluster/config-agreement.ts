/**
 * What an operator is told when a cluster's live nodes apply different queue.yaml files (node.ts
 * reports it once per change): which nodes apply which configuration, and the queues not in every
 * node's file (each is placed only on a node whose file holds it).
 */
import type { AppliedConfig } from './membership.js';

/** What differs between the configurations of live nodes that do not all apply the same one. */
export function describeDisagreement(nodes: readonly { node: string; config: AppliedConfig }[]): string {
  const byHash = new Map<string, { nodes: string[]; queues: number }>();
  for (const n of nodes) {
    const group = byHash.get(n.config.hash) ?? { nodes: [], queues: n.config.queues.length };
    group.nodes.push(n.node);
    byHash.set(n.config.hash, group);
  }
  const groups = [...byHash].map(([hash, g]) => `${g.nodes.map((n) => `node ${n}`).join(', ')}: ${hash.slice(0, 12)} (${g.queues} queue${g.queues === 1 ? '' : 's'})`);
  const every = [...new Set(nodes.flatMap((n) => n.config.queues))].sort();
  const partial = every.filter((q) => !nodes.every((n) => n.config.queues.includes(q)));
  const shown = partial.slice(0, 10).map((q) => `${q} (only on ${nodes.filter((n) => n.config.queues.includes(q)).map((n) => `node ${n.node}`).join(', ')})`);
  const queues =
    partial.length === 0
      ? 'every node has the same queues, with other settings: a queue that moves takes its new owner\'s'
      : `queues not in every node's file: ${shown.join(', ')}${partial.length > shown.length ? ` and ${partial.length - shown.length} more` : ''}; each is placed only on a node whose file holds it`;
  return `the live nodes apply different queue configurations (${groups.join('; ')}); ${queues}; give every node the same queue.yaml and reload each (SIGHUP)`;
}
