/**
 * The URL a listening HTTP server is reached at, from its bound address: what `pushq serve`,
 * `pushq replay --ui` and a cluster node's router print, and what a token names as its issuer.
 */
import type { Server } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';

/** `http://host:port` of `server` (listening), an IPv6 host in brackets; and the port. */
export function listenUrl(server: Server): { url: string; port: number } {
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return { url: `http://${host}:${a.port}`, port: a.port };
}

/**
 * Whether binding `host` binds every address of the machine (the unspecified address), in any
 * spelling the system resolver takes: `0.0.0.0` and inet_aton's short forms (`0`, `0.0`, `00`,
 * `0x0`; not `0x`, which it refuses), `::`, `::0`, `0:0:0:0:0:0:0:0`, bracketed or not. One
 * definition for the Host allow-list (which then admits the machine's own addresses) and the
 * cluster's --advertise rule, which spelled it twice, each missing `--host 0` (binds 0.0.0.0).
 */
export function bindsEveryAddress(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const version = isIP(bare);
  if (version === 6) return /^[0:]+$/.test(bare);
  if (version === 4) return bare === '0.0.0.0';
  return /^(0x0+|0+)(\.(0x0+|0+)){0,3}$/i.test(bare);
}
