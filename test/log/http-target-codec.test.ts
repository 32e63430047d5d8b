/**
 * The log fields HTTP targets and the test reset added (TaskAdded.options.httpUrl and its token
 * fields; QueuePurged.forgetNames and refillBucket) through the codec: written, read back equal, in both format
 * versions' layouts; and a log written before them still reads (they are optional).
 */
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { decodeEvent, encodeEvent } from '../../src/log/codec.js';

const http: EngineEvent = {
  type: 'TaskAdded', t: 1, id: 0, queue: 'hooks', eta: 1, size: 40,
  options: { name: 'h', method: 'PUT', httpUrl: 'http://127.0.0.1:8080/hook', oidcServiceAccount: 'sa@p.iam.gserviceaccount.com', oidcAudience: 'https://w.example' },
};
const oauth: EngineEvent = { type: 'TaskAdded', t: 1, id: 1, queue: 'hooks', eta: 1, size: 40, options: { httpUrl: 'https://api.internal/x', oauthServiceAccount: 'sa@p.iam.gserviceaccount.com', oauthScope: 's' } };
const reset: EngineEvent = { type: 'QueuePurged', t: 5, queue: 'hooks', forgetNames: true };
const refilled: EngineEvent = { type: 'QueuePurged', t: 5, queue: 'hooks', forgetNames: true, refillBucket: true };

describe('HTTP target options and the reset flag in the log', () => {
  it.each([http, oauth, reset, refilled])('round-trip in version 2 and version 1: %j', (e) => {
    expect(decodeEvent(encodeEvent(e))).toStrictEqual(e);
    expect(decodeEvent(encodeEvent(e, 1), 1)).toStrictEqual(e);
  });

  it('a purge without the flag is the line it always was', () => {
    expect(encodeEvent({ type: 'QueuePurged', t: 5, queue: 'q' })).toBe('{"type":"QueuePurged","t":5,"queue":"q"}');
    expect(encodeEvent(reset)).toBe('{"type":"QueuePurged","t":5,"queue":"hooks","forgetNames":true}');
    expect(encodeEvent(refilled)).toBe('{"type":"QueuePurged","t":5,"queue":"hooks","forgetNames":true,"refillBucket":true}');
  });

  it('refuses a wrong type in the new fields', () => {
    expect(() => decodeEvent('{"type":"QueuePurged","t":5,"queue":"q","forgetNames":false}')).toThrow(/forgetNames/);
    expect(() => decodeEvent('{"type":"QueuePurged","t":5,"queue":"q","refillBucket":1}')).toThrow(/refillBucket/);
    expect(() => decodeEvent('{"type":"TaskAdded","t":1,"id":0,"queue":"q","eta":1,"size":1,"options":{"httpUrl":5}}')).toThrow(/httpUrl/);
  });
});
