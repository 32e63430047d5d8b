/**
 * Laws of the fast event decoder (src/log/fast-decode.ts), against the codec it shortcuts:
 * - for every event the engine can produce, fastDecode(encodeEvent(e)) is exactly the value
 *   checkEvent-validated JSON.parse gives (same keys, same order, same values), and it does take
 *   every line of the types and shapes it handles (it is not just always falling back);
 * - for any other line (mutated bytes, spaces, swapped or extra keys, escapes, 1e3, 01, -0,
 *   numbers past 2^53...) it answers null or that same value, and never accepts a line
 *   JSON.parse + checkEvent rejects.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../src/core/events.js';
import { checkEvent, encodeEvent } from '../src/log/codec.js';
import { ENGINE_EVENT_TYPES, EVENT_SCHEMAS, type FieldKind, type FieldSchema } from '../src/core/event-schema.js';
import { FAST_DECODED_TYPES, fastDecode } from '../src/log/fast-decode.js';
import { runScenario, scenarioArbitrary } from '../src/testing/scenario.js';
import { eventArbitrary } from './helpers/events.js';

const REJECTED = Symbol('rejected');

/** What the reader's slow path gives for a line: the validated JSON.parse value, or REJECTED. */
function reference(bytes: Buffer): unknown {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    return REJECTED;
  }
  return checkEvent(v) === null ? v : REJECTED;
}

/**
 * Runs the fast path on `line`, placed inside a bigger buffer as the reader does (bytes before it,
 * `after` after it), and checks it against the reference. True if the fast path took the line.
 */
function agrees(line: Buffer, after = '\n'): boolean {
  const before = Buffer.from('{"commit":7,"n":1,"crc":"00000000"}\n');
  const buf = Buffer.concat([before, line, Buffer.from(after, 'latin1')]);
  const got = fastDecode(buf, before.length, before.length + line.length);
  if (got === null) return false;
  const want = reference(line);
  expect(want, `fast path accepted a line the codec rejects: ${line.toString('latin1')}`).not.toBe(REJECTED);
  expect(got).toStrictEqual(want);
  expect(Object.keys(got)).toEqual(Object.keys(want as object));
  expect(JSON.stringify(got)).toBe(JSON.stringify(want));
  // What it accepts is canonical: the encoder writes those very bytes back.
  expect(encodeEvent(got)).toBe(line.toString('latin1'));
  return true;
}

const SIMPLE = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/; // printable ASCII without '"' and '\'
/** The kinds the fast path reads; a required field of another kind leaves its type to the codec, an optional one its line. */
const READ_KINDS: ReadonlySet<FieldKind> = new Set(['us', 'uint', 'status', 'reason', 'queue', 'string', 'true']);

/** Whether the fast path is meant to take this event's line, from the schema (the types and shapes it handles). */
function handled(e: EngineEvent): boolean {
  const o = e as unknown as Record<string, unknown>;
  return EVENT_SCHEMAS[e.type].every((f: FieldSchema) => {
    const v = o[f.name];
    if (!READ_KINDS.has(f.kind)) return f.optional && v === undefined;
    return typeof v !== 'string' || SIMPLE.test(v);
  });
}

