/**
 * A gRPC call's request must arrive whole (its message and its half-close) within a deadline of
 * its headers, as an HTTP request's must within the HTTP port's request timeout
 * (connection-limits.ts). Without it a client that started a call and went silent (part of a
 * message sent, or all of it and never a half-close) held that call open for ever, and with it
 * its connection: grpc-js closes only a connection with no call in progress
 * (`grpc.max_connection_idle_ms`), and waits for a message without a bound. Even grpc-js's own
 * deadline (a client's `grpc-timeout`) answers such a call and leaves its stream open, since the
 * client never ends its side.
 *
 * Past the deadline the call is answered DEADLINE_EXCEEDED (no handler ran: nothing was done) and
 * its HTTP/2 stream reset, so the connection counts it no more and is closed once idle. The
 * official clients send a unary call's request whole at once, so they never meet this.
 */
import * as grpc from '@grpc/grpc-js';
import { constants, type ServerHttp2Stream } from 'node:http2';

/** The interceptor bounding each call's request to `deadlineMs` (every grpc.Server pushq runs: bind.ts). */
export function requestDeadline(deadlineMs: number): grpc.ServerInterceptor {
  return (_method, call) => {
    let timer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      clearTimeout(timer);
      timer = undefined;
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        timer = setTimeout(() => {
          timer = undefined;
          call.sendStatus({ code: grpc.status.DEADLINE_EXCEEDED, details: `the request did not arrive whole within ${deadlineMs / 1000} s of the call's start (pushq's request timeout); the call was not made`, metadata: new grpc.Metadata() });
          resetStream(call);
        }, deadlineMs);
        timer.unref();
        next({
          onReceiveHalfClose: (nextHalfClose) => {
            stop();
            nextHalfClose();
          },
          onCancel: stop,
        });
      },
    });
  };
}

/**
 * Resets the call's stream once its answer is sent (RST_STREAM NO_ERROR: "stop sending", RFC 9113
 * §8.1). grpc-js offers no way to; its base call, the one the first interceptor is given, holds
 * the stream as `stream`. Were that ever to change, the call would stay answered but open, and
 * test/server/grpc-stalled-calls.test.ts would fail.
 */
function resetStream(call: grpc.ServerInterceptingCallInterface): void {
  const stream = (call as unknown as { stream?: Partial<ServerHttp2Stream> }).stream;
  if (typeof stream?.close === 'function' && stream.closed === false) stream.close(constants.NGHTTP2_NO_ERROR);
}
