/**
 * What a request must show before `pushq serve` acts on it. The threat is the developer's own
 * browser: any page it visits can send requests to 127.0.0.1, and a page on a domain whose DNS
 * the attacker controls can be made same-origin with pushq (DNS rebinding). So, in this order:
 *
 * 1. Host: the request must name the address pushq is bound to (127.0.0.1, localhost, [::1], the
 *    bound host; on a wildcard bind, this machine's addresses) or an `--allow-host` name. A
 *    rebinding page sends its own domain. The port is not compared: the name is what rebinding
 *    changes, and a proxy or a port forward may present another port.
 * 2. Origin: a state-changing request (any method but GET, HEAD, OPTIONS) whose `Origin` is
 *    present must come from pushq's own origin (the one its Host names) or an `--allow-origin`.
 *    Browsers send Origin on every cross-origin POST, `no-cors` ones included; curl and the
 *    official clients send none.
 * 3. Content type: a request with a body (or a content type) must be `application/json`. A page
 *    can send a form or text/plain body cross-origin without asking the server first (a "simple"
 *    request); it cannot send JSON that way.
 * 4. Authentication, when there is a token (`--auth-token`, required to bind beyond loopback):
 *    `Authorization: Bearer TOKEN`, or the dashboard's session cookie, which its login page
 *    (`POST /pushq/login` with the token) sets: HttpOnly, SameSite=Strict, its value derived from
 *    the token (changing the token ends every session).
 *
 * A refusal is answered in Google's error shape naming what was refused, before the body is read
 * and before any route runs: it changes nothing. Every response carries nosniff, no framing and
 * no caching; the dashboard's pages add their own Content-Security-Policy (dashboard-page.ts).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { JWKS_PATH, OPENID_CONFIGURATION_PATH } from '../dispatch/id-tokens.js';
import { RPC_ACCEPTS, isRpcContentType, isRpcHttp } from './appengine/rpc-http.js';
import { discardUnreadBody, readJsonBody } from './body.js';
import { setRetryAfterWhenBusy } from './body-budget.js';
import { ASSETS_PATH } from './dashboard-page.js';
import { ApiError } from './errors.js';
import { normalizeFields, type MessageSchema } from './request-fields.js';
import { adoptAbsoluteForm, requestTarget } from './request-target.js';
import { inputName, ServeStartError, type InputNames } from './start-errors.js';
import { bindsEveryAddress } from './listen-url.js';

export interface SecurityOptions {
  /** The address to bind (default 127.0.0.1). */
  host?: string;
  /** More names a request's Host may give (`--allow-host`). */
  allowHosts?: readonly string[];
  /** More origins allowed to send state-changing requests (`--allow-origin`), e.g. `https://tasks.dev.example`. */
  allowOrigins?: readonly string[];
  /** When set, every request needs it (`--auth-token`). */
  authToken?: string;
  /** Bind beyond loopback without a token (`--insecure-public`). */
  insecurePublic?: boolean;
  /** How refusals name these options: as `pushq serve`'s flags (default) or as the library's options. */
  inputNames?: InputNames;
}

/** A token shorter than this can be guessed; it would protect nothing. */
const AUTH_TOKEN_LENGTH_MIN = 16;
const TOKEN_CHARS = /^[\x21-\x7e]+$/;
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
/** What a request handed on must answer; `next` in {@link RequestGuard.serve}. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

const LOGIN_BODY: MessageSchema = { fields: { token: 'value' } };

/** Headers on every response, refusals included. */
const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** The login page, answered to a browser that opens the dashboard without a session. */
export interface LoginPage {
  serve(res: ServerResponse, status: number): void;
}

export class RequestGuard {
  private constructor(
    private readonly hosts: ReadonlySet<string>,
    private readonly origins: ReadonlySet<string>,
    private readonly token: string | undefined,
  ) {}

