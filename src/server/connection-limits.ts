/**
 * The API server's limits on its clients, set deliberately rather than left at Node's defaults
 * (60 s for headers, 5 min for a request, no bound on connections), so idle, silent or slow
 * clients (slowloris) cannot hold pushq's sockets and memory (docs/serve.md, Faults):
 *
 * - a client has HEADERS_TIMEOUT_MS from its connection (or from its previous answer, on a
 *   kept-alive connection) to send a request's headers: a connection that sends nothing, or
 *   sends its headers a byte at a time, gets 408 and is closed;
 * - the whole request, body included, must arrive within REQUEST_TIMEOUT_MS (a CreateTask is at
 *   most 256 KiB: seconds on the slowest link a developer has);
 * - an idle kept-alive connection is closed KEEP_ALIVE_TIMEOUT_MS after its last answer;
 * - the timeouts are checked every CONNECTIONS_CHECK_MS, so they fire within that of their time;
 * - at most `apiConnectionsMax()` connections at once: beyond that a new connection is closed at
 *   once, so pushq's file descriptors are never all taken by clients (it needs some for its
 *   workers and its log).
 *
 * The gRPC port counts against the same bound (one {@link ConnectionBudget} for a service's two
 * ports: file descriptors are the process's, whichever port took them), and a connection on it
 * with no call in progress for GRPC_IDLE_MS is closed (GOAWAY; a client opens a new one at its next
 * call); a call's request, too, must arrive whole within REQUEST_TIMEOUT_MS (grpc/call-bounds.ts),
 * or a call started and never finished would keep its connection from ever being idle. It had neither: a few hundred silent connections there took every descriptor of a
 * service whose HTTP port was bounded (test/server/grpc-connections.test.ts).
 *
 * Every HTTP port pushq opens to clients is made by {@link createClientServer}: one node's API,
 * a cluster node's router (the port its clients call, often beyond loopback) and `pushq replay
 * --ui`'s. The router was once a bare `createServer`: Node's defaults let idle connections sit
 * there for a minute and bound nothing, so a few hundred of them took every file descriptor of
 * the node (test/cluster/cluster-connections.test.ts).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { BODY_BYTES_HELD_MAX, BodyBudget, openBodyAccount } from './body-budget.js';

export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
export const CONNECTIONS_CHECK_MS = 1_000;
/** A gRPC connection with no call in progress this long is closed; silent ones (no HTTP/2 preface) too. */
export const GRPC_IDLE_MS = 60_000;
/**
 * The HTTP/2 streams (calls) one gRPC connection may have open at once, advertised to the client
 * in SETTINGS_MAX_CONCURRENT_STREAMS; a stream opened beyond it is refused (RST_STREAM
 * REFUSED_STREAM) before any handler sees it. Unset, grpc-js advertised no bound, and one
 * connection could hold thousands of calls at once, their state unbounded. 100 is the least RFC
 * 9113 (§6.5.2) asks a server to allow; the official clients (grpc-js, grpc-go, grpc-java, gRPC
 * core) queue a call past it until a stream ends, so many calls in flight on one channel still work.
 */
export const GRPC_STREAMS_PER_CONNECTION_MAX = 100;
/** The cap on API connections, whatever the file-descriptor limit. */
const API_CONNECTIONS_CAP = 16_384;

export interface ApiServerLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  connectionsMax: number;
  /** A gRPC connection without a call for this long is closed. */
  grpcIdleMs: number;
  /** The request-body bytes held at once, across connections (body-budget.ts). */
  bodyBytesMax: number;
}

/**
 * The connections of a service's client ports (HTTP and gRPC), counted together against one
 * bound: past it, a new connection is closed at once.
 */
export class ConnectionBudget {
  private open = 0;

  constructor(private readonly max: number) {}

