/**
 * A worker that misbehaves below HTTP: a plain TCP server on 127.0.0.1 (port 0) whose every
 * connection is handed to `onConnection` (never answer, answer a byte a second, reset...). It
 * counts connections accepted and still open, and keeps the first chunk of each request (its
 * request line and headers, as far as they came in it).
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface RawConnection {
  /** performance.now() when it was accepted, when its first chunk came (or null), when it closed (or null). */
  acceptedAt: number;
  requestAt: number | null;
  closedAt: number | null;
}

export interface RawWorker {
  url: string;
  accepted: number;
  open: number;
  connections: RawConnection[];
  /** The first chunk each connection sent, as text. */
  requests: string[];
  close(): Promise<void>;
}

export async function startRawWorker(onConnection: (socket: Socket, firstChunk: Buffer) => void): Promise<RawWorker> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    w.accepted++;
    w.open++;
    const c: RawConnection = { acceptedAt: performance.now(), requestAt: null, closedAt: null };
    w.connections.push(c);
    sockets.add(socket);
    socket.on('error', () => undefined); // a reset or a peer gone: expected here
    socket.once('close', () => {
      w.open--;
      c.closedAt = performance.now();
      sockets.delete(socket);
    });
    socket.once('data', (chunk: Buffer) => {
      c.requestAt = performance.now();
      w.requests.push(chunk.toString('latin1'));
      onConnection(socket, chunk);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const w: RawWorker = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepted: 0,
    open: 0,
    connections: [],
    requests: [],
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return w;
}

/** Resolves when `pred` holds (checked every 20 ms), or rejects after `timeoutMs` naming `what`. */
export async function eventually(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