  /**
   * Checks the options and what binding `host` exposes, before anything is bound: beyond loopback
   * without a token (and without `insecurePublic`) is refused.
   */
  static async create(options: SecurityOptions): Promise<RequestGuard> {
    const host = options.host ?? '127.0.0.1';
    const token = options.authToken;
    const name = (input: Parameters<typeof inputName>[0]): string => inputName(input, options.inputNames);
    const problem = token === undefined ? null : authTokenProblem(token);
    if (problem !== null) throw new ServeStartError('AUTH_TOKEN_INVALID', `${name('authToken')} ${problem}`);
    if (token === undefined && options.insecurePublic !== true && !(await isLoopback(host))) {
      throw new ServeStartError(
        'UNPROTECTED_PUBLIC_BIND',
        `${name('host')} ${host} is not a loopback address: anyone who can reach it could read every task and send requests to your app through pushq. ` +
          `Give ${name('authToken')} TOKEN (then every request needs Authorization: Bearer TOKEN; the dashboard asks for it once), ` +
          `or ${name('insecurePublic')} to serve it with no authentication`,
      );
    }
    const hosts = new Set<string>();
    for (const h of [...LOOPBACK_NAMES, host, ...(bindsEveryAddress(host) ? machineAddresses() : [])]) hosts.add(hostName(h) as string);
    for (const given of options.allowHosts ?? []) {
      const n = hostName(given);
      if (n === undefined) throw new ServeStartError('ALLOW_HOST_INVALID', `${name('allowHosts')} "${given}" is not a host name or address (give the name only, without scheme, port or path)`);
      hosts.add(n);
    }
    const origins = new Set<string>();
    for (const o of options.allowOrigins ?? []) {
      const origin = originOf(o);
      if (origin === undefined) throw new ServeStartError('ALLOW_ORIGIN_INVALID', `${name('allowOrigins')} "${o}" is not an origin such as https://tasks.dev.example or http://localhost:3000`);
      origins.add(origin);
    }
    return new RequestGuard(hosts, origins, token);
  }

  /** Whether every request must authenticate. */
  get authRequired(): boolean {
    return this.token !== undefined;
  }

  /**
   * Answers a refused request itself; hands the others to `next`. `login` answers a browser
   * that opens the dashboard without a session.
   */
  serve(req: IncomingMessage, res: ServerResponse, next: RequestListener, login: LoginPage): void {
    for (const [k, v] of Object.entries(COMMON_HEADERS)) res.setHeader(k, v);
    const hostFromTarget = adoptAbsoluteForm(req); // the host a request is for is its target's, when the target names one
    const method = req.method ?? 'GET';
    const refusal = this.hostRefusal(req, hostFromTarget) ?? this.originRefusal(req, method) ?? contentTypeRefusal(req, method);
    if (refusal !== undefined) return refuse(req, res, refusal);
    const origin = req.headers.origin;
    if (origin !== undefined && this.origins.has(origin)) {
      // An allowed foreign origin (a web app of the developer's) may call the API with a token.
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
      if (method === 'OPTIONS') {
        res.writeHead(204, { 'access-control-allow-methods': 'GET, POST, PATCH, DELETE', 'access-control-allow-headers': 'authorization, content-type', 'access-control-max-age': '600' });
        res.end();
        return;
      }
    }
    if (this.token === undefined || this.authenticated(req)) return next(req, res);
    // The path as the handlers will route it, dot segments resolved and decoded: as written,
    // /pushq/assets/../dashboard.json starts with the assets' folder and reads the figures.
    const path = routedPath(req.url ?? '/');
    if (path === '/pushq/login' && method === 'POST') return void this.login(req, res);
    if (path?.startsWith(ASSETS_PATH) && SAFE_METHODS.has(method)) return next(req, res); // the login page's own files
    // The OIDC issuer's discovery document and public keys: workers verifying tokens have no token of pushq's.
    if ((path === OPENID_CONFIGURATION_PATH || path === JWKS_PATH) && SAFE_METHODS.has(method)) return next(req, res);
    if ((path === '/' || path === '/dashboard') && SAFE_METHODS.has(method)) return login.serve(res, 401);
    res.setHeader('www-authenticate', 'Bearer realm="pushq"');
    refuse(req, res, new ApiError('AUTH_REQUIRED', req.headers.authorization === undefined ? 'this server needs Authorization: Bearer TOKEN (the --auth-token it was started with)' : 'the Authorization header does not carry this server\'s token'));
  }

  /** The check of a gRPC call's `authorization` metadata (grpc-service.ts, authRefusal); undefined without a token. */
  get grpcAuthorize(): ((authorization: string | undefined) => boolean) | undefined {
    return this.token === undefined ? undefined : (a) => this.acceptsAuthorization(a);
  }

  /** Whether an `Authorization` value (a gRPC call's metadata) is acceptable: always, without a token. */
  acceptsAuthorization(authorization: string | undefined): boolean {
    if (this.token === undefined) return true;
    const bearer = authorization === undefined ? undefined : /^Bearer[ ]+(\S+)\s*$/i.exec(authorization)?.[1];
    return bearer !== undefined && sameSecret(bearer, this.token);
  }

