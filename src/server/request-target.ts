/**
 * A request target read as every part of the server reads it: the guard (security.ts), which
 * decides what may be served without the token, and the handlers (api.ts, replay-server.ts), which
 * route it. Were they to read it differently, a target the guard takes for a public file could
 * route to a private read: `/pushq/assets/../dashboard.json` starts with the assets' folder as
 * written, and names the figures once its dot segments are resolved.
 */
import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.js';

export interface RequestTarget {
  /** The target as a URL (its query, `searchParams`). */
  url: URL;
  /** The path as it is routed: dot segments resolved, then percent-decoded. */
  path: string;
}

/**
 * Reads a request target. A path is always a path: `//x/y` is not resolved as a scheme-relative
 * URL (host `x`), which would route it as `/y` (and `//` alone is no URL at all). Throws
 * ApiError INVALID_PATH for a target that is no URL or a path that is not valid percent-encoding.
 */
export function requestTarget(target: string): RequestTarget {
  let url: URL;
  try {
    url = target.startsWith('/') ? new URL(`http://pushq.invalid${target}`) : new URL(target, 'http://pushq.invalid');
  } catch {
    throw new ApiError('INVALID_PATH', 'the request target is not a valid URL');
  }
  try {
    return { url, path: decodeURIComponent(url.pathname) };
  } catch {
    throw new ApiError('INVALID_PATH', 'the request path is not valid percent-encoding');
  }
}

/** A target in absolute form: a scheme, `//`, the authority (up to the path, query or fragment), then the rest. */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)([^#]*)/;

/**
 * A request whose target is in absolute form (`GET http://host:port/path HTTP/1.1`) is for the host
 * its target names, whatever its Host header says: RFC 9112 §3.2.2, the server "MUST ignore the
 * received Host header field (if any) and instead use the host information of the request-target".
 * Rewrites such a request in origin form, as a proxy hands it on: Host becomes the target's
 * authority and the target its path and query. So the guard (security.ts) judges the host the
 * request is really for (before, `GET http://evil.example/...` with `Host: 127.0.0.1:PORT` was
 * served, and `GET http://127.0.0.1:PORT/...` with another Host refused), and everything after it
 * (routing, a cluster node's forwarding, `/rpc_http`'s path check) reads the target it always has.
 * A target in origin form is left as it is. Returns whether the request's Host now comes from its
 * target, so that a refusal names what was judged (the target's authority, not a Host header the
 * client sent otherwise).
 */
export function adoptAbsoluteForm(req: IncomingMessage): boolean {
  const absolute = ABSOLUTE_FORM.exec(req.url ?? '');
  if (absolute === null) return false;
  const [, authority = '', rest = ''] = absolute;
  req.headers.host = authority;
  req.url = rest.startsWith('/') ? rest : `/${rest}`;
  return true;
}
