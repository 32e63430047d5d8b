/**
 * The HTTP API: Cloud Tasks v2 REST paths (so existing clients work unchanged) plus pushq's own
 * (`POST /pushq/reload`, `GET /pushq/health`), and the dashboard: its page (`GET /`, `/dashboard`)
 * and its read API (read-api.ts: figures now or at an instant, timeline, series and their stream,
 * task lists, a task's story), which `pushq replay LOG --ui` serves over a recorded log too.
 *
 * The Cloud Tasks calls themselves are operations.ts, shared with the gRPC service (grpc/); this
 * file reads them off REST paths, query strings and JSON bodies.
 *
 * Invariants:
 * - A command runs through the WallDriver (due timers first, then the command, then re-arm), and
 *   its answer is sent only after `await log.flush()`: an acknowledged change is durable.
 * - A rejected command changed nothing (the kernel's contract) and answers in Google's error
 *   shape (errors.ts); reads never append to the log (a story flushes it and reads it back).
 * - Queues come from queue.yaml only: create / patch / delete answer FAILED_PRECONDITION.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRpcHttp, serveRpcHttp } from './appengine/rpc-http.js';
import { ClientGoneError, discardUnreadBody, readJsonBody } from './body.js';
import { setRetryAfterWhenBusy } from './body-budget.js';
import { ApiError, showSent, toApiError, type ApiOperation } from './errors.js';
import { PATH_FIELDS, REQUEST_BODIES, normalizeFields, type MessageSchema } from './request-fields.js';
import { parseView, queuePath, runTaskView, taskPath, type Location } from './resources.js';
import { serveRead } from './read-api.js';
import { requestTarget } from './request-target.js';
import { LIST_QUEUES_QUERY, LIST_TASKS_QUERY, pageQuery } from './page-token.js';
import { queryFields } from './query-params.js';
import { changeQueue, createTask, deleteTask, engineState as state, getQueue, getTask, listQueues, listTasks, notServed, queuesAreFromYaml, reloadRefused, resetTasks, runTask, type ApiContext, type QueueVerb } from './operations.js';
import { JWKS_PATH, OPENID_CONFIGURATION_PATH } from '../dispatch/id-tokens.js';

export type { ApiContext, ReloadOutcome } from './operations.js';

// `/v2` may be left out: Firebase Admin SDKs call a Cloud Tasks emulator (CLOUD_TASKS_EMULATOR_HOST) at `/projects/...`.
const V2 = '^(?:/v2)?/projects/([^/]+)/locations/([^/]+)/queues';

type Handler = (ctx: ApiContext, m: Match) => Promise<unknown>;

interface Match {
  loc: Location;
  queue: string;
  task: string;
  verb: string;
  req: IncomingMessage;
  /** The call's own query parameters, by camelCase name (query-params.ts). */
  query: Readonly<Record<string, string>>;
}

interface Route {
  pattern: RegExp;
  methods: Readonly<Record<string, Handler>>;
  /**
   * A Cloud Tasks call's query parameters, by method (none when the method is not listed): any
   * other but Google's system parameters is refused. Absent for routes that are not Cloud Tasks
   * calls pushq serves (IAM, locations: UNIMPLEMENTED whatever the query; pushq's own).
   */
  query?: Readonly<Record<string, readonly string[]>>;
  op?: ApiOperation;
}

const NO_QUERY: readonly string[] = [];

const fromYaml: Handler = async () => queuesAreFromYaml();

/**
 * The request's body as a JSON object whose every field the call knows (request-fields.ts), with
 * camelCase names; an empty body is `{}`. `resource` is the name the URL gives (a queue's or a
 * task's; the parent queue for a create): a `parent` or `name` in the body must repeat it.
 */
