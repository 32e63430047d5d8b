/**
 * HTTP targets (Cloud Tasks `httpRequest`): which URLs a task may be sent to, and a request's
 * `httpRequest` as the TaskSpec fields the engine checks (task-spec.ts has the rules of the URL,
 * method, headers, body and tokens themselves).
 *
 * A task's URL is one more way to make pushq send requests, so where it may point is the user's
 * choice, not the caller's: loopback (127.0.0.0/8, [::1], localhost) always, and the hosts given
 * with `--allow-http-target PATTERN`. A PATTERN is a host name or address, optionally with a
 * port: `api.internal`, `10.0.0.5:8080`, `*.example.test` (any subdomain), `*` (any host). The
 * check reads the URL's host as written; it does not resolve names.
 */
import type { TaskSpec } from '../core/task-spec.js';
import type { HttpMethod } from '../core/task-table.js';
import { ApiError } from './errors.js';
import { inputName, ServeStartError, type InputNames } from './start-errors.js';

/** The REST / gRPC field path of the URL, named by every refusal of it. */
const HTTP_URL_FIELD = 'task.http_request.url';

interface Pattern {
  text: string;
  /** Lower-case host as URLs write it; `*` any, `*.x` any subdomain of x. */
  host: string;
  /** '' for any port. */
  port: string;
}

/**
 * Loopback as the URL writes it. `localhost` is the one name: its subdomains (`x.localhost`) are
 * looked up like any name, and a resolver without RFC 6761's rule (glibc's, from /etc/hosts and
 * then DNS) may give any address for them.
 */
function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || /^127(\.\d{1,3}){3}$/.test(h) || h === '[::1]';
}

/** The URL's port, or its scheme's default. */
function portOf(u: URL): string {
  return u.port !== '' ? u.port : u.protocol === 'https:' ? '443' : '80';
}

export class HttpTargetPolicy {
  private constructor(private readonly patterns: readonly Pattern[]) {}

  /** The policy for `--allow-http-target` values; a value that is no pattern fails the start (`names`: how it names them). */
  static create(patterns: readonly string[] = [], names?: InputNames): HttpTargetPolicy {
    return new HttpTargetPolicy(patterns.map((p) => parsePattern(p, names)));
  }

  allows(url: URL): boolean {
    const host = url.hostname.toLowerCase();
    if (isLoopbackHost(host)) return true;
    const port = portOf(url);
    return this.patterns.some((p) => (p.port === '' || p.port === port) && hostMatches(p.host, host));
  }

  /** What is allowed, for a refusal's message. */
  describe(): string {
    return this.patterns.length === 0 ? 'loopback only' : `loopback and ${this.patterns.map((p) => p.text).join(', ')}`;
  }
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}

function parsePattern(text: string, names: InputNames | undefined): Pattern {
  const bad = (): never => {
    throw new ServeStartError('ALLOW_HTTP_TARGET_INVALID', `${inputName('allowHttpTargets', names)} "${text}" is not a host pattern such as api.internal, 10.0.0.5:8080, *.example.test or * (no scheme or path)`);
  };
  if (text === '*') return { text, host: '*', port: '' };
  const wildcard = text.startsWith('*.');
  const rest = wildcard ? text.slice(2) : text;
  if (!/^[A-Za-z0-9.\-[\]:]+$/.test(rest)) bad();
  let u: URL;
  try {
    u = new URL(`http://${rest}`);
  } catch {
    return bad();
  }
  if (u.pathname !== '/' || u.username !== '' || (wildcard && u.hostname.startsWith('['))) bad();
  return { text, host: wildcard ? `*.${u.hostname}` : u.hostname, port: u.port !== '' || /:80$/.test(rest) ? (u.port || '80') : '' };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * A CreateTask's `task.httpRequest` (camelCase names) → the TaskSpec fields of an HTTP target.
 * `parseMethod` is the API's reading of an HttpMethod value (a name or its enum number).
 */
export function httpTaskSpec(r: unknown, policy: HttpTargetPolicy, parseMethod: (v: unknown, field: string) => HttpMethod | undefined): Partial<TaskSpec> {
  const field = 'task.http_request';
  if (!isRecord(r)) throw new ApiError('INVALID_FIELD', 'httpRequest must be an object', field);
  const url = r['url'];
  if (typeof url !== 'string' || url === '') throw new ApiError('INVALID_URL', 'httpRequest.url is required: the absolute URL the task is sent to', HTTP_URL_FIELD);
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed !== undefined && (parsed.protocol === 'http:' || parsed.protocol === 'https:') && !policy.allows(parsed)) {
    throw new ApiError('HTTP_TARGET_NOT_ALLOWED', `http_request.url: ${parsed.host} is not a host pushq may send tasks to (${policy.describe()}); start pushq serve with --allow-http-target ${parsed.host} to allow it`, HTTP_URL_FIELD);
  }
  const spec: Partial<TaskSpec> = { httpUrl: url };
  const method = parseMethod(r['httpMethod'], `${field}.http_method`);
  if (method !== undefined) spec.method = method;
  const headers = r['headers'];
  if (headers !== undefined && headers !== null) {
    if (!isRecord(headers)) throw new ApiError('INVALID_HEADER', 'headers must be an object of strings', `${field}.headers`);
    const list: [string, string][] = [];
    for (const [k, v] of Object.entries(headers)) {
      if (typeof v !== 'string') throw new ApiError('INVALID_HEADER', `header ${k} must be a string`, `${field}.headers[${k}]`);
      list.push([k, v]);
    }
    spec.headers = list;
  }
  const b = r['body'];
  if (b !== undefined && b !== null && b !== '') {
    if (typeof b !== 'string' || !BASE64.test(b)) throw new ApiError('INVALID_FIELD', 'body must be base64', `${field}.body`);
    spec.body = Buffer.from(b, 'base64');
  }
  const token = (name: 'oidcToken' | 'oauthToken', extra: 'audience' | 'scope'): Record<string, string> | undefined => {
    const t = r[name];
    if (t === undefined || t === null) return undefined;
    const at = `${field}.${name === 'oidcToken' ? 'oidc_token' : 'oauth_token'}`;
    if (!isRecord(t)) throw new ApiError('INVALID_FIELD', `${name} must be an object such as {"serviceAccountEmail": "worker@project.iam.gserviceaccount.com"}`, at);
    const out: Record<string, string> = {};
    for (const key of ['serviceAccountEmail', extra]) {
      const v = t[key];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string') throw new ApiError('INVALID_FIELD', `${name}.${key} must be a string`, at);
      out[key] = v;
    }
    if ((out['serviceAccountEmail'] ?? '') === '') throw new ApiError('INVALID_FIELD', `${name}.serviceAccountEmail is required`, at);
    return out;
  };
  const oidc = token('oidcToken', 'audience');
  const oauth = token('oauthToken', 'scope');
  if (oidc !== undefined) spec.oidcToken = oidc as TaskSpec['oidcToken'] & object;
  if (oauth !== undefined) spec.oauthToken = oauth as TaskSpec['oauthToken'] & object;
  return spec;
}
