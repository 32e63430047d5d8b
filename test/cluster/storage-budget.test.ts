/**
 * StorageBudget (src/cluster/storage-budget.ts) on a real PostgreSQL: two nodes' budgets on one
 * database, with the queues each owns given by hand. What a node counts against
 * total_storage_limit for a queue: its own other queues live, every other configured queue as last
 * published; a deposed owner's late figure never replaces its successor's (epoch fence); a queue
 * no node owns keeps its last figure; rows of queues outside the configuration are not counted.
 */
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { StorageBudget, type OwnedStorage } from '../../src/cluster/storage-budget.js';
import { pgForTheseTests } from '../helpers/pg-cluster.js';

const db = pgForTheseTests();

class FakeNode {
  owns: OwnedStorage[] = [];
  configured = ['q0', 'q1', 'q2'];
  reports: string[] = [];
  budget!: StorageBudget;
  static async open(url: string, id: string): Promise<FakeNode> {
    const n = new FakeNode();
    n.budget = await StorageBudget.open(url, id, { owned: () => n.owns, live: (q) => n.owns.find((o) => o.queue === q)?.bytes, configured: () => n.configured }, (line) => n.reports.push(line));
    return n;
  }
}

async function tableRows(url: string): Promise<Record<string, [number, number, string]>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ stream: string; epoch: string; bytes: string; node: string }>('SELECT stream, epoch, bytes, node FROM pushq_storage ORDER BY stream');
    return Object.fromEntries(r.rows.map((row) => [row.stream, [Number(row.epoch), Number(row.bytes), row.node]]));
  } finally {
    await c.end();
  }
}

describe('StorageBudget: the queues stored bytes, published and read across nodes', () => {
  it('counts own queues live and the others as published; fences late figures by epoch; keeps an unowned queue figure; ignores queues outside the file', async () => {
    const url = await db.pg.database();
    const a = await FakeNode.open(url, 'A');
    const b = await FakeNode.open(url, 'B');
    try {
      a.owns = [{ queue: 'q0', epoch: 1, bytes: 100 }];
      b.owns = [{ queue: 'q1', epoch: 1, bytes: 50 }];
      expect(a.budget.elsewhere('q0')).toBe(0); // nothing read yet
      await a.budget.round();
      await b.budget.round();
      await a.budget.round();
      expect(a.budget.elsewhere('q0')).toBe(50);
      expect(b.budget.elsewhere('q1')).toBe(100);
      expect(a.budget.elsewhere('q2')).toBe(150); // a queue being taken: every other queue counts

      // Own queues are live, not as published: q0 grows on A, A sees it at once; B after a round.
      a.owns = [
        { queue: 'q0', epoch: 1, bytes: 400 },
        { queue: 'q2', epoch: 1, bytes: 7 },
      ];
      expect(a.budget.elsewhere('q2')).toBe(450);
      expect(b.budget.elsewhere('q1')).toBe(100);
      await a.budget.round();
      await b.budget.round();
      expect(b.budget.elsewhere('q1')).toBe(407);

      // B takes q0 (epoch 2, replayed: 30 bytes); A, deposed, publishes its stale 400 after: refused by the epoch.
      b.owns = [...b.owns, { queue: 'q0', epoch: 2, bytes: 30 }];
      await b.budget.round();
      await a.budget.round();
      expect((await tableRows(url))['queue/q0']).toEqual([2, 30, 'B']);
      a.owns = [{ queue: 'q2', epoch: 1, bytes: 7 }];
      await a.budget.round();
      expect(a.budget.elsewhere('q2')).toBe(80);

      // B dies without a word: its queues keep their last figures (their tasks are still stored).
      await b.budget.close();
      await a.budget.round();
      expect(a.budget.elsewhere('q2')).toBe(80);

      // A queue outside the configuration is not counted; put back in it, it is.
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`INSERT INTO pushq_storage VALUES ('queue/q9', 1, 1000, 'X', now())`);
      await c.end();
      await a.budget.round();
      expect(a.budget.elsewhere('q2')).toBe(80);
      a.configured = [...a.configured, 'q9'];
      expect(a.budget.elsewhere('q2')).toBe(1080);
      expect(a.reports).toEqual([]);
    } finally {
      await a.budget.close();
      await b.budget.close();
    }
  }, 60_000);

  it('a round that fails (its statements refused: here the table dropped) keeps the last figures, says so once, and never throws', async () => {
    const url = await db.pg.database();
    const a = await FakeNode.open(url, 'A');
    const b = await FakeNode.open(url, 'B');
    b.owns = [{ queue: 'q1', epoch: 1, bytes: 64 }];
    await b.budget.round();
    await a.budget.round();
    expect(a.budget.elsewhere('q0')).toBe(64);
    // Every later round's statements now fail, as they would with the store unreachable.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('DROP TABLE pushq_storage');
    await c.end();
    await a.budget.round();
    await a.budget.round();
    expect(a.budget.elsewhere('q0')).toBe(64);
    expect(a.reports).toHaveLength(1);
    expect(a.reports[0]).toMatch(/cannot publish or read the queues' storage figures/);
    await a.budget.close();
    await b.budget.close();
  }, 60_000);
});
