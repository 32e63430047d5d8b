/**
 * The dashboard on every cluster node (docs/dashboard.md, "In cluster mode"): the same page and
 * read API one node serves, answered from the queues' owners.
 *
 * Each queue's service (one kernel, that queue alone) already answers the read API for its queue.
 * A read over every queue (the figures, the timeline, the series, a `*` task list) asks each
 * owner once: this node's own services directly, every other node through its
 * `GET /pushq/cluster/parts`, which answers with the parts of the queues that node owns and asks
 * no one else (so no call goes round). dashboard-merge.ts puts the parts together in one node's
 * shapes. A read of one queue (its task list, a task's story) and every command (pause, resume,
 * purge, run, delete) is not handled here: the router forwards it to the owner as any API call.
 *
 *   page ──► any node: front ──► its services (owned here)
 *                         └──HTTP──► other node: /pushq/cluster/parts ──► its services
 *
 * A queue whose owner cannot be asked now (between owners, its node unreachable) is a row with
 * owner null and state `no owner`, never a failed page.
 *
 * Time travel (`?at=S`, seconds on the cluster's axis, cluster-instant.ts): each owner's service
 * reads `?at=` in seconds from its own log's first event. So a read at an instant first asks every
 * owner for its queues' first events (kind `first`), turns S into the absolute instant (µs), and
 * passes that (`atUs`) in the parts call; each node converts it for the queues it owns. A read of
 * one queue (its task list, a story) is converted here, where it enters the cluster: its `at` is
 * rewritten to the queue's own seconds before the router forwards it, and the owner's router
 * (the call marked as forwarded) passes it on as it is.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, request } from 'undici';
import { RECENT_WINDOW_SECONDS } from '../projections/dispatch-counters.js';
import { ASSETS_PATH, asset, page, sendFile } from '../server/dashboard-page.js';
import { ApiError } from '../server/errors.js';
import { sessionCookieFor } from '../server/security.js';
import type { DashboardAt, Timeline } from '../server/read-api.js';
import { ALL_QUEUES, parseInterval, streamSeries, type SeriesPayload } from '../server/series-view.js';
import { parseTaskQuery, type TaskList } from '../server/task-search.js';
import { AT_US_PARAM, atInstant, clusterFirstUs, clusterInstantUs, firstUsFromFigures, hasAt, ownSeconds, parseAtUs } from './cluster-instant.js';
import { mergeDashboard, mergeSeries, mergeTasks, mergeTimeline, type ClusterAt, type QueuePart } from './dashboard-merge.js';
import { ClusterError } from './errors.js';

/** What the front needs of the node (the router's table has it). */
export interface DashboardTable {
  readonly node: string;
  queues(): readonly string[];
  owned(): readonly string[];
  local(queue: string): string | undefined;
  remote(queue: string): string | undefined;
}

/** Where one node answers the parts of the queues it owns (for the other nodes' fronts). */
const PARTS_PATH = '/pushq/cluster/parts';
/** How long an owner may take to answer a read: past it, its queues show as without owner. */
const OWNER_READ_TIMEOUT_MS = 10_000;

/** What a parts call asks of each queue; `first`: its log's first event alone (no body). */
type Kind = 'dashboard' | 'timeline' | 'series' | 'tasks' | 'first';
const KINDS: readonly Kind[] = ['dashboard', 'timeline', 'series', 'tasks', 'first'];

/** The read of `kind` for one queue's service, at `own` (the queue's own seconds) or now (null). */
function readPath(kind: Exclude<Kind, 'first'>, queue: string, query: URLSearchParams, own: string | null): string {
  const q = encodeURIComponent(queue);
  switch (kind) {
    case 'dashboard':
      return own === null ? '/pushq/dashboard.json' : `/pushq/dashboard.json?at=${own}`;
    case 'timeline':
      return '/pushq/timeline.json';
    case 'series':
      return `/pushq/series.json?queue=${q}`;
    case 'tasks': {
      const p = new URLSearchParams(query);
      for (const k of ['kind', 'at', AT_US_PARAM]) p.delete(k);
      if (own !== null) p.set('at', own);
      return `/pushq/queues/${q}/tasks?${p.toString()}`;
    }
  }
}

