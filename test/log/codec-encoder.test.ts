/** The generated per-type encoders write exactly the bytes of the reference encoding, for every event a rich run makes. */
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { encodeEvent, encodeEventReference } from '../../src/log/codec.js';
import { richSimulation } from '../helpers/rich-sim.js';

describe('codec encoders', () => {
  it('match JSON.stringify of the schema-ordered fields, byte for byte, for every event type', () => {
    const events = richSimulation(5).events;
    const types = new Set(events.map((e) => e.type));
    expect(types.size).toBeGreaterThanOrEqual(11);
    for (const e of events) expect(encodeEvent(e)).toBe(encodeEventReference(e));
  });

  it('agree on edge values: null status, -0, strings that need escaping, nested objects', () => {
    const cases: EngineEvent[] = [
      { type: 'AttemptFailed', t: 0, id: -0, status: null, reason: 'connection', error: 'refused "x"\n\u2028', latencyUs: 0, retry: 1, delayUs: 100000, retryAt: 100000 },
      { type: 'TaskAdded', t: 5, id: 1, queue: 'q', eta: 9007199254740991, size: 3, options: { name: 'n', url: '/a?b="c"', method: 'PUT', headers: [['X-A', 'é']], body: 'aGk=', bodyBytes: 0, target: 'v.s', retry: { task_retry_limit: null, task_age_limit_seconds: 2, min_backoff_seconds: 0.1, max_backoff_seconds: 3600, max_doublings: 16 }, dispatchDeadlineUs: 15_000_000 } },
      // options built in another key order: the bytes follow the schema, not the object
      { type: 'TaskAdded', t: 5, id: 1, queue: 'q', eta: 1, size: 3, options: { dispatchDeadlineUs: 15_000_000, name: 'n', retry: { task_retry_limit: 1, task_age_limit_seconds: null, min_backoff_seconds: 0.1, max_backoff_seconds: 1, max_doublings: 0 } } },
      { type: 'AttemptDispatched', t: 1, id: 2, forced: true },
    ];
    for (const e of cases) {
      expect(encodeEvent(e)).toBe(encodeEventReference(e));
      expect(encodeEvent(e, 1)).toBe(encodeEventReference(e, 1));
    }
    expect(encodeEvent(cases[2]!)).toBe('{"type":"TaskAdded","t":5,"id":1,"queue":"q","eta":1,"size":3,"options":{"name":"n","retry":{"task_retry_limit":1,"task_age_limit_seconds":null,"min_backoff_seconds":0.1,"max_backoff_seconds":1,"max_doublings":0},"dispatchDeadlineUs":15000000}}');
    expect(encodeEvent(cases[2]!, 1)).toBe('{"type":"TaskAdded","t":5,"id":1,"queue":"q","eta":1,"size":3,"name":"n","retry":{"task_retry_limit":1,"task_age_limit_seconds":null,"min_backoff_seconds":0.1,"max_backoff_seconds":1,"max_doublings":0},"dispatchDeadlineUs":15000000}');
  });

  it('still refuses an invalid event', () => {
    expect(() => encodeEvent({ type: 'TaskDeleted', t: 1.5, id: 2 })).toThrow(/field t/);
  });
});
