/**
 * Arbitrary events: every type, every optional field, values across their whole valid range
 * (integers up to 2^53 - 1, strings of any graphemes). Shared by the codec laws (log.spec.ts),
 * the fast decoder's (fast-decode.spec.ts) and the memory log's (test/log/memory-log.test.ts).
 *
 * Built from the schema table (src/core/event-schema.ts) with one arbitrary per field kind, so a
 * new field is exercised by every law without touching them, and a new kind fails to compile
 * here until it has an arbitrary.
 */
import fc from 'fast-check';
import { EVENT_SCHEMAS, TASK_OPTION_SCHEMAS, type EngineEventType, type FieldKind, type FieldSchema } from '../../src/core/event-schema.js';
import type { EngineEvent } from '../../src/core/events.js';
import { queueFileConfigArbitrary } from '../../src/testing/arbitraries/queue-config.js';

const uint = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const small = fc.nat({ max: 1e6 });
const text = fc.string({ unit: 'grapheme', maxLength: 20 });
const retry = fc.record({
  task_retry_limit: fc.oneof(fc.constant(null), fc.nat({ max: 100 })),
  task_age_limit_seconds: fc.oneof(fc.constant(null), fc.nat({ max: 1e6 })),
  min_backoff_seconds: fc.double({ min: 0, max: 100, noNaN: true }),
  max_backoff_seconds: fc.double({ min: 0, max: 1e4, noNaN: true }),
  max_doublings: fc.nat({ max: 30 }),
});
const settings = fc.record({
  targets: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), fc.record({ scaling: fc.constantFrom('automatic' as const, 'basic' as const, 'manual' as const), url: fc.webUrl() }, { requiredKeys: ['scaling'] })),
  tombstoneSeconds: small,
});

/** An object of these fields: each required one present, each optional one present or not. */
function recordOf(fields: readonly FieldSchema[], base: Record<string, fc.Arbitrary<unknown>> = {}): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = { ...base };
  for (const f of fields) model[f.name] = KINDS[f.kind];
  return fc.record(model, { requiredKeys: [...Object.keys(base), ...fields.filter((f) => !f.optional).map((f) => f.name)] });
}

const KINDS: Record<FieldKind, fc.Arbitrary<unknown>> = {
  us: uint,
  uint,
  status: fc.oneof(fc.constant(null), fc.integer({ min: 100, max: 599 })),
  queue: text,
  string: text,
  reason: fc.constantFrom('status', 'deadline', 'connection'),
  true: fc.constant(true),
  method: fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
  headers: fc.array(fc.tuple(text, text), { maxLength: 3 }),
  retry,
  config: queueFileConfigArbitrary(),
  settings,
  // A task without options has none, never {}.
  get options() {
    return recordOf(TASK_OPTION_SCHEMAS).filter((o) => Object.keys(o).length > 0);
  },
};

/** Any valid event of any type, with every optional field present or not. */
export const eventArbitrary: fc.Arbitrary<EngineEvent> = fc.oneof(
  ...(Object.entries(EVENT_SCHEMAS) as [EngineEventType, readonly FieldSchema[]][]).map(
    ([type, fields]) => recordOf(fields, { type: fc.constant(type) }) as unknown as fc.Arbitrary<EngineEvent>,
  ),
);