async function readBody(m: Match, schema: MessageSchema, resource = ''): Promise<Record<string, unknown>> {
  const raw = await readJsonBody(m.req);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ApiError('INVALID_FIELD', 'the request body must be a JSON object');
  const body = normalizeFields(raw, schema) as Record<string, unknown>;
  for (const key of PATH_FIELDS) {
    const value = body[key];
    if (value !== undefined && value !== resource) throw new ApiError('INVALID_FIELD', `${key} ${showSent(value)} in the body is not ${resource}, named by the request path`, key);
  }
  return body;
}

const ROUTES: readonly Route[] = [
  {
    pattern: new RegExp(`${V2}$`),
    methods: {
      GET: async (ctx, m) => listQueues(ctx, m.loc, pageQuery(m.query)),
      POST: fromYaml,
    },
    query: { GET: LIST_QUEUES_QUERY },
  },
  {
    pattern: new RegExp(`${V2}/([^/:]+)$`),
    methods: {
      GET: async (ctx, m) => getQueue(ctx, m.loc, m.queue),
      PATCH: fromYaml,
      DELETE: fromYaml,
    },
    query: { PATCH: ['updateMask'] },
  },
  {
    pattern: new RegExp(`${V2}/([^/:]+):(pause|resume|purge)$`),
    methods: {
      POST: async (ctx, m) => {
        await readBody(m, REQUEST_BODIES.named, queuePath(m.loc, m.queue));
        return changeQueue(ctx, m.loc, m.queue, m.verb as QueueVerb);
      },
    },
    query: {},
  },
  // Calls pushq does not serve: UNIMPLEMENTED, as over gRPC, not UNKNOWN_PATH (NOT_FOUND), which
  // the client would take for a missing queue or location.
  {
    pattern: new RegExp(`${V2}/([^/:]+):(getIamPolicy|setIamPolicy|testIamPermissions)$`),
    methods: { POST: async (_ctx, m) => notServed(`google.cloud.tasks.v2.CloudTasks.${m.verb[0]!.toUpperCase()}${m.verb.slice(1)}`) },
  },
  {
    // Cloud Tasks binds the locations mixin under /v2; google-gax's REST client calls /v1.
    pattern: /^(?:\/v[12])?\/projects\/([^/]+)\/locations(?:\/([^/:]+))?$/,
    methods: { GET: async (_ctx, m) => notServed(`google.cloud.location.Locations.${m.loc.location === '' ? 'ListLocations' : 'GetLocation'}`) },
  },
  {
    pattern: new RegExp(`${V2}/([^/:]+)/tasks$`),
    op: 'create',
    methods: {
      GET: async (ctx, m) => listTasks(ctx, m.loc, m.queue, pageQuery(m.query), parseView(m.query['responseView'])),
      POST: async (ctx, m) => createTask(ctx, m.loc, m.queue, await readBody(m, REQUEST_BODIES.createTask, queuePath(m.loc, m.queue))),
    },
    query: { GET: LIST_TASKS_QUERY },
  },
  {
    pattern: new RegExp(`${V2}/([^/:]+)/tasks/([^/:]+)$`),
    methods: {
      GET: async (ctx, m) => getTask(ctx, m.loc, m.queue, m.task, parseView(m.query['responseView'])),
      DELETE: async (ctx, m) => {
        await readBody(m, REQUEST_BODIES.named, taskPath(m.loc, m.queue, m.task));
        return deleteTask(ctx, m.queue, m.task);
      },
    },
    query: { GET: ['responseView'] },
  },
  {
    pattern: new RegExp(`${V2}/([^/:]+)/tasks/([^/:]+):(run)$`),
    methods: {
      POST: async (ctx, m) => {
        const view = runTaskView(await readBody(m, REQUEST_BODIES.runTask, taskPath(m.loc, m.queue, m.task)));
        return runTask(ctx, m.loc, m.queue, m.task, view);
      },
    },
    query: {},
  },
  {
    pattern: /^\/pushq\/reload$/,
    methods: {
      POST: async (ctx, m) => {
        await readBody(m, REQUEST_BODIES.empty);
        const outcome = await ctx.reload();
        if (!outcome.ok) throw reloadRefused(outcome);
        return { applied: true, lines: outcome.lines };
      },
    },
  },
  {
    pattern: /^\/pushq\/reset$/,
    methods: {
      POST: async (ctx, m) => {
        await readBody(m, REQUEST_BODIES.empty);
        return resetTasks(ctx);
      },
    },
  },
  // The issuer of HTTP target tasks' OIDC tokens: its discovery document and public keys.
  {
    pattern: new RegExp(`^${OPENID_CONFIGURATION_PATH.replaceAll('.', '\\.')}$`),
    methods: { GET: async (ctx) => ctx.tokens.openidConfiguration() },
  },
  {
    pattern: new RegExp(`^${JWKS_PATH.replaceAll('.', '\\.')}$`),
    methods: { GET: async (ctx) => ctx.tokens.jwks() },
  },
  {
    pattern: /^\/pushq\/health$/,
    methods: {
      GET: async (ctx) => ({ ok: true, inFlight: ctx.driver.pendingAsync, tasks: state(ctx).tasks.count }),
    },
  },
];

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The request listener while the service restores its state: every request gets UNAVAILABLE. */
export function answerStarting(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  send(res, 503, new ApiError('STARTING', 'pushq serve is starting: try again in a moment'));
}

