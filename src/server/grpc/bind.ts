/**
 * Binding the gRPC API to `--grpc-port`, for one node's service (grpc-service.ts) and a cluster
 * node's front (cluster/grpc-front.ts): a port in use is PORT_IN_USE naming `--grpc-port` (the
 * library's `grpcPort` for startPushq), as the HTTP port's is named `--port` (start-errors.ts).
 *
 * pushq listens itself and hands each connection to grpc-js (its connection injector), so that
 * connections count against the service's bound (connection-limits.ts, ConnectionBudget), which
 * grpc-js's own bindAsync offers no way to set; grpc-js closes those left without a call
 * (`grpc.max_connection_idle_ms`, {@link grpcServerOptions}). A failed bind is Node's listen
 * error, said once (bindAsync also logged it in grpc-js's words, which `pushq serve` had to drop).
 */
import * as grpc from '@grpc/grpc-js';
import { createServer } from 'node:net';
import { REQUEST_BODY_BYTES_MAX } from '../body.js';
import { GRPC_STREAMS_PER_CONNECTION_MAX, type ConnectionBudget } from '../connection-limits.js';
import { listenError, type InputNames } from '../start-errors.js';
import { boundCalls, type CallBounds } from './call-bounds.js';

/**
 * The options of every grpc.Server pushq runs: connections without a call closed after `idleMs`;
 * at most GRPC_STREAMS_PER_CONNECTION_MAX calls at once on a connection; a call's request bounded
 * in time and in the body budget (call-bounds.ts).
 */
export function grpcServerOptions(idleMs: number, calls: CallBounds): grpc.ServerOptions {
  return {
    // grpc-js reads a message's length prefix first and refuses one above this without reading it.
    'grpc.max_receive_message_length': REQUEST_BODY_BYTES_MAX,
    'grpc.max_connection_idle_ms': idleMs,
    'grpc.max_concurrent_streams': GRPC_STREAMS_PER_CONNECTION_MAX,
    interceptors: [boundCalls(calls)],
  };
}

/** A gRPC port bound: its number, and how to stop taking connections (grpc-js's shutdown ends those taken). */
export interface BoundGrpc {
  port: number;
  close(): void;
}

/** Serves `server` on HOST:PORT, each connection admitted by `budget`. Throws ServeStartError PORT_IN_USE or the bind's error. */
export function bindGrpc(server: grpc.Server, host: string, port: number, budget: ConnectionBudget, names: InputNames = 'flags'): Promise<BoundGrpc> {
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const listener = createServer((socket) => {
    if (budget.admit(socket)) injector.injectConnection(socket);
  });
  // An error once listening is a connection that could not be accepted (EMFILE): that client is
  // dropped (the HTTP port says so on stderr, connection-limits.ts); nothing to do here.
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return new Promise<BoundGrpc>((resolve, reject) => {
    const failed = (err: unknown): void => reject(listenError(err, host, port, 'grpcPort', names));
    listener.once('error', failed);
    listener.listen(port, bare, () => {
      listener.off('error', failed);
      listener.on('error', () => undefined);
      const address = listener.address();
      resolve({ port: typeof address === 'object' && address !== null ? address.port : port, close: () => void listener.close() });
    });
  });
}
