/**
 * The fold snapshot (src/server/fold-snapshot.ts): restoring a snapshot taken after k events and
 * folding the events after k gives exactly what folding every event gives: the engine state and
 * every read model, compared deeply (classes, fields, typed arrays with their capacity, Maps,
 * identity of shared objects), at many cut points, among them points with attempts in flight,
 * tasks in backoff, a paused queue, deleted tasks and tombstones (names of ended tasks). A snapshot
 * that is torn, corrupt, from another version or of another log is refused with its code.
 */
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { createEngineState, evolve, type EngineState } from '../../src/core/state.js';
import { TaskState } from '../../src/core/task-machine.js';
import type { LogHeader } from '../../src/log/event-log.js';
import { fold } from '../../src/projections/fold.js';
import { FOLD_SNAPSHOT_VERSION, SnapshotError, decodeFoldSnapshot, encodeFoldSnapshot, snapshotPosition } from '../../src/server/fold-snapshot.js';
import { newReadModels, projectionsOf, type ReadModels } from '../../src/server/read-models.js';
import { PUSHQ_VERSION } from '../../src/version.js';
import { dump } from '../helpers/fold-dump.js';
import { richSimulation } from '../helpers/rich-sim.js';
import { TEST_HEADER } from '../log/conformance.js';

const sim = richSimulation(5, undefined, 10);
const EVENTS: EngineEvent[] = [...(sim.kernel.log as unknown as Iterable<EngineEvent>)];
const HEADER: LogHeader = sim.kernel.log.header;

function foldAll(events: readonly EngineEvent[]): { state: EngineState; models: ReadModels } {
  const models = newReadModels();
  const f = fold(events, projectionsOf(models), { misfit: 'assert' });
  return { state: f.state, models };
}

/** Snapshot after `k` events, restored, and the rest folded onto it. */
async function viaSnapshot(k: number): Promise<{ state: EngineState; models: ReadModels; bytes: number }> {
  const head = foldAll(EVENTS.slice(0, k));
  const bytes = await encodeFoldSnapshot(head.state, head.models, HEADER);
  const restored = decodeFoldSnapshot(bytes, HEADER, EVENTS.length);
  expect(restored.position).toBe(k);
  fold(EVENTS.slice(k), projectionsOf(restored.models), { state: restored.state, misfit: 'assert' });
  return { state: restored.state, models: restored.models, bytes: bytes.length };
}

/** What the state holds after the first `k` events. */
function conditions(k: number): { inFlight: number; backoff: number; paused: number; deleted: number; tombstones: number } {
  const s = createEngineState();
  for (let i = 0; i < k; i++) evolve(s, EVENTS[i] as EngineEvent);
  const t = s.tasks;
  let inFlight = 0;
  let backoff = 0;
  let deleted = 0;
  for (let id = 0; id < t.count; id++) {
    if (t.attemptOpen[id] === 1) inFlight++;
    if (t.state[id] === TaskState.Backoff) backoff++;
    if (t.state[id] === TaskState.Deleted) deleted++;
  }
  let tombstones = 0;
  for (const q of s.queues) for (const id of q.names.values()) if (t.state[id] === TaskState.Succeeded || t.state[id] === TaskState.Deleted || t.state[id] === TaskState.Failed) tombstones++;
  return { inFlight, backoff, paused: s.queues.filter((q) => q.paused).length, deleted, tombstones };
}

