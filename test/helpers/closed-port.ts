/**
 * A port on 127.0.0.1 that nothing listens on: bound to port 0, then let go. A connection to it is
 * refused at once (ECONNREFUSED), which the tests of a worker or a queue owner that is down need.
 */
import { createServer } from 'node:net';

export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
