/**
 * The PostgreSQL swarm's checks at the end of a run (pg-run.ts), once every queue has a live owner
 * and every task settled: per stream, one epoch at a time (the store's rows), the stream is the
 * history then exactly what the live owner wrote, every acknowledged task is in it, the laws hold
 * over it, it replays to the live owner's state, and the worker's deliveries are what the owners'
 * logs explain (checks.ts, the file swarm's checks).
 */
import { createHash } from 'node:crypto';
import { encodeEvent } from '../../log/codec.js';
import { replay, stateDigest } from '../../log/replay.js';
import { SwarmCheckFailure, checkAcknowledged, checkDeliveries, checkLaws, checkSurvivingPrefix, type DeliveryFigures } from './checks.js';
import type { PgSwarmRun } from './pg-run.js';

export async function finalChecks(run: PgSwarmRun): Promise<void> {
  run.clients.checkAllAnswered(run.streams.map((s) => s.live!));
  const deliveries: DeliveryFigures = { deliveries: 0, lostRecords: 0, afterSuccess: 0 };
  const digest = createHash('sha256');
  for (const s of run.streams) {
    const o = s.live!;
    if (o.fenced !== null) throw new SwarmCheckFailure('lease', `${o} holds its lease, yet the store refused its epoch: ${o.fenced}`);
    const events = await run.track(o.node.store.read(s.stream));
    const lines = events.map((e) => encodeEvent(e, o.log.header.version));
    await run.checkEpochs(s);
    for (const line of lines) digest.update(`${s.stream} ${line}\n`);
    const all = checkSurvivingPrefix(lines, s.history, o.log, o.log.events.length);
    if (all !== o.log.events.length) throw new SwarmCheckFailure('log-not-a-prefix', `${s.stream} lacks ${o.log.events.length - all} events its live owner wrote`);
    s.incarnations.push({ recorded: o.log, durable: all });
    checkAcknowledged(events, run.clients.ackedIn(s.queue));
    checkLaws(events);
    if (stateDigest(replay(events)) !== stateDigest(o.kernel.state)) throw new SwarmCheckFailure('replay-differs', `${s.stream} replays to a state other than its live owner's, ${o}`);
    const d = checkDeliveries(
      run.worker.deliveries.filter((x) => x.queue === s.queue),
      s.incarnations,
      events,
    );
    deliveries.deliveries += d.deliveries;
    deliveries.lostRecords += d.lostRecords;
    deliveries.afterSuccess += d.afterSuccess;
    run.stats.tasks += o.kernel.state.tasks.count;
    run.stats.events += events.length;
    run.stats.virtualSeconds = Math.max(run.stats.virtualSeconds, Math.round((events[events.length - 1]?.t ?? 0) / 1e6));
  }
  run.stats.deliveries = deliveries;
  run.digest = digest.digest('hex');
  run.stats.acknowledged = run.clients.acknowledged;
}
