/**
 * The one "resend or mark not taken" rule of a cluster node's fronts (src/cluster/not-taken.ts),
 * which the REST router and the gRPC front both follow: a call that surely reached no queue's
 * service may be sent once more to the owner read again from the store; one that may have
 * arrived is never sent again (a create whose answer was lost may have been taken).
 */
import { describe, expect, it } from 'vitest';
import { fateOf, sendToOwner, surelyNotTaken, type HopFate } from '../../src/cluster/not-taken.js';

/** A call whose owner is `before` until the owners are read again, then `after`; each send gives the next of `fates`. */
function scripted(opts: { forwarded?: boolean; before: string | undefined; after: string | undefined; fates: HopFate[] }) {
  const log: string[] = [];
  let place = opts.before;
  let sends = 0;
  const call = {
    forwarded: opts.forwarded ?? false,
    place: () => place,
    samePlace: (a: string, b: string) => a === b,
    send: async (to: string, resent: boolean) => {
      log.push(`send ${to}${resent ? ' (resent)' : ''}`);
      return { to, fate: opts.fates[sends++] ?? ('may-have-arrived' as HopFate) };
    },
    fate: (out: { fate: HopFate }) => out.fate,
    refresh: async () => {
      log.push('refresh');
      place = opts.after;
    },
  };
  return { call, log };
}

describe('a forward’s fate', () => {
  it('is "not taken" only when nothing was sent or the call was refused before any work', () => {
    expect(surelyNotTaken('never-sent')).toBe(true);
    expect(surelyNotTaken('refused-before-work')).toBe(true);
    expect(surelyNotTaken('may-have-arrived')).toBe(false);
  });

  it('reads a refusal before any work first, an answer as it is before the transport’s "nothing left"', () => {
    const f = (refusedBeforeWork: boolean, speaksForItself: boolean, neverSent: boolean) => fateOf({ refusedBeforeWork, speaksForItself, neverSent });
    expect(f(true, true, false)).toBe('refused-before-work'); // the owner's marked refusal
    expect(f(true, false, false)).toBe('refused-before-work'); // a queue's service here SHUTTING_DOWN
    expect(f(false, true, true)).toBe('may-have-arrived'); // an answer of the owner's own, whatever its text
    expect(f(false, true, false)).toBe('may-have-arrived');
    expect(f(false, false, true)).toBe('never-sent'); // no connection could be made
    expect(f(false, false, false)).toBe('may-have-arrived'); // sent, then the connection dropped or a deadline
  });
});

describe('sending a call to its queue’s owner', () => {
  it('never resends a call that may have arrived, nor reads the owners again for it', async () => {
    const { call, log } = scripted({ before: 'a', after: 'b', fates: ['may-have-arrived'] });
    expect(await sendToOwner(call)).toEqual({ to: 'a', fate: 'may-have-arrived' });
    expect(log).toEqual(['send a']);
  });

  for (const fate of ['never-sent', 'refused-before-work'] as const) {
    it(`sends a ${fate} call once more to the owner read again, and only once`, async () => {
      const { call, log } = scripted({ before: 'a', after: 'b', fates: [fate, fate] });
      expect(await sendToOwner(call)).toEqual({ to: 'b', fate });
      expect(log).toEqual(['send a', 'refresh', 'send b (resent)']);
    });
  }

  it('does not resend to the place that just failed it, nor when no owner is known after reading again', async () => {
    const same = scripted({ before: 'a', after: 'a', fates: ['never-sent'] });
    expect(await sendToOwner(same.call)).toEqual({ to: 'a', fate: 'never-sent' });
    expect(same.log).toEqual(['send a', 'refresh']);
    const gone = scripted({ before: 'a', after: undefined, fates: ['refused-before-work'] });
    expect(await sendToOwner(gone.call)).toEqual({ to: 'a', fate: 'refused-before-work' });
    expect(gone.log).toEqual(['send a', 'refresh']);
  });

  it('reads the owners again when none was known, and sends to the one found', async () => {
    const found = scripted({ before: undefined, after: 'b', fates: ['may-have-arrived'] });
    expect(await sendToOwner(found.call)).toEqual({ to: 'b', fate: 'may-have-arrived' });
    expect(found.log).toEqual(['refresh', 'send b (resent)']);
    const none = scripted({ before: undefined, after: undefined, fates: [] });
    expect(await sendToOwner(none.call)).toBeUndefined();
    expect(none.log).toEqual(['refresh']);
  });

  it('never resends a forwarded call (the node that forwarded it does), nor reads the owners again for it', async () => {
    const notTaken = scripted({ forwarded: true, before: 'a', after: 'b', fates: ['never-sent'] });
    expect(await sendToOwner(notTaken.call)).toEqual({ to: 'a', fate: 'never-sent' });
    expect(notTaken.log).toEqual(['send a']);
    const nowhere = scripted({ forwarded: true, before: undefined, after: 'b', fates: [] });
    expect(await sendToOwner(nowhere.call)).toBeUndefined();
    expect(nowhere.log).toEqual([]);
  });
});