  /**
   * `fromTarget`: the request's target was in absolute form, and its Host is the target's authority
   * (adoptAbsoluteForm): the refusal names that, not the Host header the client sent. --allow-host
   * is suggested only where it helps: for a host name; not for no Host at all, nor for a value that
   * names no host (userinfo in a target, `user@host`, which HTTP forbids: RFC 9110 §4.2.4), nor
   * for a host whose port is no port (`127.0.0.1:99999`).
   */
  private hostRefusal(req: IncomingMessage, fromTarget: boolean): ApiError | undefined {
    const given = req.headers.host;
    const name = given === undefined ? undefined : hostName(given, true);
    if (name !== undefined && this.hosts.has(name)) return undefined;
    const names = [...this.hosts].join(', ');
    if (given === undefined) return new ApiError('HOST_NOT_ALLOWED', `the request has no Host header: this server answers only to requests whose Host names one of its addresses (${names})`);
    const judged = fromTarget ? `the request target's authority ${JSON.stringify(given.slice(0, 200))} (a target in absolute form is judged by it, not by Host: RFC 9112 §3.2.2)` : `Host ${JSON.stringify(given.slice(0, 200))}`;
    if (name !== undefined) return new ApiError('HOST_NOT_ALLOWED', `${judged} is not an address this server answers to (${names}); start it with --allow-host ${name} to add it`);
    const why =
      fromTarget && given.includes('@') ? 'it carries userinfo (before "@"), which a request must not (RFC 9110 §4.2.4): send the target without it'
      : isIP(given) === 6 ? `an IPv6 address is written in brackets there, [${given}] (RFC 3986 §3.2.2)`
      : hostWithBadPort(given) ? 'its port is not a number from 0 to 65535'
      : 'it names no host (a name or an address, with an optional :port)';
    return new ApiError('HOST_NOT_ALLOWED', `${judged} is refused: ${why}; this server answers to ${names}`);
  }

  private originRefusal(req: IncomingMessage, method: string): ApiError | undefined {
    const origin = req.headers.origin;
    if (origin === undefined || SAFE_METHODS.has(method) || this.origins.has(origin) || isOwnOrigin(origin, req.headers.host ?? '')) return undefined;
    return new ApiError('ORIGIN_NOT_ALLOWED', `a ${method} from Origin ${JSON.stringify(origin.slice(0, 200))} is refused: only pushq's own pages may change things from a browser; start it with --allow-origin ORIGIN to allow another`);
  }

  private authenticated(req: IncomingMessage): boolean {
    const token = this.token as string;
    const auth = req.headers.authorization;
    const bearer = auth === undefined ? undefined : /^Bearer[ ]+(\S+)\s*$/i.exec(auth)?.[1];
    if (bearer !== undefined) return sameSecret(bearer, token);
    const cookie = cookieValue(req.headers.cookie, sessionCookieName(req));
    return cookie !== undefined && sameSecret(cookie, sessionValue(token));
  }

  /** `POST /pushq/login` with `{"token": "..."}`: the session cookie, or AUTH_REQUIRED. */
  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = normalizeFields(await readJsonBody(req), LOGIN_BODY) as { token?: unknown };
      if (typeof body.token !== 'string' || !sameSecret(body.token, this.token as string)) throw new ApiError('AUTH_REQUIRED', 'that is not this server\'s token');
      const text = JSON.stringify({ ok: true });
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        'set-cookie': `${sessionCookieName(req)}=${sessionValue(this.token as string)}; Path=/; HttpOnly; SameSite=Strict`,
      });
      res.end(text);
    } catch (err) {
      refuse(req, res, err instanceof ApiError ? err : new ApiError('INVALID_JSON', (err as Error).message));
    }
  }
}

/** What is wrong with a token (`--auth-token`, `--auth-token-file`'s content), or null for a good one. */
export function authTokenProblem(token: string): string | null {
  if (token.length >= AUTH_TOKEN_LENGTH_MIN && TOKEN_CHARS.test(token)) return null;
  return `must be at least ${AUTH_TOKEN_LENGTH_MIN} characters, printable ASCII without spaces (e.g. the output of: openssl rand -hex 24)`;
}

/** A request's path as it is routed (request-target.ts), or undefined for one no route takes. */
function routedPath(target: string): string | undefined {
  try {
    return requestTarget(target).path;
  } catch {
    return undefined;
  }
}

