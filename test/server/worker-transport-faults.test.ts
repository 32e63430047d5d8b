/**
 * What a failed attempt says when the worker breaks the connection or the protocol, through the
 * real dispatcher to a raw TCP worker on 127.0.0.1: the retry reason's code first, then the error
 * code and the address it was trying (docs/serve.md, HTTP targets: "A connection that fails is
 * recorded with where it failed"), also when the error itself names no address.
 */
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AttemptRequest } from '../../src/core/attempt.js';
import { createHttpDispatcher, type HttpDispatcher } from '../../src/dispatch/http-dispatcher.js';
import { startRawWorker, type RawWorker } from '../helpers/raw-worker.js';

function attempt(over: Partial<AttemptRequest> = {}): AttemptRequest {
  return {
    id: 1, queue: 'q', queueIndex: 0, name: 't1', method: 'POST', url: '/', httpTarget: false, auth: undefined, headers: [], body: undefined, bodyBytes: 0, target: 'default',
    retryCount: 0, executionCount: 0, previousStatus: null, retryReason: undefined, etaUs: 1_500_000_000_000_000, dispatchedAt: 0, deadlineUs: 10_000_000, forced: false,
    ...over,
  };
}

let worker: RawWorker | undefined;
let dispatcher: HttpDispatcher | undefined;
afterEach(async () => {
  await dispatcher?.close();
  await worker?.close();
  dispatcher = undefined;
  worker = undefined;
});

async function sendTo(onConnection: (s: Socket) => void, over: Partial<AttemptRequest> = {}): Promise<{ outcome: Awaited<ReturnType<HttpDispatcher['send']>>; where: string }> {
  worker = await startRawWorker(onConnection);
  dispatcher = createHttpDispatcher({ targets: { default: { scaling: 'automatic', url: worker.url } } });
  const outcome = await dispatcher.send(attempt(over));
  return { outcome, where: new URL(worker.url).host };
}

describe('a worker that breaks the connection', () => {
  it('a reset before any answer names the address it was sent to', async () => {
    const { outcome, where } = await sendTo((s) => s.resetAndDestroy());
    expect(outcome).toEqual({ status: null, reason: 'connection', error: `connection-reset: ECONNRESET ${where}` });
  });

  it('a reset while the request body is still being sent names the address too', async () => {
    // The worker resets as soon as the request's first bytes come: pushq is still writing a 100 KB body.
    const { outcome, where } = await sendTo((s) => s.resetAndDestroy(), { body: Buffer.alloc(100_000, 97).toString('base64'), bodyBytes: 100_000 });
    expect(outcome.status).toBeNull();
    expect(outcome.reason).toBe('connection');
    expect(outcome.error).toMatch(/^connection-reset: (ECONNRESET|EPIPE|UND_ERR_SOCKET) /);
    expect(outcome.error).toContain(where);
  });
});

describe('a worker that breaks the protocol', () => {
  it('a 100 Continue sent unasked is a protocol failure (connection-error, saying so), not a reset', async () => {
    // pushq never sends Expect: 100-continue; undici, its HTTP client, refuses an interim 100 and
    // closes the connection (the 200 after it is never read). Nothing was reset.
    const { outcome, where } = await sendTo((s) => s.end('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok'));
    expect(outcome).toEqual({ status: null, reason: 'connection', error: `connection-error: UND_ERR_SOCKET ${where}: the worker sent 100 Continue unasked (pushq sends no Expect: 100-continue)` });
  });

  it('a 101 Switching Protocols sent unasked is a protocol failure too', async () => {
    const { outcome, where } = await sendTo((s) => s.end('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n'));
    expect(outcome).toEqual({ status: null, reason: 'connection', error: `connection-error: UND_ERR_SOCKET ${where}: the worker switched protocols (101) unasked` });
  });

  it('other interim answers (102, 103) before the final one are skipped: the final status counts', async () => {
    const { outcome } = await sendTo((s) => s.end('HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n'));
    expect(outcome).toEqual({ status: 204 });
  });

  it('the worker closing the connection mid-answer stays a reset', async () => {
    const { outcome, where } = await sendTo((s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nab'));
    expect(outcome).toEqual({ status: null, reason: 'connection', error: `connection-reset: UND_ERR_SOCKET ${where}` });
  });
});
