/**
 * The bounds on a gRPC call's request, as the HTTP port has them for a request (connection-limits.ts,
 * body-budget.ts): one interceptor on every grpc.Server pushq runs (bind.ts).
 *
 * - Its request must arrive whole (its message and its half-close) within `requestMs` of its
 *   headers. Without it a client that started a call and went silent (part of a message sent, or
 *   all of it and never a half-close) held that call open for ever, and with it its connection:
 *   grpc-js closes only a connection with no call in progress (`grpc.max_connection_idle_ms`) and
 *   waits for a message without a bound; even its own deadline (a client's `grpc-timeout`) answers
 *   such a call and leaves its stream open, since the client never ends its side. Past the
 *   deadline the call is answered DEADLINE_EXCEEDED (no handler ran: nothing was done) and its
 *   HTTP/2 stream reset, so the connection counts it no more and is closed once idle.
 * - Its bytes count in the service's body budget, with the HTTP port's bodies, until the call
 *   ends: each message may be up to 256 KiB, and nothing bounded how many calls of one connection
 *   (HTTP/2 streams) or of all held theirs at once. A call whose bytes would pass the budget is
 *   answered `busy` (UNAVAILABLE, SERVER_BUSY), having done nothing, and reset.
 *
 * The official clients send a unary call's request whole at once, so they never meet the deadline.
 */
import * as grpc from '@grpc/grpc-js';
import { constants, type ServerHttp2Stream } from 'node:http2';
import { ServerBusyError, type BodyBudget } from '../body-budget.js';

export interface CallBounds {
  /** A call's request must be whole this long after its headers. */
  requestMs: number;
  /** The service's budget of request bytes held at once (shared with its HTTP port's bodies). */
  bodies: BodyBudget;
  /** The answer to a call refused for the budget (grpc-service.ts grpcError: the code and its ErrorInfo). */
  busy: (err: ServerBusyError) => grpc.StatusObject;
}

/** The interceptor that bounds each call's request (every grpc.Server pushq runs: bind.ts). */
export function boundCalls(bounds: CallBounds): grpc.ServerInterceptor {
  return (_method, call) => {
    const stream = streamOf(call);
    let timer: NodeJS.Timeout | undefined;
    let held = 0;
    const stop = (): void => {
      clearTimeout(timer);
      timer = undefined;
    };
    const refuse = (status: grpc.StatusObject): void => {
      stop();
      call.sendStatus(status);
      if (stream?.closed === false) stream.close(constants.NGHTTP2_NO_ERROR);
    };
    const onData = (chunk: Buffer): void => {
      if (bounds.bodies.take(chunk.length)) {
        held += chunk.length;
        return;
      }
      stream?.off('data', onData);
      refuse(bounds.busy(new ServerBusyError(bounds.bodies.maxBytes)));
    };
    // A listener of its own beside grpc-js's: the stream stays paused until grpc-js reads it.
    stream?.on('data', onData);
    stream?.once('close', () => {
      stop();
      bounds.bodies.give(held);
      held = 0;
    });
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        timer = setTimeout(() => refuse({ code: grpc.status.DEADLINE_EXCEEDED, details: `the request did not arrive whole within ${bounds.requestMs / 1000} s of the call's start (pushq's request timeout); the call was not made`, metadata: new grpc.Metadata() }), bounds.requestMs);
        timer.unref();
        next({
          onReceiveHalfClose: (nextHalfClose) => {
            stop();
            nextHalfClose();
          },
          // The call is over: answered or cancelled. Answered before its request was whole (grpc-js's
          // own grpc-timeout deadline, a message above the cap), its stream would stay open, its
          // bytes counted and its connection never idle, for as long as the client kept it so; the
          // deadline above must not be dropped for that. It is reset now, as HTTP/2 lets a server
          // that answered before the request ended (RFC 9113, 8.1).
          onCancel: () => {
            if (timer === undefined) return;
            stop();
            if (stream?.closed === false) stream.close(constants.NGHTTP2_NO_ERROR);
          },
        });
      },
    });
  };
}

/**
 * The call's HTTP/2 stream: grpc-js offers no way to reset a call or see its bytes; its base call,
 * the one the first interceptor is given, holds the stream as `stream`. Were that ever to change,
 * calls would go unbounded again, and test/server/grpc-stalled-calls.test.ts would fail.
 */
function streamOf(call: grpc.ServerInterceptingCallInterface): ServerHttp2Stream | undefined {
  const stream = (call as unknown as { stream?: Partial<ServerHttp2Stream> }).stream;
  return typeof stream?.close === 'function' && typeof stream.on === 'function' ? (stream as ServerHttp2Stream) : undefined;
}