// Events of the handled shapes, with values at the edges: 0, one digit, 2^53 - 1, simple names.
const edgeUint = fc.oneof(fc.constantFrom(0, 1, 9, 10, 99, 100, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1, 2 ** 52), fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.nat({ max: 1000 }));
const simpleText = fc.stringMatching(/^[\x20-\x21\x23-\x5b\x5d-\x7e]{0,12}$/);
const edgeStatus = fc.oneof(fc.constant(null), edgeUint);
const reason = fc.constantFrom('status' as const, 'deadline' as const, 'connection' as const);
const handledEventArbitrary: fc.Arbitrary<EngineEvent> = fc.oneof(
  fc.record({ type: fc.constant('TaskAdded' as const), t: edgeUint, id: edgeUint, queue: simpleText, eta: edgeUint, size: edgeUint }),
  fc.record({ type: fc.constant('AttemptDispatched' as const), t: edgeUint, id: edgeUint, forced: fc.constant(true as const) }, { requiredKeys: ['type', 't', 'id'] }),
  fc.record({ type: fc.constant('AttemptSucceeded' as const), t: edgeUint, id: edgeUint, status: edgeUint, latencyUs: edgeUint }),
  fc.record(
    { type: fc.constant('AttemptFailed' as const), t: edgeUint, id: edgeUint, status: edgeStatus, reason, error: simpleText, latencyUs: edgeUint, retry: edgeUint, delayUs: edgeUint, retryAt: edgeUint },
    { requiredKeys: ['type', 't', 'id', 'status', 'reason', 'latencyUs', 'retry', 'delayUs', 'retryAt'] },
  ),
  fc.record({ type: fc.constant('TaskGaveUp' as const), t: edgeUint, id: edgeUint, status: edgeStatus, reason, error: simpleText, latencyUs: edgeUint }, { requiredKeys: ['type', 't', 'id', 'status', 'reason', 'latencyUs'] }),
  fc.record({ type: fc.constantFrom('BackoffElapsed' as const, 'TaskDeleted' as const), t: edgeUint, id: edgeUint }),
  fc.record({ type: fc.constant('AttemptOrphaned' as const), t: edgeUint, id: edgeUint, status: edgeStatus, latencyUs: edgeUint }),
  fc.record({ type: fc.constantFrom('QueuePaused' as const, 'QueueResumed' as const, 'QueuePurged' as const), t: edgeUint, queue: simpleText }),
);

// Suffixes that would extend the line if the decoder read past its end.
const after = fc.constantFrom('\n', '\n{"type":"TaskDeleted","t":1,"id":2}', '0\n', '}\n', ',"forced":true}\n', '"\n', '');

