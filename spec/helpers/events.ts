/**
 * Arbitrary events: every type, every optional field, values across their whole valid range
 * (integers up to 2^53 - 1, strings of any graphemes). Shared by the codec laws (log.spec.ts) and
 * the fast decoder's (fast-decode.spec.ts).
 */
import fc from 'fast-check';
import type { EngineEvent } from '../../src/core/events.js';
import { queueFileConfigArbitrary } from '../../src/testing/arbitraries/queue-config.js';

const uint = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const small = fc.nat({ max: 1e6 });
const status = fc.oneof(fc.constant(null), fc.integer({ min: 100, max: 599 }));
const reason = fc.constantFrom('status' as const, 'deadline' as const, 'connection' as const);
const text = fc.string({ unit: 'grapheme', maxLength: 20 });
const retry = fc.record({
  task_retry_limit: fc.oneof(fc.constant(null), fc.nat({ max: 100 })),
  task_age_limit_seconds: fc.oneof(fc.constant(null), fc.nat({ max: 1e6 })),
  min_backoff_seconds: fc.double({ min: 0, max: 100, noNaN: true }),
  max_backoff_seconds: fc.double({ min: 0, max: 1e4, noNaN: true }),
  max_doublings: fc.nat({ max: 30 }),
});

/** Any valid event of any type, with every optional field present or not. */
export const eventArbitrary: fc.Arbitrary<EngineEvent> = fc.oneof(
  fc.record({
    type: fc.constant('ConfigApplied' as const), t: uint, config: queueFileConfigArbitrary(),
    settings: fc.record({ targets: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), fc.record({ scaling: fc.constantFrom('automatic' as const, 'basic' as const, 'manual' as const), url: fc.webUrl() }, { requiredKeys: ['scaling'] })), tombstoneSeconds: small }),
  }),
  fc.record(
    {
      type: fc.constant('TaskAdded' as const), t: uint, id: uint, queue: text, eta: uint, size: small,
      options: fc.record(
        {
          name: text, url: text, method: fc.constantFrom('GET' as const, 'POST' as const, 'PUT' as const), headers: fc.array(fc.tuple(text, text), { maxLength: 3 }),
          body: fc.base64String({ maxLength: 40 }), bodyBytes: small, target: text, retry, dispatchDeadlineUs: uint,
        },
        { requiredKeys: [] },
      ).filter((o) => Object.keys(o).length > 0), // a task without options has none, never {}
    },
    { requiredKeys: ['type', 't', 'id', 'queue', 'eta', 'size'] },
  ),
  fc.record({ type: fc.constant('AttemptDispatched' as const), t: uint, id: uint, forced: fc.constant(true as const) }, { requiredKeys: ['type', 't', 'id'] }),
  fc.record({ type: fc.constant('AttemptSucceeded' as const), t: uint, id: uint, status: fc.integer({ min: 200, max: 299 }), latencyUs: uint }),
  fc.record(
    { type: fc.constant('AttemptFailed' as const), t: uint, id: uint, status, reason, error: text, latencyUs: uint, retry: small, delayUs: uint, retryAt: uint },
    { requiredKeys: ['type', 't', 'id', 'status', 'reason', 'latencyUs', 'retry', 'delayUs', 'retryAt'] },
  ),
  fc.record({ type: fc.constant('TaskGaveUp' as const), t: uint, id: uint, status, reason, error: text, latencyUs: uint }, { requiredKeys: ['type', 't', 'id', 'status', 'reason', 'latencyUs'] }),
  fc.record({ type: fc.constant('BackoffElapsed' as const), t: uint, id: uint }),
  fc.record({ type: fc.constant('AttemptOrphaned' as const), t: uint, id: uint, status, latencyUs: uint }),
  fc.record({ type: fc.constant('TaskDeleted' as const), t: uint, id: uint }),
  fc.record({ type: fc.constantFrom('QueuePaused' as const, 'QueueResumed' as const, 'QueuePurged' as const), t: uint, queue: text }),
);
