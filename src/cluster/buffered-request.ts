/**
 * A call whose body the router has read already (to learn its queue, or to send it once more after
 * its queue moved), handed to a queue's service in process as if it had just arrived: the same
 * method, target and headers, and a body that reads back whole.
 *
 * The copy shares the caller's socket (its address and port are what the service's guard reads)
 * but never reads from it: the caller's own request consumed it, and the copy's end and
 * destruction leave it alone (it is complete, so closing it aborts nothing). Its body's bytes are
 * counted in the caller's body account (body-budget.ts chargeToAccountOf).
 */
import { IncomingMessage } from 'node:http';
import { chargeToAccountOf } from '../server/body-budget.js';

export function bufferedRequest(from: IncomingMessage, body: Uint8Array): IncomingMessage {
  const copy = new IncomingMessage(from.socket);
  copy._read = () => undefined;
  copy.method = from.method ?? 'POST';
  copy.url = from.url ?? '/';
  copy.httpVersion = from.httpVersion;
  copy.httpVersionMajor = from.httpVersionMajor;
  copy.httpVersionMinor = from.httpVersionMinor;
  const headers = { ...from.headers, 'content-length': String(body.byteLength) };
  delete headers['transfer-encoding'];
  copy.headers = headers;
  if (body.byteLength > 0) copy.push(body);
  copy.push(null);
  copy.complete = true;
  chargeToAccountOf(from, copy);
  return copy;
}
