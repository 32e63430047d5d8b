/**
 * Laws of the durable log:
 * - decode(encode(e)) = e for every event, and the encoding does not depend on key order;
 * - replay(file log) = live state, for generated runs, whatever the batch boundaries;
 * - snapshot at any batch + the events after it = a full replay (stateLines equal).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../src/core/events.js';
import { evolve, createEngineState } from '../src/core/state.js';
import { decodeEvent, encodeEvent } from '../src/log/codec.js';
import { createFileEventLogSync, readEventLogFile } from '../src/log/file-log.js';
import { scanEventLog, type LogPosition } from '../src/log/log-reader.js';
import { replay, stateLines } from '../src/log/replay.js';
import { loadWithSnapshot, writeSnapshotFile } from '../src/log/snapshot.js';
import { EVENT_SCHEMAS, TASK_OPTION_SCHEMAS } from '../src/log/schemas.js';
import { encodeMarker, markerRead, parseMarker, parseMarkerBytes } from '../src/log/log-format.js';
import { runScenario, scenarioArbitrary } from '../src/testing/scenario.js';
import { eventArbitrary } from './helpers/events.js';

const dir = mkdtempSync(join(tmpdir(), 'pushq-log-spec-'));

describe('codec', () => {
  it('decode(encode(e)) = e for every event, and bytes do not depend on key order', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(eventArbitrary, fc.boolean(), (e, reverse) => {
        seen.add(e.type);
        const line = encodeEvent(e);
        expect(decodeEvent(line)).toEqual(e);
        expect(encodeEvent(decodeEvent(line))).toBe(line);
        // The same event built with its keys in another order encodes to the same bytes.
        const entries = Object.entries(e);
        const shuffled = Object.fromEntries(reverse ? entries.reverse() : [entries[0]!, ...entries.slice(1).sort(([a], [b]) => (a < b ? -1 : 1))]) as unknown as EngineEvent;
        expect(encodeEvent(shuffled)).toBe(line);
        // Key order on disk is the schema's, a task's options included.
        expect(Object.keys(JSON.parse(line))).toEqual(['type', ...EVENT_SCHEMAS[e.type].map((f) => f.name).filter((k) => (e as unknown as Record<string, unknown>)[k] !== undefined)]);
        if (e.type === 'TaskAdded' && e.options !== undefined) {
          const options = e.options as Record<string, unknown>;
          expect(Object.keys(JSON.parse(line).options)).toEqual(TASK_OPTION_SCHEMAS.map((f) => f.name).filter((k) => options[k] !== undefined));
          const reversed = { ...e, options: Object.fromEntries(Object.entries(options).reverse()) } as EngineEvent;
          expect(encodeEvent(reversed)).toBe(line);
        }
        // A log of format version 1 (options as top-level fields) reads back the same event, in its own bytes.
        const v1 = encodeEvent(e, 1);
        expect(decodeEvent(v1, 1)).toEqual(e);
        expect(encodeEvent(decodeEvent(v1, 1), 1)).toBe(v1);
        if (e.type !== 'TaskAdded' || e.options === undefined) expect(v1).toBe(line);
      }),
      { numRuns: 600 },
    );
    expect(seen.size).toBe(Object.keys(EVENT_SCHEMAS).length);
  });

  it('commit markers: parseMarkerBytes reads back exactly what encodeMarker wrote, and nothing else', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: 1e9 }), fc.nat({ max: 0xffffffff }), (batch, n, crc) => {
        const line = Buffer.from(encodeMarker(batch, n, crc));
        expect(parseMarkerBytes(line, 0, line.length)).toBe(true);
        expect({ ...markerRead }).toEqual({ commit: batch, n, crc });
        expect(parseMarker(line.toString())).toEqual({ commit: batch, n, crc: crc.toString(16).padStart(8, '0') });
        // Any one byte changed or dropped: not a marker, or a different one.
        const changed = Buffer.from(line);
        const at = (batch + n) % line.length;
        changed[at] = changed[at] === 0x31 ? 0x32 : 0x31;
        if (parseMarkerBytes(changed, 0, changed.length)) expect({ ...markerRead }).not.toEqual({ commit: batch, n, crc });
        expect(parseMarkerBytes(line, 0, line.length - 1)).toBe(false);
      }),
      { numRuns: 300 },
    );
    const b = Buffer.from('{"commit":01,"n":1,"crc":"00000000"}');
    expect(parseMarkerBytes(b, 0, b.length)).toBe(false);
  });

  it('decode rejects what is not an event (the check can fail)', () => {
    expect(() => decodeEvent('{"type":"TaskDeleted","t":1}')).toThrow(/missing field id/);
    expect(() => decodeEvent('{"type":"TaskDeleted","t":1,"id":2,"x":3}')).toThrow(/unknown field x/);
    expect(() => decodeEvent('{"type":"Nope","t":1}')).toThrow(/unknown event type/);
    expect(() => decodeEvent('{"type":"AttemptFailed","t":1,"id":2,"status":null,"reason":"bad","latencyUs":1,"retry":1,"delayUs":1,"retryAt":2}')).toThrow(/reason/);
    expect(() => decodeEvent('{"type":"TaskDeleted","t":1.5,"id":2}')).toThrow(/field t/);
  });
});

/** Writes `events` to a new file log, cutting batches where `cuts` says; returns the path and the batch ends. */
function writeLog(events: EngineEvent[], batchSizes: number[], seed: number): { path: string; batchEnds: LogPosition[] } {
  const path = join(dir, `spec-${Math.random().toString(36).slice(2)}.jsonl`);
  const log = createFileEventLogSync(path, { format: 'pushq-events', version: 1, pushqVersion: '0.1.0', seed, clock: 'virtual', configHash: '00' }, { durable: false });
  const batchEnds: LogPosition[] = [];
  let i = 0;
  let k = 0;
  while (i < events.length) {
    const size = batchSizes.length === 0 ? 1 : (batchSizes[k++ % batchSizes.length] as number);
    for (let j = 0; j < size && i < events.length; j++) log.append(events[i++] as EngineEvent);
    log.commit();
    batchEnds.push(log.position());
  }
  void log.close();
  return { path, batchEnds };
}