describe('fold snapshot', () => {
  const full = dump(foldAll(EVENTS));

  it('snapshot + tail = a full replay, state and every read model, at every cut point tried', async () => {
    expect(EVENTS.length).toBeGreaterThan(1000);
    // The comparison sees a difference of one event (it can fail).
    expect(dump(foldAll(EVENTS.slice(0, -1)))).not.toEqual(full);
    const cuts = new Set<number>([0, 1, 2, EVENTS.length - 1, EVENTS.length]);
    for (let i = 1; i < 12; i++) cuts.add(Math.floor((EVENTS.length * i) / 12));
    // A cut with attempts in flight, tasks in backoff, a paused queue, deleted tasks and a tombstone at once.
    let rich = -1;
    for (let k = 1; k < EVENTS.length && rich < 0; k += 7) {
      const c = conditions(k);
      if (c.inFlight > 0 && c.backoff > 0 && c.paused > 0 && c.deleted > 0 && c.tombstones > 0) rich = k;
    }
    expect(rich, 'a cut point with every condition').toBeGreaterThan(0);
    cuts.add(rich);
    for (const k of [...cuts].sort((a, b) => a - b)) {
      const back = await viaSnapshot(k);
      expect(dump({ state: back.state, models: back.models }), `cut after ${k} of ${EVENTS.length} events`).toEqual(full);
    }
  });

  it('the restored read models are live: they go on observing into the restored objects', async () => {
    const k = Math.floor(EVENTS.length / 2);
    const back = await viaSnapshot(k);
    const again = foldAll(EVENTS);
    // The Cloud Tasks API's figures for a task read off the history: the same after the restore.
    const id = Math.floor(back.state.tasks.count / 2);
    expect(back.models.history.lastAttempt(id)).toEqual(again.models.history.lastAttempt(id));
    expect(back.models.counters.of(0)).toEqual(again.models.counters.of(0));
    expect(back.models.stats.report(back.state, { includeIdle: true })).toEqual(again.models.stats.report(again.state, { includeIdle: true }));
  });

  it('is compact: spare capacity of the task table and the projections is not written', async () => {
    const { state, models } = foldAll(EVENTS);
    const bytes = await encodeFoldSnapshot(state, models, HEADER);
    expect(state.tasks.capacity).toBeGreaterThan(state.tasks.count);
    expect(bytes.length).toBeLessThan(200 * EVENTS.length);
    expect(snapshotPosition(bytes)).toBe(EVENTS.length);
  });

  it('refuses with a stable code what it cannot use: torn, corrupt, other versions, another log, a position past the stream', async () => {
    const { state, models } = foldAll(EVENTS.slice(0, 500));
    const good = await encodeFoldSnapshot(state, models, HEADER);
    // The fold moving on after the call does not change the snapshot: it was read at the call.
    const pending = encodeFoldSnapshot(state, models, HEADER);
    fold(EVENTS.slice(500, 600), projectionsOf(models), { state, misfit: 'assert' });
    expect((await pending).equals(good)).toBe(true);
    const code = (f: () => unknown): string => {
      try {
        f();
      } catch (err) {
        expect(err).toBeInstanceOf(SnapshotError);
        return (err as SnapshotError).code;
      }
      return 'decoded';
    };
    expect(code(() => decodeFoldSnapshot(good, HEADER, 500))).toBe('decoded');
    expect(code(() => decodeFoldSnapshot(good.subarray(0, good.length - 3), HEADER, 500))).toBe('SNAPSHOT_UNREADABLE');
    const flipped = Buffer.from(good);
    flipped[flipped.length - 10] = (flipped[flipped.length - 10] as number) ^ 0x40;
    expect(code(() => decodeFoldSnapshot(flipped, HEADER, 500))).toBe('SNAPSHOT_UNREADABLE');
    expect(code(() => decodeFoldSnapshot(Buffer.from('hello'), HEADER, 500))).toBe('SNAPSHOT_UNREADABLE');
    const withHead = (edit: (h: Record<string, unknown>) => void): Buffer => {
      const len = good.readUInt32LE(4);
      const h = JSON.parse(good.toString('utf8', 8, 8 + len)) as Record<string, unknown>;
      edit(h);
      const hb = Buffer.from(JSON.stringify(h));
      const size = Buffer.alloc(4);
      size.writeUInt32LE(hb.length);
      return Buffer.concat([good.subarray(0, 4), size, hb, good.subarray(8 + len)]);
    };
    expect(code(() => decodeFoldSnapshot(withHead((h) => (h['version'] = FOLD_SNAPSHOT_VERSION + 1)), HEADER, 500))).toBe('SNAPSHOT_OTHER_VERSION');
    expect(code(() => decodeFoldSnapshot(withHead((h) => (h['pushqVersion'] = `${PUSHQ_VERSION}-other`)), HEADER, 500))).toBe('SNAPSHOT_OTHER_VERSION');
    expect(code(() => decodeFoldSnapshot(withHead((h) => (h['position'] = 499)), HEADER, 500))).toBe('SNAPSHOT_UNREADABLE');
    expect(code(() => decodeFoldSnapshot(withHead((h) => (h['graphBytes'] = (h['graphBytes'] as number) - 1)), HEADER, 500))).toBe('SNAPSHOT_UNREADABLE');
    expect(code(() => decodeFoldSnapshot(good, TEST_HEADER, 500))).toBe('SNAPSHOT_OTHER_LOG');
    expect(code(() => decodeFoldSnapshot(good, HEADER, 499))).toBe('SNAPSHOT_OTHER_LOG');
  });
});
