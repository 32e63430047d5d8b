/**
 * The PostgreSQL swarm's node faults that reach into a transaction (pg-run.ts): a node crashing,
 * possibly in the middle of its append's transaction, an acquire racing an append on the same
 * stream's row (pg-cut.ts holds the transaction where it must be), and a zombie's append between a
 * takeover's acquire and the new owner's first append.
 */
import type { Lease } from '../../store/store.js';
import { SwarmCheckFailure } from './checks.js';
import { ACQUIRE_UPSERT, APPEND_INSERT, HeldPosition } from './pg-cut.js';
import type { QueueOwner, SimNode, StreamTrack } from './pg-model.js';
import { LEASE_MS, type PgSwarmRun } from './pg-run.js';

/** The node's queues of `node` it has not given up. */
function ownersOf(run: PgSwarmRun, node: SimNode): QueueOwner[] {
  return run.streams.flatMap((s) => s.owners.filter((o) => o.node === node && o.state !== 'gone'));
}

/** The node's process is gone from here on: its queues dropped, what it had not flushed lost. The caller closes its store. */
export function die(run: PgSwarmRun, node: SimNode, what: string): void {
  const owners = ownersOf(run, node);
  const unsent = owners.reduce((n, o) => n + o.log.unflushed, 0);
  node.alive = false;
  for (const o of owners) o.state = 'gone';
  run.stats.crashes++;
  run.note(`CRASH ${node.name}${what}: ${owners.length} queue(s) dropped, ${unsent} event(s) not yet in the store`);
}

/**
 * The node stops at once: idle or with batches committed and not flushed; with a create's flush
 * on its way (its transaction completes in the store, its answer is lost); or cut in the middle
 * of that transaction (rolled back by the store). With `idle`, the first (named so in the trace).
 */
export async function crashNode(run: PgSwarmRun, node: SimNode, idle?: string): Promise<void> {
  const owners = ownersOf(run, node);
  const how = owners.length === 0 || idle !== undefined ? 'idle' : run.rng.weighted({ idle: 5, 'mid-flush': 2, 'mid-transaction': 2 });
  const dieNow = (what: string): void => die(run, node, what);
  const o = owners.length === 0 ? null : run.rng.pick(owners);
  if (how === 'mid-flush' && o !== null) {
    run.stats.crashesMidFlush++;
    run.clients.createOn(o);
    dieNow(` with ${o}'s flush on its way`);
  } else if (how === 'mid-transaction' && o !== null && o.stream.owner === o && o.fenced === null) {
    // Only the stream's current epoch gets as far as the INSERT (a deposed one's UPDATE matches nothing).
    const held = await HeldPosition.take(run.url, o.stream.stream);
    try {
      run.clients.createOn(o);
      if (o.log.unflushed > 0) {
        run.flush(o).catch(() => undefined);
        const pid = await held.waiting(node.name, APPEND_INSERT);
        dieNow(` in the middle of ${o}'s append transaction`);
        await held.terminate(pid);
        run.stats.crashesMidTransaction++;
      } else {
        dieNow(''); // the create was refused: no append to cut
      }
    } finally {
      await held.release();
    }
  } else {
    dieNow(idle ?? '');
  }
  await run.settle();
  await node.store.close().catch(() => undefined);
}

/**
 * Another node acquires a stream while its owner's append is inside its transaction, holding the
 * stream's row: the acquire waits for it. The append commits first (under the epoch it holds),
 * then the acquire is decided: granted with a new epoch if the lease had run out (the owner is a
 * zombie), refused if not. Then the takeover goes on as any other.
 */
export async function raceAcquire(run: PgSwarmRun): Promise<void> {
  const r = run.rng;
  const streams = run.streams.filter((s) => s.owner !== null && s.owner.node.alive && s.owner.state !== 'gone' && s.owner.fenced === null);
  if (streams.length === 0) return;
  const s = r.pick(streams);
  const o = s.owner!;
  const nodes = run.nodes.filter((n) => n.alive && !s.owners.some((x) => x.node === n && x.state !== 'gone'));
  if (nodes.length === 0) return;
  const node = r.pick(nodes);
  let acquiring: Promise<Lease | null> | null = null;
  const held = await HeldPosition.take(run.url, s.stream);
  try {
    run.clients.createOn(o);
    if (o.log.unflushed === 0) return; // the create was refused: no append to race
    run.flush(o).catch(() => undefined);
    await held.waiting(o.node.name, APPEND_INSERT);
    acquiring = run.track(node.store.acquire(s.stream, node.name, LEASE_MS));
    await held.waiting(node.name, ACQUIRE_UPSERT);
  } finally {
    await held.release();
  }
  run.stats.races++;
  run.note(`${node.name} acquires ${s.queue} while ${o}'s append holds the stream's row`);
  await run.settle();
  await run.takeover(s, node, await acquiring);
}

/**
 * A zombie of `s` (its lease ran out; it has not learnt) takes a client's create and flushes it
 * between a new owner's acquire of `epoch` and the new owner's first append (the ServiceStarted
 * its start logs): there the zombie's expected end still holds, so only the epoch fences it, and
 * the store must refuse it. (Once the new owner appended, the expected end refuses it too: the
 * run's `wake`.) SERIALIZABLE runs too: the count of conflicts retried that varied there (seed 52,
 * 2 or 3) came from two nodes' appends overlapping later in the run, not from this one (pg-turns.ts).
 */
export async function zombiesFlushInWindow(run: PgSwarmRun, s: StreamTrack, epoch: number): Promise<void> {
  for (const o of s.owners) {
    if (o.state !== 'zombie' || !o.node.alive || o.fenced !== null) continue;
    run.clients.createOn(o);
    const unsent = o.log.unflushed;
    if (unsent === 0) continue; // the create was refused: nothing to append
    const written = await run.flush(o).then(
      () => true,
      () => false,
    );
    if (written) throw new SwarmCheckFailure('epoch-order', `${o} flushed ${unsent} event(s) after epoch ${epoch} took ${s.stream}, before the new owner appended, and the store took them`);
    run.note(`${o} flushes ${unsent} event(s) as epoch ${epoch} takes ${s.queue}: refused`);
  }
}
