/**
 * A request target read as every part of the server reads it: the guard (security.ts), which
 * decides what may be served without the token, and the handlers (api.ts, replay-server.ts), which
 * route it. Were they to read it differently, a target the guard takes for a public file could
 * route to a private read: `/pushq/assets/../dashboard.json` starts with the assets' folder as
 * written, and names the figures once its dot segments are resolved.
 */
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
