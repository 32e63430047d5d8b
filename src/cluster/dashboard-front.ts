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
 * owner null and state `no owner`, never a failed page. Time travel (`?at=`) is refused with a 400
 * naming `at`: each owner's service answers `?at=` for its queue, but in seconds from its own log's
 * first event, and the queues' logs start at different instants (converting one cluster instant
 * for every queue, here and in the reads the router forwards, is not built).
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
import { mergeDashboard, mergeSeries, mergeTasks, mergeTimeline, type QueuePart } from './dashboard-merge.js';

/** What the front needs of the node (the router's table has it). */
export interface DashboardTable {
  readonly node: string;
  queues(): readonly string[];
  owned(): readonly string[];
  local(queue: string): string | undefined;
  remote(queue: string): string | undefined;
}

/** Where one node answers the parts of the queues it owns (for the other nodes' fronts). */
export const PARTS_PATH = '/pushq/cluster/parts';
/** How long an owner may take to answer a read: past it, its queues show as without owner. */
const OWNER_READ_TIMEOUT_MS = 10_000;

type Kind = 'dashboard' | 'timeline' | 'series' | 'tasks';
const KINDS: readonly Kind[] = ['dashboard', 'timeline', 'series', 'tasks'];

/** The read of `kind` for one queue's service. */
function readPath(kind: Kind, queue: string, query: URLSearchParams): string {
  const q = encodeURIComponent(queue);
  switch (kind) {
    case 'dashboard':
      return '/pushq/dashboard.json';
    case 'timeline':
      return '/pushq/timeline.json';
    case 'series':
      return `/pushq/series.json?queue=${q}`;
    case 'tasks': {
      const p = new URLSearchParams(query);
      p.delete('kind');
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
  /** Each owned queue's service (its URL) → its log's first event (ms), which never changes once there is one. */
  private readonly firsts = new Map<string, number>();

  /** `owner.table` is read at each call: the router hands itself over before its table is set. */
  constructor(private readonly owner: { readonly table: DashboardTable }) {}

  private get table(): DashboardTable {
    return this.owner.table;
  }

  /** Answers the call when it is the page, its files or a read this front merges; false for anything else (the router's). Throws ApiError. */
  async answer(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
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
    // The page itself opens with ?at= (a shared URL): it shows now and says why.
    if (path.startsWith('/pushq/') && !path.startsWith(ASSETS_PATH)) refuseAt(query);
    if (perQueue !== null && (perQueue[1] !== ALL_QUEUES || path.endsWith('/story'))) return false; // one queue's: forwarded to its owner
    const auth: Credentials = { authorization: req.headers.authorization, cookie: req.headers.cookie, port: req.socket.localPort ?? 0 };
    if (/^\/(?:dashboard)?$/.test(path)) sendFile(res, 200, page('dashboard'));
    else if (path.startsWith(ASSETS_PATH)) {
      const f = asset(path.slice(ASSETS_PATH.length));
      if (f === undefined) throw new ApiError('UNKNOWN_PATH', `no dashboard file ${path.slice(ASSETS_PATH.length)}`);
      sendFile(res, 200, f);
    } else if (path === PARTS_PATH) sendJson(res, { node: this.table.node, parts: await this.localParts(kindOf(query), query, auth) } satisfies PartsAnswer);
    else if (path === '/pushq/dashboard.json') sendJson(res, mergeDashboard(this.table.queues(), await this.gather<DashboardAt>('dashboard', query, auth), Date.now(), RECENT_WINDOW_SECONDS));
    else if (path === '/pushq/timeline.json') sendJson(res, mergeTimeline(await this.gather<Timeline>('timeline', query, auth), Date.now(), this.table.node));
    else if (path === '/pushq/series.json') sendJson(res, await this.series(this.chartQueue(query), auth));
    else if (path === '/pushq/series/stream') {
      const queue = this.chartQueue(query);
      const interval = parseInterval(query);
      streamSeries(res, interval, () => this.series(queue, auth), () => this.stopped);
    } else {
      const q = parseTaskQuery(query);
      const parts = await this.gather<TaskList>('tasks', query, auth);
      const got = new Set(parts.map((p) => p.queue));
      sendJson(res, { ...mergeTasks(parts.map((p) => p.body), q), withoutOwner: this.table.queues().filter((name) => !got.has(name)) });
    }
    return true;
  }

  private chartQueue(query: URLSearchParams): string {
    const queue = query.get('queue') || ALL_QUEUES;
    if (queue !== ALL_QUEUES && !this.table.queues().includes(queue)) throw new ApiError('UNKNOWN_QUEUE', `queue "${queue}" not found`, 'queue');
    return queue;
  }

  private async series(queue: string, auth: Credentials): Promise<SeriesPayload> {
    return mergeSeries(await this.gather<SeriesPayload>('series', new URLSearchParams(), auth), queue, Date.now());
  }

  /** Every configured queue's part, each from its owner; a queue whose owner did not answer is left out. */
  private async gather<T>(kind: Kind, query: URLSearchParams, auth: Credentials): Promise<QueuePart<T>[]> {
    const configured = new Set(this.table.queues());
    const nodes = new Set<string>();
    for (const q of configured) {
      const remote = this.table.local(q) === undefined ? this.table.remote(q) : undefined;
      if (remote !== undefined) nodes.add(remote);
    }
    const p = new URLSearchParams(query);
    p.set('kind', kind);
    const [local, ...remote] = await Promise.all([
      this.localParts(kind, query, auth),
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

  /** The parts of the queues this node owns and serves now, read from their services. */
  private async localParts(kind: Kind, query: URLSearchParams, auth: Credentials): Promise<QueuePart<unknown>[]> {
    const bases = new Set<string>();
    const read = async (queue: string): Promise<QueuePart<unknown> | null> => {
      const base = this.table.local(queue);
      if (base === undefined) return null;
      bases.add(base);
      const known = this.firsts.get(base);
      const [timeline, body] = await Promise.all([
        kind === 'timeline' || known === undefined ? this.getJson<Timeline>(`${base}/pushq/timeline.json`, auth) : null,
        kind === 'timeline' ? null : this.getJson<unknown>(base + readPath(kind, queue, query), auth),
      ]);
      if (kind === 'timeline' ? timeline === null : body === null || (known === undefined && timeline === null)) return null;
      const firstMs = known ?? (typeof timeline?.first === 'string' ? Date.parse(timeline.first) : NaN);
      if (!Number.isNaN(firstMs)) this.firsts.set(base, firstMs);
      return { queue, owner: this.table.node, firstMs, body: kind === 'timeline' ? timeline : body };
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

/** `?at=` on any read: refused in cluster mode (see the top of this file), naming the parameter. */
function refuseAt(query: URLSearchParams): void {
  const at = query.get('at');
  if (at === null || at === '') return;
  throw new ApiError('INVALID_FIELD', `at: time travel (?at=) is not served in cluster mode: each queue's past is in its owner's log in the store; read it with pushq replay STORE_URL --queue Q --at S, or open the page without ?at=`, 'at');
}

function kindOf(query: URLSearchParams): Kind {
  const kind = query.get('kind') ?? '';
  if (!(KINDS as readonly string[]).includes(kind)) throw new ApiError('INVALID_FIELD', `kind: "${kind.slice(0, 40)}" is not one of ${KINDS.join(', ')}`, 'kind');
  return kind as Kind;
}

/** The caller's credentials, and the port it called (its dashboard session is named after it). */
interface Credentials {
  authorization: string | undefined;
  cookie: string | undefined;
  port: number;
}

/** The credentials carried to a service or node at `url` (each checks them as this node did): a session cookie renamed for its port. */
function hopHeaders(auth: Credentials, url: string): Record<string, string> {
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
