/** Rendezvous placement: the same answer on every node, a fair spread, and a change of membership moves only the queues it must. */
import { describe, expect, it } from 'vitest';
import { ownerFor } from '../../src/cluster/rendezvous.js';

const QUEUES = Array.from({ length: 3000 }, (_, i) => `queue-${i}`);

describe('ownerFor', () => {
  it('does not depend on the order nodes are listed in, and is null with no live node', () => {
    for (const q of QUEUES.slice(0, 100)) expect(ownerFor(q, ['a', 'b', 'c'])).toBe(ownerFor(q, ['c', 'a', 'b']));
    expect(ownerFor('q', [])).toBeNull();
  });

  it('spreads queues about evenly', () => {
    const nodes = ['n1', 'n2', 'n3'];
    const counts = new Map<string, number>();
    for (const q of QUEUES) counts.set(ownerFor(q, nodes)!, (counts.get(ownerFor(q, nodes)!) ?? 0) + 1);
    for (const n of nodes) expect(counts.get(n)!).toBeGreaterThan(QUEUES.length / 3 - 150);
  });

  it('a node joining takes only queues for itself; a node leaving gives away only its own', () => {
    const before = QUEUES.map((q) => ownerFor(q, ['n1', 'n2', 'n3']));
    const joined = QUEUES.map((q) => ownerFor(q, ['n1', 'n2', 'n3', 'n4']));
    for (let i = 0; i < QUEUES.length; i++) if (joined[i] !== before[i]) expect(joined[i]).toBe('n4');
    const left = QUEUES.map((q) => ownerFor(q, ['n1', 'n3']));
    for (let i = 0; i < QUEUES.length; i++) if (left[i] !== before[i]) expect(before[i]).toBe('n2');
  });
});
