/**
 * The API of a cluster node: any node answers a call for any queue by forwarding it to the
 * queue's owner (docs/cluster.md, "Why forwarding"). A call for a queue this node owns goes to the
 * queue's own service on 127.0.0.1; a call for another node's queue goes to that node's router,
 * marked as forwarded; a forwarded call is never forwarded again (no loops while ownership moves:
 * the caller gets UNAVAILABLE). A call that finds its queue moved since the last tick (the owner it
 * knew no longer has it, or does not answer) is sent once more after reading the owners again. The owner answers a CreateTask only once its batch is
 * in the store, and the answer comes back unchanged: acknowledged means durable, whichever node
 * the client called.
 *
 *   client ──► router(any node) ──HTTP──► router(owner) ──in process──► queue's service ──► store (fenced append)
 *                       └──────────── owned here: in process ─────────────┘
 *
 * App Engine's `POST /rpc_http` goes the same way, routed by the queue its message names
 * (rpc-front.ts). The node answers itself: listing queues (it asks each owner for its queue),
 * `/pushq/health` (this node's id and the queues it owns), `POST /pushq/reload` (this node's
 * queue.yaml), `POST /pushq/reset` (every queue, asked of its owner: reset.ts). Everything else
 * The dashboard's page and its reads over every queue: dashboard-front.ts. Anything else is refused
 * with NOT_IN_CLUSTER_MODE.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Agent, request } from 'undici';
import { BodyTooLargeError, REQUEST_BODY_BYTES_MAX } from '../server/body.js';
import { BodyBudget, chargeBody, setRetryAfterWhenBusy } from '../server/body-budget.js';
import { ConnectionBudget, createClientServer, defaultApiServerLimits, reportAcceptErrors } from '../server/connection-limits.js';
import { LOGIN_PAGE } from '../server/dashboard-page.js';
import { ApiError } from '../server/errors.js';
import { SAFE_METHODS, sessionCookieFor, type RequestGuard } from '../server/security.js';
import { isRpcHttp } from '../server/appengine/rpc-http.js';
import { listenUrl } from '../server/listen-url.js';
import { LIST_QUEUES_QUERY, pageOf, pageOfItems, pageQuery, QUEUES_LIST } from '../server/page-token.js';
import { queryFields } from '../server/query-params.js';
import { listenError } from '../server/start-errors.js';
import type { ReloadOutcome } from '../server/api.js';
import { reloadRefused } from '../server/operations.js';
import { bufferedRequest } from './buffered-request.js';
import { DashboardFront, hopHeaders } from './dashboard-front.js';
import { ClusterError } from './errors.js';
import { fateOf, ownerFailedText, sendToOwner, surelyNotTaken, type HopFate } from './not-taken.js';
import { resetEveryQueue } from './reset.js';
import { RpcFront } from './rpc-front.js';

/** Marks a call one node's front has forwarded to another's: an HTTP header here, gRPC metadata in grpc-front.ts. */
export const FORWARDED_HEADER = 'x-pushq-forwarded-by';
/** On a refusal: the call reached no queue's service, so sending it again cannot take it twice. */
export const NOT_TAKEN_HEADER = 'x-pushq-not-taken';

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
  /** Hands a call for a queue this node owns and serves now to its service, in process; false when it does not own it. */
  serveLocally(queue: string, req: IncomingMessage, res: ServerResponse): boolean;
  /** The router URL of the node that owns `queue` (from the last look at the store), else undefined. */
  remote(queue: string): string | undefined;
  /** Reads who owns which queue from the store again (a queue moved since the last tick). */
  refresh(): Promise<void>;
  /** Every queue of the configuration. */
  queues(): readonly string[];
  /** Queues this node owns now. */
  owned(): readonly string[];
  /** Reads this node's queue.yaml again and applies it (SIGHUP, POST /pushq/reload). */
  reload(): Promise<ReloadOutcome>;
}

export class Router {
  private readonly agent = new Agent({ connections: 64, keepAliveTimeout: 4000 });
  private readonly rpc = new RpcFront(this);
  private readonly dashboard = new DashboardFront(this);

  private constructor(
    private readonly server: Server,
    readonly table: RouterTable,
    readonly url: string,
    /** The port it listens on (every forward names the session cookie after it). */
    readonly port: number,
    /** How long a forwarded call may wait for the owner's answer: past a lease, the owner has lost the queue anyway. */
    private readonly forwardTimeoutMs: number,
    /** The node's bound on client connections, which its gRPC front shares (connection-limits.ts). */
    readonly budget: ConnectionBudget,
    /** The node's budget of request-body bytes held at once, which its gRPC front's calls share (body-budget.ts). */
    readonly bodies: BodyBudget,
  ) {}