describe('fast event decoder', () => {
  it('is made for every type whose required fields it can read, and no other', () => {
    const readable = ENGINE_EVENT_TYPES.filter((t) => EVENT_SCHEMAS[t].every((f: FieldSchema) => f.optional || READ_KINDS.has(f.kind)));
    expect(FAST_DECODED_TYPES).toEqual(readable);
    // Written out, so a change to the list shows in review.
    expect(FAST_DECODED_TYPES).toEqual([
      'TaskAdded', 'AttemptDispatched', 'AttemptSucceeded', 'AttemptFailed', 'TaskGaveUp', 'BackoffElapsed', 'AttemptOrphaned', 'TaskDeleted', 'QueuePaused', 'QueueResumed', 'QueuePurged', 'ServiceStarted',
    ]);
  });

  it('takes every line of the shapes it handles, giving exactly what JSON.parse + checkEvent give; other lines fall back', () => {
    let fast = 0;
    fc.assert(
      fc.property(fc.oneof(eventArbitrary, handledEventArbitrary), after, (e, tail) => {
        const took = agrees(Buffer.from(encodeEvent(e)), tail);
        expect(took, `${encodeEvent(e)}: fast path ${took ? 'took' : 'left'} it`).toBe(handled(e));
        if (took) fast++;
      }),
      { numRuns: 2000 },
    );
    expect(fast).toBeGreaterThan(500);
  });

  it('the same for every event of generated simulations', () => {
    let fast = 0;
    fc.assert(
      fc.property(scenarioArbitrary({ maxQueues: 3, maxTasks: 40 }), (scenario) => {
        const { sim } = runScenario(scenario);
        for (const e of sim.events) {
          const took = agrees(Buffer.from(encodeEvent(e)));
          expect(took, `${encodeEvent(e)}: fast path ${took ? 'took' : 'left'} it`).toBe(handled(e));
          if (took) fast++;
        }
      }),
      { numRuns: 40 },
    );
    expect(fast).toBeGreaterThan(100);
  });

  // Replacements for a whole number in a line: none is the canonical form of a safe integer.
  const oddNumbers = ['1e3', '1E3', '01', '00', '-0', '-1', '1.0', '0.5', '0e0', '9007199254740992', '9007199254740993', '99999999999999999', '1234567890123456789012', ' 1', '1 ', '+1', '0x1', 'null', 'true', '"1"'];

  /** Mutations of a valid line, each a plausible way a line could differ from the encoder's bytes. */
  const mutated = (line: string): fc.Arbitrary<Buffer> => {
    const bytes = Buffer.from(line);
    const at = fc.nat({ max: bytes.length - 1 });
    const anyByte = fc.oneof(fc.constantFrom(...Buffer.from('0123456789",:{}[] \\-.eEnul+tT\t\r\n')), fc.nat({ max: 255 }));
    const o = JSON.parse(line) as Record<string, unknown>;
    const keys = Object.keys(o);
    return fc.oneof(
      // one byte replaced, dropped, or inserted
      fc.tuple(at, anyByte).map(([i, c]) => Buffer.from(bytes).fill(c, i, i + 1)),
      at.map((i) => Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)])),
      fc.tuple(fc.nat({ max: bytes.length }), anyByte).map(([i, c]) => Buffer.concat([bytes.subarray(0, i), Buffer.from([c]), bytes.subarray(i)])),
      // whitespace anywhere
      fc.tuple(fc.nat({ max: bytes.length }), fc.constantFrom(' ', '\t', '\r', '  ')).map(([i, ws]) => Buffer.concat([bytes.subarray(0, i), Buffer.from(ws), bytes.subarray(i)])),
      // cut short
      at.map((i) => bytes.subarray(0, i)),
      // two keys swapped (the values stay valid, only the order changes)
      fc.tuple(fc.nat({ max: keys.length - 1 }), fc.nat({ max: keys.length - 1 })).map(([i, j]) => {
        const k = [...keys];
        [k[i], k[j]] = [k[j]!, k[i]!];
        return Buffer.from(`{${k.map((key) => `${JSON.stringify(key)}:${JSON.stringify(o[key])}`).join(',')}}`);
      }),
      // an extra key, at the end or in the middle; a key written twice
      fc.tuple(fc.constantFrom('x', 'forced', 'error', 'name', 'id', 't', 'type'), fc.constantFrom('1', 'true', '"a"', 'null'), fc.nat({ max: keys.length })).map(([key, value, i]) => {
        const parts = keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(o[k])}`);
        parts.splice(i, 0, `"${key}":${value}`);
        return Buffer.from(`{${parts.join(',')}}`);
      }),
      // a key left out
      fc.nat({ max: keys.length - 1 }).map((i) => Buffer.from(`{${keys.filter((_, j) => j !== i).map((k) => `${JSON.stringify(k)}:${JSON.stringify(o[k])}`).join(',')}}`)),
      // an escape in a string (same value for JSON.parse, other bytes), or in a key
      fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.constantFrom('u', '/')).map(([i, how]) => {
        let q = line.indexOf('"', i);
        if (q < 0) q = line.indexOf('"');
        const c = line[q + 1] ?? 'a';
        if (c === '"' || c === '\\') return bytes;
        const esc = how === 'u' ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c === '/' ? '\\/' : c;
        return Buffer.from(line.slice(0, q + 1) + esc + line.slice(q + 2));
      }),
      // a string value replaced by a near miss (or by another valid one: then the line is still an event)
      fc.tuple(fc.nat({ max: keys.length - 1 }), fc.constantFrom('', 'x', 'stat', 'statusX', 'Status', 'deadline', 'connectio', 'TaskAdde', 'TaskAddedX', 'AttemptFailed', 'TaskDeleted', 'BackoffElapsedd', 'q0')).map(([i, v]) => {
        const strings = keys.filter((key) => typeof o[key] === 'string');
        const k = strings[i % strings.length];
        return Buffer.from(`{${keys.map((key) => `${JSON.stringify(key)}:${JSON.stringify(key === k ? v : o[key])}`).join(',')}}`);
      }),
      // a number written another way
      fc.tuple(fc.nat({ max: keys.length - 1 }), fc.constantFrom(...oddNumbers)).map(([i, n]) => {
        const numeric = keys.filter((key) => typeof o[key] === 'number' || o[key] === null);
        const k = numeric[i % numeric.length];
        if (k === undefined) return bytes;
        return Buffer.from(`{${keys.map((key) => `${JSON.stringify(key)}:${key === k ? n : JSON.stringify(o[key])}`).join(',')}}`);
      }),
    );
  };

  it('mutated lines: null, or exactly what JSON.parse + checkEvent give (never a line they reject)', () => {
    let fast = 0;
    let total = 0;
    fc.assert(
      fc.property(
        handledEventArbitrary.chain((e) => mutated(encodeEvent(e))),
        after,
        (line, tail) => {
          total++;
          if (agrees(line, tail)) fast++;
        },
      ),
      { numRuns: 4000 },
    );
    // Some mutations keep a valid canonical line (a digit changed): those are taken, the rest left.
    expect(fast).toBeGreaterThan(0);
    expect(fast).toBeLessThan(total);
  });

  it('examples: the encoder layout is taken, anything else is left to JSON.parse', () => {
    const take = (s: string): unknown => {
      const b = Buffer.from(s);
      return fastDecode(b, 0, b.length);
    };
    expect(take('{"type":"AttemptDispatched","t":123,"id":5}')).toStrictEqual({ type: 'AttemptDispatched', t: 123, id: 5 });
    expect(take('{"type":"AttemptDispatched","t":0,"id":0,"forced":true}')).toStrictEqual({ type: 'AttemptDispatched', t: 0, id: 0, forced: true });
    expect(take('{"type":"TaskAdded","t":1,"id":2,"queue":"q0","eta":3,"size":17}')).toStrictEqual({ type: 'TaskAdded', t: 1, id: 2, queue: 'q0', eta: 3, size: 17 });
    expect(take('{"type":"AttemptFailed","t":1,"id":2,"status":null,"reason":"connection","error":"ECONNREFUSED","latencyUs":0,"retry":1,"delayUs":100000,"retryAt":100001}')).toStrictEqual({
      type: 'AttemptFailed', t: 1, id: 2, status: null, reason: 'connection', error: 'ECONNREFUSED', latencyUs: 0, retry: 1, delayUs: 100000, retryAt: 100001,
    });
    expect(take('{"type":"TaskDeleted","t":9007199254740991,"id":2}')).toStrictEqual({ type: 'TaskDeleted', t: Number.MAX_SAFE_INTEGER, id: 2 });
    expect(take('{"type":"QueuePaused","t":1,"queue":"q0"}')).toStrictEqual({ type: 'QueuePaused', t: 1, queue: 'q0' });
    expect(take('{"type":"QueuePurged","t":1,"queue":"q0"}')).toStrictEqual({ type: 'QueuePurged', t: 1, queue: 'q0' });
    expect(take('{"type":"QueuePurged","t":1,"queue":"q0","forgetNames":true,"refillBucket":true}')).toStrictEqual({ type: 'QueuePurged', t: 1, queue: 'q0', forgetNames: true, refillBucket: true });
    // Queue names are cached by a hash of their bytes: names that collide ("Aa" and "BB" for a
    // 31-polynomial) still come back as themselves.
    expect(take('{"type":"TaskAdded","t":1,"id":2,"queue":"Aa","eta":3,"size":17}')).toMatchObject({ queue: 'Aa' });
    expect(take('{"type":"TaskAdded","t":1,"id":2,"queue":"BB","eta":3,"size":17}')).toMatchObject({ queue: 'BB' });
    expect(take('{"type":"TaskAdded","t":1,"id":2,"queue":"Aa","eta":3,"size":17}')).toMatchObject({ queue: 'Aa' });
    for (const s of [
      '{"type":"TaskDeleted","t":9007199254740992,"id":2}',
      '{"type":"TaskDeleted","t":01,"id":2}',
      '{"type":"TaskDeleted","t":-0,"id":2}',
      '{"type":"TaskDeleted","t":1e3,"id":2}',
      '{"type":"TaskDeleted","t":1.0,"id":2}',
      '{"type":"TaskDeleted","t":1, "id":2}',
      '{"type":"TaskDeleted","id":2,"t":1}',
      '{"type":"TaskDeleted","t":1,"id":2,"x":3}',
      '{"type":"TaskDeleted","t":1,"id":2} ',
      '{"type":"TaskAdded","t":1,"id":2,"queue":"q\\u0030","eta":3,"size":17}',
      '{"type":"TaskAdded","t":1,"id":2,"queue":"q0","eta":3,"size":17,"name":"n"}',
      '{"type":"AttemptFailed","t":1,"id":2,"status":null,"reason":"other","latencyUs":0,"retry":1,"delayUs":1,"retryAt":2}',
      '{"type":"TaskAdded","t":1,"id":2,"queue":"q0","eta":3,"size":17,"options":{"name":"n"}}',
      '{"type":"QueuePaused","t":1,"queue":"q0","x":1}',
      '{"type":"QueuePause","t":1,"queue":"q0"}',
      '{"type":"QueuePausedX","t":1,"queue":"q0"}',
      '{"type":"ConfigApplied","t":1,"config":{},"settings":{}}',
    ]) {
      expect(take(s), s).toBeNull();
    }
  });
});
