/**
 * The HTTP dispatcher against real sockets: what each kind of outcome maps to (status, refused
 * connection, deadline, redirect not followed), target resolution and the TaskETA format.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptRequest } from '../../src/core/attempt.js';
import { createHttpDispatcher, formatEtaSeconds, HTTP_ORIGINS_KEPT, resolveTarget } from '../../src/dispatch/http-dispatcher.js';
import { OriginPools } from '../../src/dispatch/origin-pools.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { closedPort } from '../helpers/closed-port.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

let worker: Worker;
beforeAll(async () => {
  worker = await startWorker((r) => {
    if (r.url === '/slow') return { status: 200, delayMs: 500 };
    if (r.url === '/redirect') return 302;
    if (r.url === '/teapot') return 418;
    if (r.url.startsWith('/queued')) return { status: 200, delayMs: 300 };
    return 200;
  });
});
afterAll(() => worker.close());

function attempt(over: Partial<AttemptRequest>): AttemptRequest {
  return {
    id: 7, queue: 'q', queueIndex: 0, name: 'n7', method: 'POST', url: '/', httpTarget: false, auth: undefined, headers: [], body: undefined, bodyBytes: 0, target: 'default',
    retryCount: 0, executionCount: 0, previousStatus: null, retryReason: undefined, etaUs: 1_500_000_000_000_001, dispatchedAt: 0, deadlineUs: 10_000_000, forced: false,
    ...over,
  };
}

describe('HTTP dispatcher', () => {
  it('maps status, redirect (not followed), refused connection and deadline', async () => {
    const dead = await closedPort();
    const d = createHttpDispatcher({ targets: { default: { scaling: 'automatic', url: worker.url }, dead: { scaling: 'automatic', url: `http://127.0.0.1:${dead}` } } });
    try {
      expect(await d.send(attempt({ url: '/ok' }))).toEqual({ status: 200 });
      expect(await d.send(attempt({ url: '/teapot' }))).toEqual({ status: 418 });
      expect(await d.send(attempt({ url: '/redirect' }))).toEqual({ status: 302 });
      expect(worker.forUrl('/redirect')).toHaveLength(1);
      // The refused address is in the error, after the retry reason's code.
      expect(await d.send(attempt({ target: 'dead' }))).toEqual({ status: null, reason: 'connection', error: `connection-refused: ECONNREFUSED 127.0.0.1:${dead}` });
      const started = Date.now();
      expect(await d.send(attempt({ url: '/slow', deadlineUs: 100_000 }))).toEqual({ status: null, reason: 'deadline', error: 'deadline-exceeded' });
      expect(Date.now() - started).toBeLessThan(450);
      const prev = await d.send(attempt({ url: '/again', retryCount: 2, executionCount: 1, previousStatus: 503 }));
      expect(prev).toEqual({ status: 200 });
      const h = worker.forUrl('/again')[0]!.headers;
      expect([h['x-appengine-taskretrycount'], h['x-appengine-taskexecutioncount'], h['x-appengine-taskpreviousresponse'], h['x-appengine-tasketa']]).toEqual(['2', '1', '503', '1500000000.000001']);
    } finally {
      await d.close();
    }
  });

  it('waiting for a connection, an attempt has its deadline from dispatch; once sent, the handler gets the whole deadline', async () => {
    // One connection, so requests run one after another (300 ms each); deadline 800 ms.
    // 1 runs 0-300; 2 starts at 300, 3 at 600 (each with a fresh 800 ms: both succeed, though 3
    // would have had 200 ms for its 300 counted from dispatch); 4 is still waiting at 800 (3 runs
    // to 900): it fails then, never sent.
    const d = createHttpDispatcher({ targets: { default: { scaling: 'automatic', url: worker.url } }, connections: 1 });
    try {
      const outcomes = await Promise.all([1, 2, 3, 4].map((i) => d.send(attempt({ url: `/queued/${i}`, deadlineUs: 800_000 }))));
      expect(outcomes.map((o) => o.status ?? o.reason)).toEqual([200, 200, 200, 'deadline']);
      expect(worker.forUrl('/queued/3')[0]!.answered).toBe(200);
      expect(worker.forUrl('/queued/4')).toHaveLength(0); // never sent: its deadline passed while it waited
    } finally {
      await d.close();
    }
  });

  it('applies backpressure: a full window refuses, then offers room to waiting queues in turn', async () => {
    // connections: 1 → a window of 2 requests handed to undici at once.
    const d = createHttpDispatcher({ connections: 1, targets: { default: { scaling: 'automatic', url: worker.url } } });
    const offered: number[] = [];
    const sends: Promise<unknown>[] = [];
    let sentBy2 = 0;
    d.setRoomListener((q) => {
      offered.push(q);
      if (q === 2) {
        // Queue 2 wants two more: it takes the room, asks again, and so goes behind queue 3.
        sends.push(d.send(attempt({ queueIndex: 2, url: `/queued/q2-${sentBy2++}` })));
        if (sentBy2 < 2) expect(d.hasRoom('default', 2)).toBe(false);
      } else if (q === 3) {
        sends.push(d.send(attempt({ queueIndex: 3, url: '/queued/q3' })));
      }
    });
    try {
      // A yes is a claim on a place, taken up by that queue's next send.
      expect(d.hasRoom('default', 1)).toBe(true);
      sends.push(d.send(attempt({ queueIndex: 1, url: '/queued/a' })));
      expect(d.hasRoom('default', 1)).toBe(true);
      sends.push(d.send(attempt({ queueIndex: 1, url: '/queued/b' })));
      // Full: each asking queue is remembered once, in the order they asked.
      expect(d.hasRoom('default', 2)).toBe(false);
      expect(d.hasRoom('default', 3)).toBe(false);
      expect(d.hasRoom('default', 2)).toBe(false);
      while (sends.length < 5 || worker.forUrl('/queued/q2-1').length === 0) {
        await Promise.all(sends);
        await new Promise((r) => setTimeout(r, 10));
      }
      await Promise.all(sends);
      expect(offered).toEqual([2, 3, 2]);
      expect(['/queued/q2-0', '/queued/q3', '/queued/q2-1'].map((u) => worker.forUrl(u).length)).toEqual([1, 1, 1]);
      expect(d.hasRoom('default', 4)).toBe(true);
    } finally {
      await d.close();
    }
    // A target without a URL never blocks: its attempts fail at once.
    const none = createHttpDispatcher({ connections: 1, targets: {} });
    expect(none.hasRoom('api', 5)).toBe(true);
    await none.close();
  });

  it("gives a turn's room only to the queue whose turn it is", async () => {
    const d = createHttpDispatcher({ connections: 1, targets: { default: { scaling: 'automatic', url: worker.url } } });
    const askedDuringTurn: boolean[] = [];
    const sends: Promise<unknown>[] = [];
    d.setRoomListener((q) => {
      // Another queue (say, its wake timer fired) asks during queue 2's turn: not its room.
      if (q === 2) askedDuringTurn.push(d.hasRoom('default', 7));
      if (q === 2) sends.push(d.send(attempt({ url: '/queued/turn' })));
    });
    try {
      sends.push(d.send(attempt({ url: '/queued/t1' })), d.send(attempt({ url: '/queued/t2' })));
      expect(d.hasRoom('default', 2)).toBe(false);
      while (worker.forUrl('/queued/turn').length === 0) {
        await Promise.all(sends);
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(askedDuringTurn).toEqual([false]);
      await Promise.all(sends);
    } finally {
      await d.close();
    }
  });

  it('holds back only pinned queues when there are several workers', async () => {
    const other = await startWorker(() => 200);
    const d = createHttpDispatcher({ connections: 1, targets: { default: { scaling: 'automatic', url: worker.url }, api: { scaling: 'automatic', url: other.url } } });
    try {
      const sends = [d.send(attempt({ url: '/queued/p1' })), d.send(attempt({ url: '/queued/p2' }))];
      // default's window is full: a queue with a target of its own waits; one whose tasks may
      // go to either worker is not stopped by this one.
      expect(d.hasRoom('default', 1, true)).toBe(false);
      expect(d.hasRoom('default', 2, false)).toBe(true);
      expect(d.hasRoom('api', 3, true)).toBe(true);
      await Promise.all(sends);
    } finally {
      await d.close();
      await other.close();
    }
  });

  it('dispatchers sharing OriginPools share its connections; each waits for or aborts only its own requests', async () => {
    const targets = { default: { scaling: 'automatic' as const, url: worker.url } };
    // Apart, two dispatchers of 3 connections each have 6 requests at the worker at once.
    const apart = [createHttpDispatcher({ targets, connections: 3 }), createHttpDispatcher({ targets, connections: 3 })];
    worker.maxInFlight = 0;
    await Promise.all(apart.flatMap((d, k) => [0, 1, 2, 3].map((i) => d.send(attempt({ url: `/queued/apart-${k}-${i}` })))));
    expect(worker.maxInFlight).toBe(6);
    await Promise.all(apart.map((d) => d.close()));
    // Sharing, they have 3 between them, and every request is still answered.
    const pools = new OriginPools(3);
    const [a, b] = [createHttpDispatcher({ targets, pools }), createHttpDispatcher({ targets, pools })];
    try {
      worker.maxInFlight = 0;
      const outcomes = await Promise.all([a, b].flatMap((d, k) => [0, 1, 2, 3].map((i) => d.send(attempt({ url: `/queued/shared-${k}-${i}` })))));
      expect(outcomes.every((o) => o.status === 200)).toBe(true);
      expect(worker.maxInFlight).toBe(3);
      // Destroying a ends a's two requests in flight now; b's goes on.
      const aSlow = [a.send(attempt({ url: '/slow' })), a.send(attempt({ url: '/slow' }))];
      const bSlow = [b.send(attempt({ url: '/slow' }))];
      await worker.waitFor((r) => r.filter((x) => x.url === '/slow').length >= 2, EVENT_BOUND_MS, 'two /slow requests');
      const started = Date.now();
      await a.destroy();
      const aOut = await Promise.all(aSlow);
      expect(Date.now() - started).toBeLessThan(400);
      expect(aOut.every((o) => o.status === null && o.reason === 'connection')).toBe(true);
      expect(await Promise.all(bSlow)).toEqual([{ status: 200 }]);
      // Closing b waits for b's request in flight, and leaves the shared connections to their owner.
      const last = b.send(attempt({ url: '/slow' }));
      let settled = false;
      void last.then(() => (settled = true));
      await b.close();
      expect(settled).toBe(true);
      expect(await last).toEqual({ status: 200 });
      const c = createHttpDispatcher({ targets, pools });
      expect(await c.send(attempt({ url: '/ok' }))).toEqual({ status: 200 });
      await c.close();
    } finally {
      await pools.close();
    }
  });

  it('a dispatcher destroyed while sharing pools sends nothing more: its attempts waiting for the window end unsent, not after the shutdown', async () => {
    const targets = { default: { scaling: 'automatic' as const, url: worker.url } };
    const pools = new OriginPools(1); // a window of 2
    const d = createHttpDispatcher({ targets, pools });
    try {
      const sends = [0, 1, 2].map((i) => d.send(attempt({ url: `/queued/forced-${i}`, forced: true })));
      await worker.waitFor((r) => r.filter((x) => x.url.startsWith('/queued/forced-')).length >= 1, EVENT_BOUND_MS, 'the first forced request');
      await d.destroy();
      const outcomes = await Promise.all(sends);
      expect(outcomes.every((o) => o.status === null && o.reason === 'connection')).toBe(true);
      // Long enough for a request sent at the shutdown to arrive and end.
      await new Promise((r) => setTimeout(r, 700));
      expect(worker.forUrl('/queued/forced-').map((r) => r.url)).toEqual(['/queued/forced-0']);
    } finally {
      await pools.destroy();
    }
  });

  it('lets go of idle HTTP-target origins once many are held: a task per webhook URL does not keep a pool per URL for ever', async () => {
    const pools = new OriginPools(4);
    const d = createHttpDispatcher({ targets: { default: { scaling: 'automatic', url: worker.url } }, pools });
    const workerOrigin = new URL(worker.url).origin;
    // An HTTP target task on the worker's own origin, held in flight while the others come and go.
    const held = d.send(attempt({ httpTarget: true, url: `${workerOrigin}/slow`, target: `${workerOrigin}/slow` }));
    // Three times the bar of distinct origins, each refused at once (nothing listens on 127.0.x.y
    // but 127.0.0.1): every one is idle as soon as its attempt ends.
    const count = HTTP_ORIGINS_KEPT * 3;
    for (let i = 0; i < count; i++) {
      const url = `http://127.0.${2 + Math.floor(i / 250)}.${1 + (i % 250)}:${worker.port}/hook`;
      const outcome = await d.send(attempt({ httpTarget: true, url, target: url }));
      expect(outcome.status).toBeNull();
    }
    try {
      // Bounded by the bar, not by the origins seen; the one in flight kept.
      expect(pools.size).toBeLessThanOrEqual(HTTP_ORIGINS_KEPT + 1);
      expect(await held).toEqual({ status: 200 });
      // A released origin is made again when a task names it, and the worker's origin still works.
      expect(await d.send(attempt({ httpTarget: true, url: `${workerOrigin}/again-http`, target: `${workerOrigin}/again-http` }))).toEqual({ status: 200 });
      expect(await d.send(attempt({ url: '/again-target' }))).toEqual({ status: 200 });
    } finally {
      await d.close();
      await pools.close();
    }
  });

  it('a dispatcher closed or destroyed on shared pools lets go of its origins: a cluster node whose queues move keeps no pool per webhook URL of services long gone', async () => {
    const pools = new OriginPools(4);
    const targets = { default: { scaling: 'automatic' as const, url: worker.url } };
    const hooks = Array.from({ length: 5 }, (_, i) => `http://127.0.9.${i + 1}:${worker.port}/hook`);
    try {
      // Two services of one node (two dispatchers on the node's pools), both using the worker and the same webhooks.
      const [a, b] = [createHttpDispatcher({ targets, pools }), createHttpDispatcher({ targets, pools })];
      for (const d of [a, b]) {
        expect(await d.send(attempt({ url: '/ok' }))).toEqual({ status: 200 });
        for (const url of hooks) expect((await d.send(attempt({ httpTarget: true, url, target: url }))).status).toBeNull();
      }
      expect(pools.size).toBe(1 + hooks.length);
      // The queue of a moves to another node: a is closed. b still uses every origin: all kept.
      await a.close();
      expect(pools.size).toBe(1 + hooks.length);
      expect(await b.send(attempt({ url: '/ok' }))).toEqual({ status: 200 });
      // b goes too (destroyed, as a service stopping with attempts abandoned is): nothing is left open.
      await b.destroy();
      expect(pools.size).toBe(0);
      // Asked after that, it takes no pool again and sends nothing.
      expect(b.hasRoom('default', 0)).toBe(true);
      expect(await b.send(attempt({ url: '/late' }))).toMatchObject({ status: null, reason: 'connection' });
      expect(pools.size).toBe(0);
      expect(worker.received.some((r) => r.url === '/late')).toBe(false);
      // A later service on the same pools makes what it needs again.
      const c = createHttpDispatcher({ targets, pools });
      expect(await c.send(attempt({ url: '/ok' }))).toEqual({ status: 200 });
      await c.close();
      expect(pools.size).toBe(0);
    } finally {
      await pools.close();
    }
  });

  it('resolves version.service to the service, unknown services to default', () => {
    const targets = { default: { scaling: 'automatic' as const, url: 'http://127.0.0.1:1/base/' }, api: { scaling: 'automatic' as const, url: 'http://127.0.0.1:2' } };
    expect(resolveTarget(targets, 'v2.api')).toEqual({ origin: 'http://127.0.0.1:2', basePath: '' });
    expect(resolveTarget(targets, 'other')).toEqual({ origin: 'http://127.0.0.1:1', basePath: '/base' });
    expect(resolveTarget({}, 'x')).toBeNull();
  });

  it('formats TaskETA as epoch seconds with six decimals from integer µs', () => {
    expect(formatEtaSeconds(1_795_434_049_635_983)).toBe('1795434049.635983');
    expect(formatEtaSeconds(5)).toBe('0.000005');
  });
});
