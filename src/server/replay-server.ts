/**
 * `pushq replay LOG --ui`: the dashboard over a recorded log, read-only. The same page and the same
 * read API as `pushq serve` (read-api.ts), from a RecordedSource; nothing else is served: no Cloud
 * Tasks API, no command. The log is read (and refused when it is not a pushq log, torn beyond
 * repair or corrupt) before this server starts.
 *
 * The same request checks as `pushq serve` (security.ts): Host (against DNS rebinding) and, for a
 * bind beyond loopback, a refusal: a log holds every task's payload and there is no token here.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createClientServer, reportAcceptErrors } from './connection-limits.js';
import { LOGIN_PAGE } from './dashboard-page.js';
import { ApiError, toApiError } from './errors.js';
import { serveRead } from './read-api.js';
import { requestTarget } from './request-target.js';
import { listenUrl } from './listen-url.js';
import type { ReadSource } from './read-source.js';
import { RequestGuard, refuse } from './security.js';
import { ServeStartError, listenError } from './start-errors.js';

export interface ReplayServerOptions {
  /** Default 127.0.0.1; a loopback address only. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** More names a request's Host may give (`--allow-host`), as for `pushq serve`. */
  allowHosts?: readonly string[];
}

export class ReplayServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly port: number,
    /** When a request last came in or was answered (performance.now(), ms): work in the background yields to the page. */
    private readonly activity: { lastMs: number },
  ) {}

  /** Whether a request came in or was answered within the last `ms` milliseconds. */
  activeWithin(ms: number): boolean {
    return performance.now() - this.activity.lastMs < ms;
  }

  static async start(source: ReadSource, options: ReplayServerOptions = {}): Promise<ReplayServer> {
    const host = options.host ?? '127.0.0.1';
    let guard: RequestGuard;
    try {
      guard = await RequestGuard.create({ host, ...(options.allowHosts === undefined ? {} : { allowHosts: options.allowHosts }) });
    } catch (err) {
      if (err instanceof ServeStartError && err.code === 'UNPROTECTED_PUBLIC_BIND') {
        throw new ServeStartError('UNPROTECTED_PUBLIC_BIND', `--host ${host} is not a loopback address: anyone who could reach it would read every task and payload in the log; pushq replay --ui binds loopback addresses only (127.0.0.1, ::1, localhost)`);
      }
      throw err;
    }
    // Listening counts as activity: a page opened as soon as the URL is out comes first.
    const activity = { lastMs: performance.now() };
    // The limits of `pushq serve`'s API on idle, silent and slow clients and on connections (connection-limits.ts).
    const server = createClientServer((req, res) => {
      const seen = (): void => {
        activity.lastMs = performance.now();
      };
      seen();
      res.once('finish', seen);
      guard.serve(req, res, (q, s) => void answer(source, q, s), LOGIN_PAGE);
    });
    await new Promise<void>((resolve, reject) => {
      const failed = (err: unknown): void => reject(listenError(err, host, options.port ?? 0));
      server.once('error', failed);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', failed);
        resolve();
      });
    });
    reportAcceptErrors(server, (line) => void process.stderr.write(`pushq replay: ${line}\n`));
    const { url, port } = listenUrl(server);
    activity.lastMs = performance.now();
    return new ReplayServer(server, url, port, activity);
  }

  /** Stops listening and ends every connection (open event streams too). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}

async function answer(source: ReadSource, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const { url, path } = requestTarget(req.url ?? '/');
    // Read-only, whatever the path: a POST (a queue's :pause, /pushq/reload, /rpc_http) is told
    // so, not that its path is unknown (it is the path of a command, which no replay serves).
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') throw new ApiError('UNSUPPORTED_METHOD', `${method} is not served on ${path}: pushq replay --ui is read-only (the dashboard and its read API; no Cloud Tasks API, no command)`);
    if (await serveRead(source, req, res, path, url.searchParams)) return;
    throw new ApiError('UNKNOWN_PATH', `no API at ${path}: pushq replay --ui serves a recorded log's dashboard (at /) and its read API, read-only`);
  } catch (err) {
    const apiError = toApiError(err);
    if (apiError.status === 'INTERNAL') process.stderr.write(`pushq replay: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    if (res.headersSent) res.destroy();
    else refuse(req, res, apiError);
  }
}