  static async start(table: RouterTable, guard: RequestGuard, host: string, port: number, forwardTimeoutMs: number): Promise<Router> {
    let router: Router | undefined;
    // The limits of one node's API on idle, silent and slow clients and on connections (connection-limits.ts).
    const limits = defaultApiServerLimits();
    const budget = new ConnectionBudget(limits.connectionsMax);
    const bodies = new BodyBudget(limits.bodyBytesMax);
    const server = createClientServer((req, res) => guard.serve(req, res, (q, s) => void router!.answer(q, s), LOGIN_PAGE), limits, budget, bodies);
    await new Promise<void>((resolve, reject) => {
      const failed = (err: unknown): void => reject(listenError(err, host, port)); // a port in use: PORT_IN_USE, as on one node
      server.once('error', failed);
      server.listen(port, host, () => {
        server.off('error', failed);
        resolve();
      });
    });
    reportAcceptErrors(server, (line) => void process.stderr.write(`pushq serve: ${line}\n`));
    const listening = listenUrl(server);
    router = new Router(server, table, listening.url, listening.port, forwardTimeoutMs, budget, bodies);
    return router;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = req.url ?? '/';
      const forwarded = req.headers[FORWARDED_HEADER] !== undefined;
      // This node's guard has checked the browser's Origin against this node; the owner's service
      // (another host:port, in process or not) would refuse it as foreign, so a page's command reached no queue.
      delete req.headers.origin;
      if (isRpcHttp(req)) return await this.rpc.answer(req, res, forwarded);
      if (await this.dashboard.answer(req, res, forwarded)) return;
      const queueMatch = QUEUE_PATH.exec(path) ?? STORY_PATH.exec(path);
      if (queueMatch !== null) {
        const queue = queueName(queueMatch[queueMatch.length - 1]!);
        return await this.toOwner(queue, req, res, forwarded);
      }
      if (QUEUES_PATH.test(path) && req.method === 'GET') return await this.listQueues(req, res);
      const bare = path.split('?')[0];
      if (bare === '/pushq/health') return send(res, 200, { node: this.table.node, owns: this.table.owned() });
      if (bare === '/pushq/reset' && req.method === 'POST') return await resetEveryQueue(this, req, res, forwarded);
      if (bare === '/pushq/reload' && req.method === 'POST') return await this.reload(req, res);
      throw new ClusterError('NOT_IN_CLUSTER_MODE', `${req.method} ${bare} is not served by a cluster node: only the queues API (REST, gRPC, App Engine's /rpc_http), the dashboard, reload and reset, on any node`);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      setRetryAfterWhenBusy(res, err);
      if (err instanceof ApiError) return send(res, err.httpStatus, err.toJSON());
      const e = err instanceof ClusterError ? err : new ClusterError('QUEUE_OWNER_UNAVAILABLE', (err as Error).message);
      if (e.reachedNoService) res.setHeader(NOT_TAKEN_HEADER, '1');
      send(res, e.httpStatus, e.toJSON());
    }
  }

  /** POST /pushq/reload: this node reads its queue.yaml again (as SIGHUP does); every node has its own file. */
  private async reload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await readBody(req);
    const outcome = await this.table.reload();
    if (!outcome.ok) throw reloadRefused(outcome);
    send(res, 200, { applied: true, lines: outcome.lines });
  }

  /**
   * Sends the call to the queue's owner. The body is read first (bounded as the API bounds it), so
   * that a call that finds the queue moved (the owner known at the last tick no longer has it, or
   * refuses the connection) is sent once more after reading the owners again, instead of failing.
   * Only a call that surely reached no queue's service is sent again: a create whose answer was
   * lost may have been taken, and sending it again could add an unnamed task twice (the rule, as
   * the gRPC front follows it too: not-taken.ts).
   */
  async toOwner(queue: string, req: IncomingMessage, res: ServerResponse, forwarded: boolean, read?: Buffer): Promise<void> {
    if (this.table.serveLocally(queue, read === undefined ? req : bufferedRequest(req, read), res)) return;
    const body = read ?? (await readBody(req));
    if (this.target(queue, forwarded) === 'anywhere') return this.answerWith(await this.forwardAnywhere(queue, req, body, forwarded), res);
    const out = await sendToOwner<Hop, Answer | ClusterError | 'served'>({
      forwarded,
      place: () => {
        const where = this.target(queue, forwarded);
        return where === 'anywhere' || where === null ? undefined : where;
      },
      samePlace: (a, b) => a.url === b.url,
      send: async (place, resent) => {
        // It moved here meanwhile: its service answers in process.
        if (resent && !place.remote && this.table.serveLocally(queue, bufferedRequest(req, body ?? Buffer.alloc(0)), res)) return 'served';
        return this.forward(place.url, req, body, place.remote);
      },
      fate: fateOfForward,
      refresh: () => this.table.refresh(),
    });
    if (out === 'served') return;
    if (out === undefined) throw noOwner(queue);
    this.answerWith(out, res);
  }

  /** Where a call for `queue` goes: this node's service, another node's router, any service (an unknown queue), or nowhere known. */
  target(queue: string, forwarded: boolean): Hop | 'anywhere' | null {
    const local = this.table.local(queue);
    if (local !== undefined) return { url: local, remote: false };
    if (!this.table.queues().includes(queue)) return 'anywhere';
    if (forwarded) throw new ClusterError('QUEUE_OWNER_UNAVAILABLE', `queue ${queue} is not (or no longer) owned by node ${this.table.node}: it is moving; retry`, true);
    const remote = this.table.remote(queue);
    return remote === undefined ? null : { url: remote, remote: true };
  }

  /**
   * A queue not in the configuration: any queue's service answers NOT_FOUND as a single node
   * would; one of this node's, else (a node may own none) another node's, which answers it locally.
   */
  async forwardAnywhere(queue: string, req: Call, body: Uint8Array | null, forwarded: boolean): Promise<Answer | ClusterError> {
    // (Its body was read already, so it goes over HTTP: a rare call.)
    const hop = this.anyService(forwarded);
    if (hop !== null) return this.forward(hop.url, req, body, hop.remote);
    return new ClusterError('QUEUE_OWNER_UNKNOWN', `queue ${queue} is not in this cluster's configuration, and no node that owns a queue is known to say so; retry`, true);
  }

  /** Some queue's service, for a call any of them answers as one node would: this node's, else (not when forwarded) another node's router. */
  anyService(forwarded: boolean): Hop | null {
    for (const q of this.table.owned()) {
      const url = this.table.local(q);
      if (url !== undefined) return { url, remote: false };
    }
    if (!forwarded) {
      for (const q of this.table.queues()) {
        const url = this.table.remote(q);
        if (url !== undefined) return { url, remote: true };
      }
    }
    return null;
  }

  /** The owner's answer, or the refusal to give when it did not answer; `read`: the call changes nothing (its refusal says so). */
  async forward(base: string, req: Call, body: Uint8Array | null, remote: boolean, read = SAFE_METHODS.has(req.method ?? 'GET')): Promise<Answer | ClusterError> {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_HEADERS.has(k) && k !== 'content-length') headers[k] = v;
    if (remote) headers[FORWARDED_HEADER] = this.table.node;
    // A dashboard session is named after the port the browser called: the next hop's guard looks for its own port's.
    if (req.headers.cookie !== undefined) {
      const cookie = sessionCookieFor(req.headers.cookie, this.port, Number(new URL(base).port));
      if (cookie !== undefined) headers['cookie'] = cookie;
    }
    try {
      const out = await request(base + (req.url ?? '/'), { method: (req.method ?? 'GET') as 'GET', headers, body, dispatcher: this.agent, headersTimeout: this.forwardTimeoutMs, bodyTimeout: this.forwardTimeoutMs });
      const headersOut: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(out.headers)) if (v !== undefined && !HOP_HEADERS.has(k) && k !== 'content-length') headersOut[k] = v;
      return { status: out.statusCode, headers: headersOut, body: Buffer.from(await out.body.arrayBuffer()) };
    } catch (err) {
      // undici's connect error: the owner's port refused the connection, so not one byte of the call left.
      const e = err as { code?: string; cause?: { code?: string } };
      const fate = fateOf({ refusedBeforeWork: false, speaksForItself: false, neverSent: e.code === 'ECONNREFUSED' || e.cause?.code === 'ECONNREFUSED' });
      return new ClusterError('QUEUE_OWNER_UNAVAILABLE', ownerFailedText(base, (err as Error).message, fate, read), surelyNotTaken(fate));
    }
  }

  answerWith(out: Answer | ClusterError, res: ServerResponse): void {
    if (out instanceof ClusterError) throw out;
    res.writeHead(out.status, out.headers);
    res.end(out.body);
  }

  /**
   * ListQueues: a page of the configuration's queues, paged as one node pages its queues
   * (page-token.ts); each queue's resource asked of its owner (queues with no live owner now are
   * left out of their page).
   */
  private async listQueues(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = QUEUES_PATH.exec(req.url ?? '/')!;
    const base = `/v2/projects/${m[1]}/locations/${m[2]}/queues/`;
    const page = pageOfItems(this.table.queues(), pageOf(pageQuery(queryFields(new URL(req.url ?? '/', 'http://x').searchParams, LIST_QUEUES_QUERY)), QUEUES_LIST), QUEUES_LIST);
    const ask = async (queue: string): Promise<unknown> => {
      const url = this.table.local(queue) ?? this.table.remote(queue);
      if (url === undefined) return null;
      try {
        // The caller's token or dashboard session (renamed for the owner's port), which the owner checks again:
        // without them each owner refuses its queue, and the page would come back empty.
        const headers = { [FORWARDED_HEADER]: this.table.node, ...hopHeaders({ authorization: req.headers.authorization, cookie: req.headers.cookie, port: this.port }, url) };
        const out = await request(url + base + encodeURIComponent(queue), { headers, dispatcher: this.agent });
        const json = (await out.body.json()) as unknown;
        return out.statusCode === 200 ? json : null;
      } catch {
        return null;
      }
    };
    const found = await askAgainAfterRefresh(this.table, page.items, ask);
    const queues = found.filter((q) => q !== null);
    send(res, 200, page.nextPageToken === undefined ? { queues } : { queues, nextPageToken: page.nextPageToken });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    await this.agent.close();
    await this.dashboard.close();
  }
}

