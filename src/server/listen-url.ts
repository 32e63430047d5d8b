/**
 * The URL a listening HTTP server is reached at, from its bound address: what `pushq serve`,
 * `pushq replay --ui` and a cluster node's router print, and what a token names as its issuer.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** `http://host:port` of `server` (listening), an IPv6 host in brackets; and the port. */
export function listenUrl(server: Server): { url: string; port: number } {
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return { url: `http://${host}:${a.port}`, port: a.port };
}