/** The request listener for node:http. */
export function createApiHandler(ctx: ApiContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    // App Engine apps' own Task Queue API calls (docs/app-engine.md): protobuf, not JSON.
    if (isRpcHttp(req)) return void serveRpcHttp(ctx, req, res);
    void handle(ctx, req, res);
  };
}

async function handle(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let op: ApiOperation = 'other';
  try {
    if (ctx.stopping) throw new ApiError('SHUTTING_DOWN', 'pushq is shutting down');
    // Read as the guard read it when it decided what needs the token (request-target.ts).
    const { url, path } = requestTarget(req.url ?? '/');
    // The dashboard's page and read API (read-api.ts), the same as `pushq replay --ui` serves.
    if (await serveRead(ctx.dashboard, req, res, path, url.searchParams)) return;
    for (const route of ROUTES) {
      const g = route.pattern.exec(path);
      if (!g) continue;
      const method = req.method ?? 'GET';
      const handler = Object.hasOwn(route.methods, method) ? route.methods[method] : undefined;
      if (handler === undefined) throw new ApiError('UNSUPPORTED_METHOD', `${method} is not supported on ${path}`);
      if (method === 'POST' && route.op === 'create') op = 'create';
      // Checked before the body is read or the call runs: a refused query changes nothing.
      const query = route.query === undefined ? {} : queryFields(url.searchParams, Object.hasOwn(route.query, method) ? (route.query[method] as readonly string[]) : NO_QUERY);
      const m: Match = { loc: { project: g[1] ?? '', location: g[2] ?? '' }, queue: g.groups?.['queue'] ?? g[3] ?? '', task: g.groups?.['task'] ?? g[4] ?? '', verb: g[4] ?? '', req, query };
      send(res, 200, await handler(ctx, m));
      return;
    }
    throw new ApiError('UNKNOWN_PATH', `no API at ${path} (pushq serves the Cloud Tasks v2 REST API under /v2/projects/P/locations/L/queues, and a dashboard at /)`);
  } catch (err) {
    if (err instanceof ClientGoneError) {
      res.destroy(); // no one to answer, nothing to report: the request changed nothing
      return;
    }
    const apiError = toApiError(err, op);
    if (apiError.status === 'INTERNAL') process.stderr.write(`pushq serve: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    // A body left unread (too large): answer at once, and discard whatever else arrives without
    // keeping it (body.ts).
    discardUnreadBody(req, res);
    setRetryAfterWhenBusy(res, apiError);
    send(res, apiError.httpStatus, apiError);
  }
}