/**
 * Each queue's answer from its owner (null: none), asked again once for the queues that got none
 * after reading the owners from the store again: the owners this node read at its last tick may
 * be out of date (a node starting, queues moving in a rebalance), and a list would otherwise leave
 * out live, owned queues for up to a tick. A queue still without an answer has no reachable owner
 * now, and is left out as before.
 */
export async function askAgainAfterRefresh<T>(table: Pick<RouterTable, 'refresh'>, queues: readonly string[], ask: (queue: string) => Promise<T | null>): Promise<(T | null)[]> {
  const found = await Promise.all(queues.map(ask));
  if (found.every((q) => q !== null)) return found;
  await table.refresh();
  return Promise.all(queues.map((queue, i): Promise<T | null> => (found[i] !== null ? Promise.resolve(found[i] as T) : ask(queue))));
}

/** No live node holds `queue`'s lease now, as far as this node knows: nothing was sent anywhere. */
export function noOwner(queue: string): ClusterError {
  return new ClusterError('QUEUE_OWNER_UNKNOWN', `no live node owns queue ${queue} right now (a node left and its lease has not run out, or the queue is moving); retry`, true);
}

/** A queue name from a path segment; bad percent-encoding is the caller's mistake, as on one node. */
function queueName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError('INVALID_PATH', `the queue name in the path is not valid percent-encoding: ${JSON.stringify(segment.slice(0, 200))}`);
  }
}