describe('file log', () => {
  it('replay(file log) = live state, for generated runs and any batch boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary({ maxQueues: 2, maxTasks: 40 }), fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 5 }), async (scenario, sizes) => {
        const { sim } = runScenario(scenario);
        const { path } = writeLog(sim.events, sizes, scenario.seed);
        const r = await readEventLogFile(path);
        expect(r.recovered.droppedBytes).toBe(0);
        expect(stateLines(replay(r.events))).toEqual(stateLines(sim.state));
        rmSync(path);
      }),
      { numRuns: 30 },
    );
  });

  it('a log cut at any byte offset recovers the state of the complete batches before the cut', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary({ maxQueues: 2, maxTasks: 30 }), fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 4 }), fc.double({ min: 0, max: 1, noNaN: true }), async (scenario, sizes, fraction) => {
        const { sim } = runScenario(scenario);
        const { path, batchEnds } = writeLog(sim.events, sizes, scenario.seed);
        const bytes = readFileSync(path);
        const headerEnd = bytes.indexOf(0x0a) + 1;
        const cut = headerEnd + Math.floor(fraction * (bytes.length - headerEnd));
        writeFileSync(path, bytes.subarray(0, cut));
        const r = await readEventLogFile(path);
        const complete = batchEnds.filter((b) => b.offset <= cut);
        const k = complete.length === 0 ? 0 : complete[complete.length - 1]!.events;
        expect(r.events.length).toBe(k);
        expect(r.recovered.droppedBytes).toBe(cut - (complete.length === 0 ? headerEnd : complete[complete.length - 1]!.offset));
        expect(stateLines(replay(r.events))).toEqual(stateLines(replay(sim.events.slice(0, k))));
        rmSync(path);
      }),
      { numRuns: 40 },
    );
  });

  it('snapshot at any batch + the events after it = full replay', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 2, maxTasks: 40 }), fc.double({ min: 0, max: 1, noNaN: true }), (scenario, fraction) => {
        const { sim } = runScenario(scenario);
        const { path, batchEnds } = writeLog(sim.events, [1, 2, 3], scenario.seed);
        const at = batchEnds[Math.floor(fraction * (batchEnds.length - 1))] as LogPosition;
        // The state after the batch `at`, rebuilt by a scan, written as a snapshot.
        const state = createEngineState();
        let header = null as null | Parameters<typeof writeSnapshotFile>[2];
        scanEventLog(path, {}, {
          onHeader: (h) => { header = h; },
          onEvent: (e, i) => { if (i < at.events) evolve(state, e); },
        });
        const snap = `${path}.snap`;
        writeSnapshotFile(snap, path, header!, state, at);
        const loaded = loadWithSnapshot(snap, path);
        expect(loaded.tailEvents).toBe(sim.events.length - at.events);
        expect(stateLines(loaded.state)).toEqual(stateLines(sim.state));
        rmSync(path);
        rmSync(snap);
      }),
      { numRuns: 30 },
    );
  });
});
