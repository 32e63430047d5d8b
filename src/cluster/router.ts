/**
 * The API of a cluster node: any node answers a call for any queue by forwarding it to the
 * queue's owner (docs/cluster.md, "Why forwarding"). A call for a queue this node owns goes to the
 * queue's own service on 127.0.0.1; a call for another node's queue goes to that node's router,
 * marked as forwarded; a forwarded call is never forwarded again (no loops while ownership moves:
 * the caller gets UNAVAILABLE and retries). The owner answers a CreateTask only once its batch is
 * in the store, and the answer comes back unchanged: acknowledged means durable, whichever node
 * the client called.
 *
 *   client ──► router(any node) ──► router(owner) ──► queue's service ──► store (fenced append)
 *                       └───────── owned here ──────────┘
 *
 * The node answers itself: listing queues (it asks each owner for its queue), `/pushq/health`
 * (this node's id and the queues it owns). Everything else (the dashboard, reload, reset) is
 * refused with NOT_IN_CLUSTER_MODE.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { LOGIN_PAGE } from '../server/dashboard-page.js';
import type { RequestGuard } from '../server/security.js';
import { ClusterError } from './errors.js';

/** Marks a call one router has forwarded to another. */
export const FORWARDED_HEADER = 'x-pushq-forwarded-by';

const QUEUE_PATH = /^(?:\/v2)?\/projects\/([^/]+)\/locations\/([^/]+)\/queues\/([^/:?]+)/;
const QUEUES_PATH = /^(?:\/v2)?\/projects\/([^/]+)\/locations\/([^/]+)\/queues\/?(?:\?.*)?$/;
const STORY_PATH = /^\/pushq\/queues\/([^/?]+)\//;
/** Headers that belong to one connection, not to the call (RFC 9110 §7.6.1), and the Host, which undici sets for the next hop. */
const HOP_HEADERS = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'expect']);

export interface RouterTable {
  /** This node's id. */
  readonly node: string;
  /** The local service URL of a queue this node owns and serves now, else undefined. */
  local(queue: string): string | undefined;
  /** The router URL of the node that owns `queue` (from the last look at the store), else undefined. */
  remote(queue: string): string | undefined;
  /** Forgets what is known of `queue`'s owner (it did not answer). */
  forget(queue: string): void;
  /** Every queue of the configuration. */
  queues(): readonly string[];
  /** Queues this node owns now. */
  owned(): readonly string[];
}

export class Router {
  private readonly agent = new Agent({ connections: 64, keepAliveTimeout: 4000 });

  private constructor(
    private readonly server: Server,
    private readonly table: RouterTable,
    readonly url: string,
  ) {}

  static async start(table: RouterTable, guard: RequestGuard, host: string, port: number): Promise<Router> {
    let router: Router | undefined;
    const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => guard.serve(req, res, (q, s) => void router!.answer(q, s), LOGIN_PAGE));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address() as AddressInfo;
    router = new Router(server, table, `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
    return router;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = req.url ?? '/';
      const forwarded = req.headers[FORWARDED_HEADER] !== undefined;
      const queueMatch = QUEUE_PATH.exec(path) ?? STORY_PATH.exec(path);
      if (queueMatch !== null) {
        const queue = decodeURIComponent(queueMatch[queueMatch.length - 1]!);
        return await this.toOwner(queue, req, res, forwarded);
      }
      if (QUEUES_PATH.test(path) && req.method === 'GET') return await this.listQueues(req, res);
      if (path.split('?')[0] === '/pushq/health') return send(res, 200, { node: this.table.node, owns: this.table.owned() });
      throw new ClusterError('NOT_IN_CLUSTER_MODE', `${req.method} ${path.split('?')[0]} is not served by a cluster node: only the queues API (REST), on any node`);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const e = err instanceof ClusterError ? err : new ClusterError('QUEUE_OWNER_UNAVAILABLE', (err as Error).message);
      send(res, e.httpStatus, e.toJSON());
    }
  }

  private async toOwner(queue: string, req: IncomingMessage, res: ServerResponse, forwarded: boolean): Promise<void> {
    const local = this.table.local(queue);
    if (local !== undefined) return this.forward(local, req, res, queue, false);
    if (forwarded) throw new ClusterError('QUEUE_OWNER_UNAVAILABLE', `queue ${queue} is not (or no longer) owned by node ${this.table.node}: it is moving; retry`);
    const remote = this.table.remote(queue);
    if (remote === undefined) {
      if (!this.table.queues().includes(queue)) return this.forwardAnywhere(queue, req, res);
      throw new ClusterError('QUEUE_OWNER_UNKNOWN', `no live node owns queue ${queue} right now (a node left and its lease has not run out, or the queue is moving); retry`);
    }
    return this.forward(remote, req, res, queue, true);
  }

  /** A queue not in the configuration: any local service answers NOT_FOUND as a single node would. */
  private async forwardAnywhere(queue: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const q of this.table.owned()) {
      const url = this.table.local(q);
      if (url !== undefined) return this.forward(url, req, res, queue, false);
    }
    throw new ClusterError('QUEUE_OWNER_UNKNOWN', `queue ${queue} is not in this cluster's configuration, and this node owns no queue to say so; retry`);
  }

  private async forward(base: string, req: IncomingMessage, res: ServerResponse, queue: string, remote: boolean): Promise<void> {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_HEADERS.has(k)) headers[k] = v;
    if (remote) headers[FORWARDED_HEADER] = this.table.node;
    const method = req.method ?? 'GET';
    const hasBody = method !== 'GET' && method !== 'HEAD';
    let out;
    try {
      out = await request(base + (req.url ?? '/'), { method: method as 'GET', headers, body: hasBody ? req : null, dispatcher: this.agent, headersTimeout: 60_000, bodyTimeout: 60_000 });
    } catch (err) {
      this.table.forget(queue);
      throw new ClusterError('QUEUE_OWNER_UNAVAILABLE', `the owner of queue ${queue} (${base}) did not answer: ${(err as Error).message}; not acknowledged, retry`);
    }
    const body = Buffer.from(await out.body.arrayBuffer());
    const answer: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(out.headers)) if (v !== undefined && !HOP_HEADERS.has(k) && k !== 'content-length') answer[k] = v;
    res.writeHead(out.statusCode, answer);
    res.end(body);
  }

  /** ListQueues: each queue's resource, asked of its owner (queues with no live owner now are left out). */
  private async listQueues(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = QUEUES_PATH.exec(req.url ?? '/')!;
    const base = `/v2/projects/${m[1]}/locations/${m[2]}/queues/`;
    const found = await Promise.all(
      this.table.queues().map(async (queue) => {
        const url = this.table.local(queue) ?? this.table.remote(queue);
        if (url === undefined) return null;
        try {
          const headers: Record<string, string> = { [FORWARDED_HEADER]: this.table.node };
          if (req.headers.authorization !== undefined) headers['authorization'] = req.headers.authorization;
          const out = await request(url + base + encodeURIComponent(queue), { headers, dispatcher: this.agent });
          const json = (await out.body.json()) as unknown;
          return out.statusCode === 200 ? json : null;
        } catch {
          return null;
        }
      }),
    );
    send(res, 200, { queues: found.filter((q) => q !== null) });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    await this.agent.close();
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