  /** Counts `socket` until it closes; or, the bound reached, destroys it at once. Whether it was admitted. */
  admit(socket: Socket): boolean {
    if (this.open >= this.max) {
      socket.destroy();
      return false;
    }
    this.open++;
    socket.once('close', () => this.open--);
    return true;
  }
}

/**
 * How many API connections to allow, given the process's soft limit on open files (RLIMIT_NOFILE,
 * read from /proc/self/limits on Linux; null when unknown): the cap, but never more than the
 * limit less what pushq keeps for itself (half of a small limit, 1,024 of a large one: its
 * connections to workers, 128 per origin by default, the log, the dashboard's files).
 */
export function apiConnectionsMax(openFilesLimit: number | null): number {
  if (openFilesLimit === null || !Number.isFinite(openFilesLimit)) return API_CONNECTIONS_CAP;
  const kept = Math.min(1024, Math.floor(openFilesLimit / 2));
  return Math.max(1, Math.min(API_CONNECTIONS_CAP, openFilesLimit - kept));
}

/** The soft limit on open files, or null where /proc/self/limits does not say (not Linux). */
export function openFilesLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m === null) return null;
    return m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    return null;
  }
}

/**
 * The headers timeout of every client port: PUSHQ_HEADERS_TIMEOUT_MS when it is a whole number
 * from 1000 to REQUEST_TIMEOUT_MS (a hook for tests, as PUSHQ_STORE_LEASE_MS is: the tests of a
 * spawned `pushq serve --cluster` or `pushq replay --ui` see slow clients cut in 2 s, not 10 s;
 * docs/serve.md, Faults), else HEADERS_TIMEOUT_MS. Read here alone, when a port is opened.
 */
export function headersTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env['PUSHQ_HEADERS_TIMEOUT_MS']);
  return Number.isSafeInteger(n) && n >= 1000 && n <= REQUEST_TIMEOUT_MS ? n : HEADERS_TIMEOUT_MS;
}

export function defaultApiServerLimits(): ApiServerLimits {
  return { headersTimeoutMs: headersTimeoutMs(), requestTimeoutMs: REQUEST_TIMEOUT_MS, connectionsMax: apiConnectionsMax(openFilesLimit()), grpcIdleMs: GRPC_IDLE_MS, bodyBytesMax: BODY_BYTES_HELD_MAX };
}

/**
 * An HTTP server for pushq's clients with `limits` (the defaults above unless a test shortens them),
 * its connections counted in `budget` (shared with the gRPC port's, grpc/bind.ts), its requests'
 * bodies in `bodies` (body-budget.ts: each request gets an account there before `listener` sees it).
 * `requireHostHeader: false`: Node would answer an HTTP/1.1 request with no Host a bare 400 with no
 * body; the request guard refuses it in Google's shape instead (HOST_NOT_ALLOWED, docs/serve.md).
 */
export function createClientServer(listener: (req: IncomingMessage, res: ServerResponse) => void, limits: ApiServerLimits = defaultApiServerLimits(), budget = new ConnectionBudget(limits.connectionsMax), bodies = new BodyBudget(limits.bodyBytesMax)): Server {
  const server = createServer(
    { keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, requireHostHeader: false, headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: CONNECTIONS_CHECK_MS },
    (req, res) => {
      openBodyAccount(bodies, req, res);
      listener(req, res);
    },
  );
  server.maxConnections = limits.connectionsMax;
  server.on('connection', (socket: Socket) => budget.admit(socket));
  return server;
}

/**
 * Once `server` listens, an error is a connection that could not be accepted (EMFILE: no file
 * descriptor left): that client is dropped and pushq carries on, saying so at most once a minute,
 * through `report`, rather than dying of an unhandled 'error' event.
 */
export function reportAcceptErrors(server: Server, report: (line: string) => void): void {
  let reportedAt = -Infinity;
  server.on('error', (err) => {
    if (performance.now() - reportedAt < 60_000) return;
    reportedAt = performance.now();
    report(`a client connection could not be accepted: ${err.message}`);
  });
}
