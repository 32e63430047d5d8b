/**
 * TaskAdded's options (here dispatchDeadlineUs) through the codec: written in the options object,
 * read back equal, validated; the fast decoder leaves them to the codec. A version 1 log wrote
 * them as top-level fields: it still reads to the same event, and appends in its own layout.
 */
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { decodeEvent, encodeEvent } from '../../src/log/codec.js';
import { fastDecode } from '../../src/log/fast-decode.js';

const e: EngineEvent = { type: 'TaskAdded', t: 1, id: 0, queue: 'q', eta: 1, size: 20, options: { dispatchDeadlineUs: 15_000_000 } };
const V1_LINE = '{"type":"TaskAdded","t":1,"id":0,"queue":"q","eta":1,"size":20,"dispatchDeadlineUs":15000000}';

describe('TaskAdded.options.dispatchDeadlineUs in the log', () => {
  it('round-trips: decode(encode(e)) = e, and encode(decode(line)) = line', () => {
    const line = encodeEvent(e);
    expect(line).toBe('{"type":"TaskAdded","t":1,"id":0,"queue":"q","eta":1,"size":20,"options":{"dispatchDeadlineUs":15000000}}');
    expect(decodeEvent(line)).toStrictEqual(e);
    expect(encodeEvent(decodeEvent(line))).toBe(line);
  });

  it('a version 1 line (options as top-level fields) reads to the same event, and a version 1 log gets that line back', () => {
    expect(decodeEvent(V1_LINE, 1)).toStrictEqual(e);
    expect(encodeEvent(e, 1)).toBe(V1_LINE);
    // Each version refuses the other's layout.
    expect(() => decodeEvent(V1_LINE)).toThrow(/TaskAdded: unknown field dispatchDeadlineUs/);
    expect(() => decodeEvent(encodeEvent(e), 1)).toThrow(/TaskAdded: unknown field options/);
  });

  it('the fast decoder falls back (null) rather than dropping the field', () => {
    for (const text of [encodeEvent(e), V1_LINE]) {
      const line = Buffer.from(text);
      expect(fastDecode(line, 0, line.length)).toBeNull();
    }
  });

  it.each([-1, 1.5, '15s', null])('refuses dispatchDeadlineUs = %j', (v) => {
    expect(() => decodeEvent(`{"type":"TaskAdded","t":1,"id":0,"queue":"q","eta":1,"size":20,"options":{"dispatchDeadlineUs":${JSON.stringify(v)}}}`)).toThrow(/field options\.dispatchDeadlineUs is not/);
    expect(() => decodeEvent(`{"type":"TaskAdded","t":1,"id":0,"queue":"q","eta":1,"size":20,"dispatchDeadlineUs":${JSON.stringify(v)}}`, 1)).toThrow(/field dispatchDeadlineUs is not/);
  });

  it('refuses empty options and options with an unknown field: a task without options has none', () => {
    expect(() => decodeEvent('{"type":"TaskAdded","t":1,"id":0,"queue":"q","eta":1,"size":20,"options":{}}')).toThrow(/field options is empty/);
    expect(() => decodeEvent('{"type":"TaskAdded","t":1,"id":0,"queue":"q","eta":1,"size":20,"options":{"x":1}}')).toThrow(/unknown field options\.x/);
    expect(() => encodeEvent({ ...e, options: {} } as EngineEvent)).toThrow(/field options is empty/);
  });
});
