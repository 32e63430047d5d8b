/**
 * A real worker app for serve tests: a node:http server on 127.0.0.1 (port 0) that records every
 * request it receives and answers with a status chosen by `respond` (after an optional delay).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EVENT_BOUND_MS } from './event-bound.js';

export interface Received {
  /** Date.now() when the request arrived (ms). */
  atMs: number;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The status answered, once the answer has been written whole (undefined until then). */
  answered?: number;
}

/** A status answered at once, after `delayMs`, or once `release` has settled (a test holds an attempt until it has done what the attempt must overlap). */
export type Respond = (r: Received, nthForUrl: number) => number | { status: number; delayMs: number } | { status: number; release: Promise<unknown> };

export interface Worker {
  url: string;
  port: number;
  received: Received[];
  inFlight: number;
  maxInFlight: number;
  /** Resolves when `pred` holds for the received list, or rejects after `timeoutMs`. */
  waitFor(pred: (received: Received[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  forUrl(prefix: string): Received[];
  close(): Promise<void>;
}

export async function startWorker(respond: Respond = () => 200): Promise<Worker> {
  const perUrl = new Map<string, number>();
  const w: Worker = {
    url: '',
    port: 0,
    received: [],
    inFlight: 0,
    maxInFlight: 0,
    async waitFor(pred, timeoutMs = EVENT_BOUND_MS, what = 'condition') {
      const end = Date.now() + timeoutMs;
      while (!pred(w.received)) {
        if (Date.now() > end) throw new Error(`worker: timed out after ${timeoutMs} ms waiting for ${what} (${w.received.length} requests received)`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    forUrl(prefix) {
      return w.received.filter((r) => r.url.startsWith(prefix));
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = createServer((req, res) => {
    const atMs = Date.now();
    w.inFlight++;
    w.maxInFlight = Math.max(w.maxInFlight, w.inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { atMs, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      w.received.push(r);
      const n = perUrl.get(r.url) ?? 0;
      perUrl.set(r.url, n + 1);
      const answer = respond(r, n);
      const status = typeof answer === 'number' ? answer : answer.status;
      const finish = (): void => {
        w.inFlight--;
        res.on('finish', () => (r.answered = status));
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(String(status));
      };
      if (typeof answer === 'object' && 'release' in answer) void answer.release.finally(finish);
      else if (typeof answer === 'object' && answer.delayMs > 0) setTimeout(finish, answer.delayMs);
      else finish();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  w.port = (server.address() as AddressInfo).port;
  w.url = `http://127.0.0.1:${w.port}`;
  return w;
}
