/**
 * Nodes of one cluster started with different queue.yaml files (a machine forgotten in a deploy,
 * one node's SIGHUP): each node announces the configuration it applies in its membership row, a
 * queue is placed only on the live nodes whose file holds it, and every node says, once, that the
 * nodes disagree (naming each node's configuration and the queues not in every file), and once
 * more when they agree again.
 *
 * Before: placement hashed every queue over every live node, so a queue only node A's file held,
 * hashed to node B, was never taken (B does not run queues it does not know) and every call for it
 * through A answered QUEUE_OWNER_UNKNOWN for as long as B lived, with no word from either node.
 */
import { join } from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ownerFor } from '../../src/cluster/rendezvous.js';
import { startWorker } from '../helpers/worker.js';
import { ownedBy, postTask, startNode, waitUntil, clusterFixture, type Node } from './cluster-harness.js';

const fx = clusterFixture('pushq-cluster-config-mismatch-');
const { nodes, workers } = fx;

const SHARED = ['q0', 'q1', 'q2', 'q3'];
/** Queues only node A's file holds: enough that some hash to B (each does with odd 1/2; B is restarted, a new id, while none does). */
const ONLY_A = Array.from({ length: 6 }, (_, i) => `x${i}`);

function yaml(queues: readonly string[]): string {
  return `queue:\n${queues.map((q) => `- name: ${q}\n  rate: 50/s\n  bucket_size: 5\n`).join('')}`;
}

/** Waits for a line of the node's output after line `from` holding every one of `texts`; returns it. */
async function said(node: Node, from: number, ...texts: string[]): Promise<string> {
  const holds = (l: { text: string }): boolean => texts.every((t) => l.text.includes(t));
  await waitUntil(`${node.id} saying ${texts.map((t) => `"${t}"`).join(' and ')}`, () => node.lines.slice(from).some(holds), 15_000);
  return node.lines.slice(from).find(holds)!.text;
}

/** Each node owns exactly the queues rendezvous hashing gives it among the nodes whose file holds them. */
async function placed(a: Node, b: Node, bKnows: readonly string[]): Promise<boolean> {
  const expected = (n: Node): string => ['default', ...SHARED, ...ONLY_A].filter((q) => ownerFor(q, bKnows.includes(q) || q === 'default' ? [a.id, b.id] : [a.id]) === n.id).sort().join();
  try {
    const [ownA, ownB] = await Promise.all([ownedBy(a), ownedBy(b)]);
    return ownA.join() === expected(a) && ownB.join() === expected(b);
  } catch {
    return false;
  }
}

describe('pushq serve --cluster: nodes with different queue.yaml files', () => {
  it('places a queue only on nodes whose file holds it, says the files differ (and when they agree again)', async () => {
    const url = await fx.pg.database();
    const w = await startWorker(() => 200);
    workers.push(w);
    await mkdir(join(fx.dir, 'a'));
    await mkdir(join(fx.dir, 'b'));
    const fileA = join(fx.dir, 'a', 'queue.yaml');
    const fileB = join(fx.dir, 'b', 'queue.yaml');
    await writeFile(fileA, yaml([...SHARED, ...ONLY_A]));
    await writeFile(fileB, yaml(SHARED));
    const args = (file: string): string[] => ['--config', file, '--store', url, '--lease-seconds', '2', '--target', `default=${w.url}`];

    const a = await startNode(args(fileA));
    nodes.push(a);
    let b = await startNode(args(fileB));
    nodes.push(b);
    // Some queue only A knows must hash to B among both, or the test shows nothing.
    for (let tries = 0; !ONLY_A.some((q) => ownerFor(q, [a.id, b.id]) === b.id); tries++) {
      expect(tries, 'a node B that some of A-only queues hash to').toBeLessThan(8);
      b.proc.child.kill('SIGTERM');
      await b.proc.exited;
      b = await startNode(args(fileB));
      nodes.push(b);
    }
    const toB = ONLY_A.filter((q) => ownerFor(q, [a.id, b.id]) === b.id);

    await waitUntil(`A owning every queue only its file holds (${toB.join(', ')} hash to B)`, () => placed(a, b, SHARED), 20_000);
    for (const q of ONLY_A) expect((await postTask(a, q, `via-a-${q}`)).status, q).toBe(200);
    // B's file lacks them: it answers as a node that does not know the queue (docs/cluster.md, "Reload").
    expect((await postTask(b, toB[0]!, 'via-b')).status).toBe(404);
    await w.waitFor((r) => ONLY_A.every((q) => r.some((x) => x.url === `/t/${q}/via-a-${q}`)), 15_000, 'a task of every A-only queue delivered');

    // Both nodes say the files differ, naming both nodes and what differs (A said it of a B replaced above too, naming that one).
    for (const n of [a, b]) {
      const line = await said(n, 0, 'the live nodes apply different queue configurations', `node ${b.id}: `);
      expect(line).toContain(`node ${a.id}: `);
      expect(line).toContain(`node ${b.id}: `);
      // Each file's queues and `default`, which every configuration has.
      expect(line).toContain(`(${SHARED.length + ONLY_A.length + 1} queues)`);
      expect(line).toContain(`(${SHARED.length + 1} queues)`);
      for (const q of ONLY_A) expect(line).toContain(`${q} (only on node ${a.id})`);
      expect(n.lines.filter((l) => l.text.includes('apply different queue configurations') && l.text.includes(b.id)), 'said once').toHaveLength(1);
    }

    // B gets A's file: they agree, say so, and the queues that hash to B move there.
    const marks = [a.lines.length, b.lines.length];
    await writeFile(fileB, yaml([...SHARED, ...ONLY_A]));
    b.proc.child.kill('SIGHUP');
    await said(b, marks[1]!, 'reload applied');
    for (const [i, n] of [a, b].entries()) await said(n, marks[i]!, 'the live nodes apply the same queue configuration again');
    await waitUntil('the A-only queues spread over both nodes', () => placed(a, b, [...SHARED, ...ONLY_A]), 20_000);
    for (const q of ONLY_A) expect((await postTask(b, q, `via-b-${q}`)).status, q).toBe(200);
    await w.waitFor((r) => ONLY_A.every((q) => r.some((x) => x.url === `/t/${q}/via-b-${q}`)), 15_000, 'a task of every queue created through B delivered');
  }, 120_000);

  it('nodes with the same queues but other settings: said, naming both configurations', async () => {
    const url = await fx.pg.database();
    const fileC = join(fx.dir, 'c.yaml');
    const fileD = join(fx.dir, 'd.yaml');
    await writeFile(fileC, yaml(SHARED));
    await writeFile(fileD, yaml(SHARED).replace('rate: 50/s', 'rate: 5/s'));
    const c = await startNode(['--config', fileC, '--store', url, '--lease-seconds', '2']);
    nodes.push(c);
    const d = await startNode(['--config', fileD, '--store', url, '--lease-seconds', '2']);
    nodes.push(d);
    for (const n of [c, d]) {
      const line = await said(n, 0, 'the live nodes apply different queue configurations');
      expect(line).toContain(`node ${c.id}: `);
      expect(line).toContain(`node ${d.id}: `);
      expect(line).toContain("every node has the same queues, with other settings: a queue that moves takes its new owner's");
    }
  }, 60_000);
});