interface PartsAnswer {
  node: string;
  parts: QueuePart<unknown>[];
}

export class DashboardFront {
  private readonly agent = new Agent({ connections: 16, keepAliveTimeout: 4000 });
  private stopped = false;
  /** Each owned queue's service (its URL) → its log's first event (µs), which never changes once there is one. */
  private readonly firsts = new Map<string, number>();

  /** `owner.table` is read at each call: the router hands itself over before its table is set. */
  constructor(private readonly owner: { readonly table: DashboardTable }) {}

  private get table(): DashboardTable {
    return this.owner.table;
  }

  /**
   * Answers the call when it is the page, its files or a read this front merges; false for anything
   * else (the router's), after rewriting a one-queue read's `?at=` to the queue's own seconds unless
   * `forwarded` (another node's front did). Throws ApiError, ClusterError.
   */
  async answer(req: IncomingMessage, res: ServerResponse, forwarded = false): Promise<boolean> {
    const raw = req.url ?? '/';
    // Every API call passes here first: the queues API's paths are let through unparsed.
    if (!raw.startsWith('/pushq/') && !/^\/(?:dashboard)?(?:\?|$)/.test(raw)) return false;
    const url = new URL(raw, 'http://pushq.invalid');
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return false; // the router refuses it as it does any bad path
    }
    const query = url.searchParams;
    const perQueue = /^\/pushq\/queues\/([^/]+)\/tasks(?:\/[^/]+\/story)?$/.exec(path);
    const ours = /^\/(?:dashboard)?$/.test(path) || path.startsWith(ASSETS_PATH) || path === PARTS_PATH || /^\/pushq\/(?:dashboard\.json|timeline\.json|series\.json|series\/stream)$/.test(path) || perQueue !== null;
    if (!ours) return false;
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') throw new ApiError('UNSUPPORTED_METHOD', `${method} is not supported on ${path}`);
    const auth: Credentials = { authorization: req.headers.authorization, cookie: req.headers.cookie, port: req.socket.localPort ?? 0 };
    if (perQueue !== null && (perQueue[1] !== ALL_QUEUES || path.endsWith('/story'))) {
      // One queue's: forwarded to its owner by the router.
      if (!forwarded && hasAt(query)) await this.rewriteAt(req, perQueue[1] as string, path.endsWith('/story'), query, auth);
      return false;
    }
    if (/^\/(?:dashboard)?$/.test(path)) sendFile(res, 200, page('dashboard'));
    else if (path.startsWith(ASSETS_PATH)) {
      const f = asset(path.slice(ASSETS_PATH.length));
      if (f === undefined) throw new ApiError('UNKNOWN_PATH', `no dashboard file ${path.slice(ASSETS_PATH.length)}`);
      sendFile(res, 200, f);
    } else if (path === PARTS_PATH) sendJson(res, { node: this.table.node, parts: await this.localParts(kindOf(query), query, auth) } satisfies PartsAnswer);
    else if (path === '/pushq/dashboard.json') {
      const at = hasAt(query) ? await this.instant(query, auth) : null;
      const parts = await this.gather<DashboardAt | null>('dashboard', query, auth, at);
      sendJson(res, mergeDashboard(this.table.queues(), parts, at?.us ?? Date.now() * 1000, RECENT_WINDOW_SECONDS, at));
    } else if (path === '/pushq/timeline.json') sendJson(res, mergeTimeline(await this.gather<Timeline>('timeline', query, auth), Date.now() * 1000, this.table.node));
    else if (path === '/pushq/series.json') sendJson(res, await this.series(this.chartQueue(query), auth));
    else if (path === '/pushq/series/stream') {
      const queue = this.chartQueue(query);
      const interval = parseInterval(query);
      streamSeries(res, interval, () => this.series(queue, auth), () => this.stopped);
    } else {
      const q = parseTaskQuery(query);
      const at = hasAt(query) ? await this.instant(query, auth) : null;
      const parts = await this.gather<TaskList | null>('tasks', query, auth, at);
      const got = new Set(parts.map((p) => p.queue));
      const lists = parts.flatMap((p) => (p.body === null ? [] : [p.body])); // null: not begun at the instant asked
      sendJson(res, { ...mergeTasks(lists, q), withoutOwner: this.table.queues().filter((name) => !got.has(name)) });
    }
    return true;
  }

  private chartQueue(query: URLSearchParams): string {
    const queue = query.get('queue') || ALL_QUEUES;
    if (queue !== ALL_QUEUES && !this.table.queues().includes(queue)) throw new ApiError('UNKNOWN_QUEUE', `queue "${queue}" not found`, 'queue');
    return queue;
  }

  private async series(queue: string, auth: Credentials): Promise<SeriesPayload> {
    return mergeSeries(await this.gather<SeriesPayload>('series', new URLSearchParams(), auth), queue, Date.now() * 1000);
  }

  /**
   * `?at=` on the cluster's axis: every owner asked for its queues' first events, then the
   * absolute instant, and each queue's first event (a queue whose owner did not answer is absent).
   * A 400 naming `at` as one node gives it.
   */
  private async instant(query: URLSearchParams, auth: Credentials): Promise<ClusterAt & { firsts: Map<string, number> }> {
    atInstant(query); // neither seconds nor an instant: refused before any call
    const parts = await this.gather<unknown>('first', new URLSearchParams(), auth);
    const firstUs = clusterFirstUs(parts);
    const us = clusterInstantUs(query, firstUs, Date.now() * 1000);
    return { seconds: (us - firstUs) / 1e6, us, firstUs, firsts: new Map(parts.map((p) => [p.queue, p.firstUs])) };
  }

  /**
   * A read of one queue at a cluster instant: its `at` becomes the queue's own seconds, so the
   * owner (here or on another node) reads exactly that instant of its log. A queue not in the
   * configuration is left to the router (it answers NOT_FOUND as one node would).
   */
  private async rewriteAt(req: IncomingMessage, queue: string, story: boolean, query: URLSearchParams, auth: Credentials): Promise<void> {
    if (!this.table.queues().includes(queue)) return;
    const at = await this.instant(query, auth);
    const first = at.firsts.get(queue);
    if (first === undefined) throw new ClusterError('QUEUE_OWNER_UNKNOWN', `no live node owns queue ${queue} right now, so its log's first event (and the instant at=${at.seconds} in it) is not known; retry`, true);
    const own = ownSeconds(at.us, first);
    if (own === null) {
      const why = `queue ${queue}'s log begins after at=${at.seconds} (${(first - at.firstUs) / 1e6} s on the cluster's axis)`;
      throw story ? new ApiError('UNKNOWN_TASK', `no such task then: ${why}`) : new ApiError('UNKNOWN_QUEUE', `queue "${queue}" not found then: ${why}`);
    }
    const p = new URLSearchParams(query);
    p.set('at', own);
    req.url = `${(req.url ?? '/').split('?')[0]}?${p.toString()}`;
  }

  /** Every configured queue's part, each from its owner (at the instant `at`, or now); a queue whose owner did not answer is left out. */
  private async gather<T>(kind: Kind, query: URLSearchParams, auth: Credentials, at: ClusterAt | null = null): Promise<QueuePart<T>[]> {
    const configured = new Set(this.table.queues());
    const nodes = new Set<string>();
    for (const q of configured) {
      const remote = this.table.local(q) === undefined ? this.table.remote(q) : undefined;
      if (remote !== undefined) nodes.add(remote);
    }
    const p = new URLSearchParams(query);
    p.set('kind', kind);
    p.delete('at'); // each node is given the absolute instant, and converts it for its own queues
    p.delete(AT_US_PARAM);
    if (at !== null) p.set(AT_US_PARAM, String(at.us));
    const [local, ...remote] = await Promise.all([
      this.localParts(kind, p, auth),
      ...[...nodes].map((base) => this.getJson<PartsAnswer>(`${base}${PARTS_PATH}?${p.toString()}`, auth).then((a) => a?.parts ?? [])),
    ]);
    const seen = new Set<string>();
    const out: QueuePart<T>[] = [];
    for (const part of [...local, ...remote.flat()]) {
      if (!configured.has(part.queue) || seen.has(part.queue)) continue; // a queue caught moving: its first answer
      seen.add(part.queue);
      out.push(part as QueuePart<T>);
    }
    return out;
  }

  /**
   * The parts of the queues this node owns and serves now, read from their services; at the
   * instant `atUs` of the query when it has one (each queue's at its own seconds; a queue whose log
   * had not begun then: body null). The first event comes exact from the service's figures now
   * (cluster-instant.ts `firstUsFromFigures`), read once per service.
   */
  private async localParts(kind: Kind, query: URLSearchParams, auth: Credentials): Promise<QueuePart<unknown>[]> {
    const atUs = parseAtUs(query);
    const bases = new Set<string>();
    const read = async (queue: string): Promise<QueuePart<unknown> | null> => {
      const base = this.table.local(queue);
      if (base === undefined) return null;
      bases.add(base);
      const part = (firstUs: number, body: unknown): QueuePart<unknown> => {
        if (!Number.isNaN(firstUs)) this.firsts.set(base, firstUs);
        return { queue, owner: this.table.node, firstUs, body };
      };
      const figuresNow = async (): Promise<DashboardAt | null> => this.getJson<DashboardAt>(`${base}/pushq/dashboard.json`, auth);
      if (kind === 'dashboard' && atUs === null) {
        const now = await figuresNow();
        return now === null ? null : part(firstUsFromFigures(now.now, now.atSeconds), now);
      }
      let firstUs = this.firsts.get(base);
      if (firstUs === undefined) {
        const now = await figuresNow();
        if (now === null) return null;
        firstUs = firstUsFromFigures(now.now, now.atSeconds);
      }
      if (kind === 'first') return part(firstUs, null);
      const own = atUs === null ? null : ownSeconds(atUs, firstUs);
      if (atUs !== null && own === null) return part(firstUs, null);
      const body = await this.getJson<unknown>(base + readPath(kind, queue, query, own), auth);
      return body === null ? null : part(firstUs, body);
    };
    const parts = await Promise.all(this.table.owned().map(read));
    for (const base of this.firsts.keys()) if (!bases.has(base)) this.firsts.delete(base); // a queue given up, or a service restarted
    return parts.filter((p): p is QueuePart<unknown> => p !== null);
  }

  /** A JSON answer of 200, or null (no answer in time, or another status: the part is left out). */
  private async getJson<T>(url: string, auth: Credentials): Promise<T | null> {
    try {
      const out = await request(url, { headers: { accept: 'application/json', ...hopHeaders(auth, url) }, dispatcher: this.agent, headersTimeout: OWNER_READ_TIMEOUT_MS, bodyTimeout: OWNER_READ_TIMEOUT_MS });
      if (out.statusCode !== 200) {
        await out.body.dump();
        return null;
      }
      return (await out.body.json()) as T;
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.agent.close();
  }
}

function kindOf(query: URLSearchParams): Kind {
  const kind = query.get('kind') ?? '';
  if (!(KINDS as readonly string[]).includes(kind)) throw new ApiError('INVALID_FIELD', `kind: "${kind.slice(0, 40)}" is not one of ${KINDS.join(', ')}`, 'kind');
  return kind as Kind;
}

/** The caller's credentials, and the port it called (its dashboard session is named after it). */
export interface Credentials {
  authorization: string | undefined;
  cookie: string | undefined;
  port: number;
}

/** The credentials carried to a service or node at `url` (each checks them as this node did): a session cookie renamed for its port. */
export function hopHeaders(auth: Credentials, url: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (auth.authorization !== undefined) out['authorization'] = auth.authorization;
  const cookie = sessionCookieFor(auth.cookie, auth.port, Number(new URL(url).port));
  if (cookie !== undefined) out['cookie'] = cookie;
  return out;
}

function sendJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