/** What a hop needs of a call: its method, target and headers (an IncomingMessage, or a part of one). */
export interface Call {
  method?: string | undefined;
  url?: string | undefined;
  headers: IncomingMessage['headers'];
}

/** An owner's answer, read whole. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Where a call goes: a queue's service on this node, or (`remote`) another node's router. */
export interface Hop {
  url: string;
  remote: boolean;
}

/**
 * What a forward's outcome tells of the call (not-taken.ts): a failure to reach the owner says
 * whether anything was sent (forward's ClusterError); an owner's answer speaks for itself, its
 * not-taken mark (set only on a refusal: a 503 in the REST API's shape, or an /rpc_http answer,
 * always 200) included.
 */
function fateOfForward(out: Answer | ClusterError | 'served'): HopFate {
  if (out === 'served') return 'may-have-arrived';
  if (out instanceof ClusterError) return out.reachedNoService ? 'never-sent' : 'may-have-arrived';
  return fateOf({ refusedBeforeWork: out.headers[NOT_TAKEN_HEADER] === '1', speaksForItself: true, neverSent: false });
}

/** The call's body, read whole (none for GET and HEAD); past twice the API's own limit the call is refused unread, as the API would. */
export async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') return null;
  const limit = 2 * REQUEST_BODY_BYTES_MAX;
  if (Number(req.headers['content-length'] ?? 0) > limit) throw new BodyTooLargeError(REQUEST_BODY_BYTES_MAX);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLargeError(REQUEST_BODY_BYTES_MAX);
    chargeBody(req, chunk.length); // the node's body budget (body-budget.ts): ServerBusyError past it
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
