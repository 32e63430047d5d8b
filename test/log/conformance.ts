/**
 * One conformance suite for every EventLog implementation (memory and file): what the kernel
 * relies on. `makeLog` gives a fresh log and a way to read back what it holds after close.
 */
import { describe, expect, test } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION, type EventLog, type LogHeader } from '../../src/log/event-log.js';
import { replay, stateDigest } from '../../src/log/replay.js';
import { richSimulation } from '../helpers/rich-sim.js';

export interface LogUnderTest {
  log: EventLog;
  /** Events in complete batches, with each batch's length, after close. */
  readBack: () => Promise<{ events: EngineEvent[]; batchSizes: number[] }>;
}

export type MakeLog = (header: LogHeader) => LogUnderTest;

export const TEST_HEADER: LogHeader = { format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: '0.1.0', seed: 3, clock: 'virtual', configHash: 'ab'.repeat(32) };

const paused = (t: number, queue: string): EngineEvent => ({ type: 'QueuePaused', t, queue });

export function eventLogConformance(name: string, makeLog: MakeLog): void {
  describe(`EventLog conformance: ${name}`, () => {
    test('keeps events in append order, in the batches commit() made', async () => {
      const { log, readBack } = makeLog(TEST_HEADER);
      expect(log.header).toEqual(TEST_HEADER);
      log.append(paused(1, 'a'));
      log.append(paused(2, 'b'));
      log.commit();
      log.append(paused(3, 'c'));
      log.commit();
      log.commit(); // an empty commit makes no batch
      log.append(paused(4, 'd'));
      log.append(paused(5, 'e'));
      log.append(paused(6, 'f'));
      log.commit();
      await log.flush();
      await log.close();
      const back = await readBack();
      expect(back.events.map((e) => e.t)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(back.batchSizes).toEqual([2, 1, 3]);
    });

    test('flush resolves, and can be called many times, overlapping', async () => {
      const { log, readBack } = makeLog(TEST_HEADER);
      const flushes: Promise<void>[] = [];
      for (let i = 0; i < 20; i++) {
        log.append(paused(i, 'q'));
        log.commit();
        flushes.push(log.flush());
      }
      await Promise.all(flushes);
      await log.close();
      expect((await readBack()).events).toHaveLength(20);
    });

    test('a simulation run through this log gives the events and state of one through the memory log', async () => {
      const reference = richSimulation(11);
      let under: LogUnderTest | undefined;
      const sim = richSimulation(11, (header) => {
        under = makeLog(header);
        return under.log;
      });
      await sim.kernel.log.close();
      const { events } = await (under as LogUnderTest).readBack();
      const expected = reference.events;
      expect(events.length).toBe(expected.length);
      expect(events.map((e) => JSON.stringify(e))).toEqual(expected.map((e) => JSON.stringify(e)));
      expect(stateDigest(replay(events))).toBe(stateDigest(sim.state));
    });
  });
}
