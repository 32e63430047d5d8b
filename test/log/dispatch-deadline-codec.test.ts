/** TaskAdded.dispatchDeadlineUs through the codec: written last, read back equal, validated; the fast decoder leaves it to the codec. */
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { decodeEvent, encodeEvent } from '../../src/log/codec.js';
import { fastDecode } from '../../src/log/fast-decode.js';

const e: EngineEvent = { type: 'TaskAdded', t: 1, id: 0, queue: 'q', eta: 1, size: 20, dispatchDeadlineUs: 15_000_000 };

describe('TaskAdded.dispatchDeadlineUs in the log', () => {
  it('round-trips: decode(encode(e)) = e, and encode(decode(line)) = line', () => {
    const line = encodeEvent(e);
    expect(line).toBe('{"type":"TaskAdded","t":1,"id":0,"queue":"q","eta":1,"size":20,"dispatchDeadlineUs":15000000}');
    expect(decodeEvent(line)).toStrictEqual(e);
    expect(encodeEvent(decodeEvent(line))).toBe(line);
  });

  it('the fast decoder falls back (null) rather than dropping the field', () => {
    const line = Buffer.from(encodeEvent(e));
    expect(fastDecode(line, 0, line.length)).toBeNull();
  });

  it.each([-1, 1.5, '15s', null])('refuses dispatchDeadlineUs = %j', (v) => {
    expect(() => decodeEvent(`{"type":"TaskAdded","t":1,"id":0,"queue":"q","eta":1,"size":20,"dispatchDeadlineUs":${JSON.stringify(v)}}`)).toThrow(/dispatchDeadlineUs/);
  });
});
