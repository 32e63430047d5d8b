/**
 * Binding the gRPC API to `--grpc-port`, for one node's service (grpc-service.ts) and a cluster
 * node's front (cluster/grpc-front.ts): a port in use is PORT_IN_USE naming `--grpc-port` (the
 * library's `grpcPort` for startPushq), as the HTTP port's is named `--port` (start-errors.ts).
 *
 * grpc-js also reports a failed bind itself, before it rejects: one line on stderr through its
 * logger ("E No address added out of total 1 resolved"). The rejection carries the same text and
 * the cause, so `pushq serve` says it once, in its own words: the command installs
 * `dropGrpcBindFailureLog`, which drops that one line and writes every other grpc-js message as
 * grpc-js's own logger does. A library user's process keeps grpc-js's logger (it is global to the
 * process: pushq does not replace it there).
 */
import * as grpc from '@grpc/grpc-js';
import { listenError, type InputNames } from '../start-errors.js';

/** The line grpc-js logs when no address of a bind could be bound (its rejection says it too). */
const BIND_FAILED = /^No address added out of total \d+ resolved$/;

/** Binds `server` to HOST:PORT (an IPv6 host in brackets); resolves with the port bound. Throws ServeStartError PORT_IN_USE or the bind's error. */
export function bindGrpc(server: grpc.Server, host: string, port: number, names: InputNames = 'flags'): Promise<number> {
  const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err) {
        const inUse = /EADDRINUSE|address already in use/i.test(err.message) ? Object.assign(new Error(err.message), { code: 'EADDRINUSE' }) : err;
        reject(listenError(inUse, host, port, 'grpcPort', names));
      } else {
        resolve(bound);
      }
    });
  });
}

/** grpc-js's logger for a process that reports a failed bind itself (`pushq serve`): as grpc-js's default, less that one line. */
export function dropGrpcBindFailureLog(): void {
  grpc.setLogger({
    error: (message?: unknown, ...rest: unknown[]) => {
      if (typeof message === 'string' && BIND_FAILED.test(message)) return;
      console.error(`E ${String(message)}`, ...rest);
    },
    info: (message?: unknown, ...rest: unknown[]) => console.error(`I ${String(message)}`, ...rest),
    debug: (message?: unknown, ...rest: unknown[]) => console.error(`D ${String(message)}`, ...rest),
  });
}