/** Answers `error` in Google's shape; a body left unread is discarded (body.ts, discardUnreadBody). */
export function refuse(req: IncomingMessage, res: ServerResponse, error: ApiError): void {
  const text = JSON.stringify(error);
  discardUnreadBody(req, res);
  setRetryAfterWhenBusy(res, error);
  res.writeHead(error.httpStatus, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function contentTypeRefusal(req: IncomingMessage, method: string): ApiError | undefined {
  if (SAFE_METHODS.has(method)) return undefined;
  const type = req.headers['content-type'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (type === undefined ? !hasBody : isJson(type)) return undefined;
  // App Engine's API calls (POST /rpc_http) are protobuf. A page cannot send this type
  // cross-origin without a preflight (it is not a "simple" request), so the rule's reason holds.
  const rpc = isRpcHttp(req);
  if (rpc && isRpcContentType(type)) return undefined;
  const received = type === undefined ? 'a body without a Content-Type' : `Content-Type ${JSON.stringify(type.slice(0, 200))}`;
  return new ApiError('UNSUPPORTED_MEDIA_TYPE', `${received} is refused: ${rpc ? RPC_ACCEPTS : 'request bodies must be JSON, sent with Content-Type: application/json'}`);
}

/** `application/json`, with parameters (a charset) or none; nothing else, not even `+json` types. */
function isJson(type: string): boolean {
  return type.split(';', 1)[0]?.trim().toLowerCase() === 'application/json';
}

/** An Origin is pushq's own when it names the same host and port as the request's Host. */
function isOwnOrigin(origin: string, host: string): boolean {
  let o: URL;
  try {
    o = new URL(origin);
    if ((o.protocol !== 'http:' && o.protocol !== 'https:') || o.origin !== origin.toLowerCase().replace(/\/$/, '')) return false;
    return o.host === new URL(`${o.protocol}//${host}`).host;
  } catch {
    return false;
  }
}

/** `scheme://host[:port]`, normalised as browsers send it, or undefined. */
function originOf(text: string): string | undefined {
  try {
    const u = new URL(text);
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin !== text.replace(/\/$/, '').toLowerCase()) return undefined;
    return u.origin;
  } catch {
    return undefined;
  }
}

/**
 * Whether a Host value is a host (a name, an IPv4 address or a bracketed IPv6 one) followed by a
 * `:` and something that is no port (`127.0.0.1:99999`, `localhost:http`, `[::1]:-1`): it does
 * name a host. Not an unbracketed IPv6 address (`2001:db8::1`), whose last colon ends no host.
 */
function hostWithBadPort(value: string): boolean {
  const m = /^(\[[^\]]*\]|[^:[\]]*):([^:]*)$/.exec(value);
  return m !== null && hostName(m[1]!) !== undefined;
}

/**
 * A host name as URLs write it (lowercase, IPv6 in brackets), or undefined when `text` is not
 * one. With `withPort`, `text` is a Host header value and may end in `:port`.
 */
function hostName(text: string, withPort = false): string | undefined {
  const bare = !withPort && isIP(text) === 6 ? `[${text}]` : text;
  if (!/^[A-Za-z0-9._\-[\]:]+$/.test(bare)) return undefined;
  try {
    const u = new URL(`http://${bare}`);
    if (!withPort && u.port !== '') return undefined;
    return u.hostname;
  } catch {
    return undefined;
  }
}

/** Every address of this machine's interfaces: what a wildcard bind answers on. */
function machineAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

/** Whether binding `host` exposes pushq to this machine only: a name counts when all its addresses do. */
async function isLoopback(host: string): Promise<boolean> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare.toLowerCase() === 'localhost') return true;
  if (isIP(bare) !== 0) return isLoopbackAddress(bare);
  try {
    const all = await lookup(bare, { all: true });
    return all.length > 0 && all.every((a) => isLoopbackAddress(a.address));
  } catch {
    return false; // unresolvable: listen will say so, unless the check below is first
  }
}

function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase();
  return a.startsWith('127.') || a === '::1' || a.startsWith('::ffff:127.');
}

/** Compares secrets in constant time (their digests, so lengths do not show). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The session cookie's value: derived from the token, so a new token ends old sessions. */
function sessionValue(token: string): string {
  return createHmac('sha256', token).update('pushq dashboard session v1').digest('base64url');
}

/** One cookie per port: cookies are shared by every port of a host, and two servers must not overwrite each other's. */
function sessionCookieName(req: IncomingMessage): string {
  return sessionCookieOfPort(req.socket.localPort ?? 0);
}

function sessionCookieOfPort(port: number): string {
  return `pushq_session_${port}`;
}

/**
 * The Cookie header of a call one pushq server passes on to another on port `toPort` (a cluster
 * node to a queue's service or to another node): the dashboard's session for `fromPort` given
 * under `toPort`'s name too. Its value depends on the token alone, so it holds wherever the
 * same token does.
 */
export function sessionCookieFor(header: string | undefined, fromPort: number, toPort: number): string | undefined {
  const value = cookieValue(header, sessionCookieOfPort(fromPort));
  return value === undefined || fromPort === toPort ? header : `${header}; ${sessionCookieOfPort(toPort)}=${value}`;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
