/**
 * NodeTurns (src/testing/swarm/pg-turns.ts): in a SERIALIZABLE run of the PostgreSQL swarm, no two
 * nodes' flushes overlap, so whether SSI aborts one never hangs on which commit came first.
 */
import { expect, test } from 'vitest';
import { SimNode } from '../../src/testing/swarm/pg-model.js';
import { NodeTurns } from '../../src/testing/swarm/pg-turns.js';
import type { PgStore } from '../../src/store/pg-store.js';

const node = (name: string): SimNode => new SimNode(0, name, { displayUrl: 'postgres://test' } as PgStore);

/** A flush the test settles by hand; `started` says whether NodeTurns has sent it yet. */
function flush(log: string[], name: string): { run: () => Promise<void>; resolve: () => void; reject: () => void; started: () => boolean } {
  let started = false;
  let resolve!: () => void;
  let reject!: () => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = () => rej(new Error(`${name} fenced`));
  });
  return {
    run: () => {
      started = true;
      log.push(`start ${name}`);
      return done;
    },
    resolve,
    reject,
    started: () => started,
  };
}

const turnOfTheLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

test("a flush of another node waits until the node in turn's flushes settled (refused ones too); the same node's join its turn at once", async () => {
  const a = node('a');
  const b = node('b');
  const turns = new NodeTurns();
  const log: string[] = [];
  const a1 = flush(log, 'a1');
  const a2 = flush(log, 'a2');
  const b1 = flush(log, 'b1');
  const p1 = turns.run(a, a1.run);
  const p2 = turns.run(a, a2.run);
  const p3 = turns.run(b, b1.run);
  // Nothing was in flight: a1 started at once (in the same turn of the loop, as without turns), a2 with it.
  expect([a1.started(), a2.started(), b1.started()]).toEqual([true, true, false]);
  a1.resolve();
  await p1;
  await turnOfTheLoop();
  expect(b1.started()).toBe(false); // a2 still in flight
  a2.reject();
  await expect(p2).rejects.toThrow('a2 fenced');
  await turnOfTheLoop();
  expect(b1.started()).toBe(true);
  b1.resolve();
  await p3;
  expect(log).toEqual(['start a1', 'start a2', 'start b1']);
});

test("a node's flush after another node's queued turn goes after it, not into its own earlier turn", async () => {
  const a = node('a');
  const b = node('b');
  const turns = new NodeTurns();
  const log: string[] = [];
  const a1 = flush(log, 'a1');
  const b1 = flush(log, 'b1');
  const a2 = flush(log, 'a2');
  const done = [turns.run(a, a1.run), turns.run(b, b1.run), turns.run(a, a2.run)];
  expect(log).toEqual(['start a1']);
  a1.resolve();
  await turnOfTheLoop();
  expect(log).toEqual(['start a1', 'start b1']);
  b1.resolve();
  await turnOfTheLoop();
  expect(log).toEqual(['start a1', 'start b1', 'start a2']);
  a2.resolve();
  await Promise.all(done);
  // All settled: the next flush, of any node, starts at once.
  const b2 = flush(log, 'b2');
  const last = turns.run(b, b2.run);
  expect(b2.started()).toBe(true);
  b2.resolve();
  await last;
});
