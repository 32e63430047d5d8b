/**
 * Reading a JSON request body with a size limit that holds before the body is read whole:
 * a Content-Length above the limit is refused at once, and a chunked body is refused as soon as
 * the bytes received pass it (the rest is not buffered).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TASK_LIMITS } from '../core/task-spec.js';
import { chargeBody, type ServerBusyError } from './body-budget.js';
import { ApiError } from './errors.js';

/**
 * A 100 KiB task is ~137 KB in base64, plus its JSON; anything much larger cannot be a valid
 * CreateTask, so it is refused without reading it.
 */
export const REQUEST_BODY_BYTES_MAX = 256 * 1024;

export class BodyTooLargeError extends ApiError {
  constructor(limit: number) {
    super('REQUEST_TOO_LARGE', `the request body is larger than ${limit} bytes; a task may be at most ${TASK_LIMITS.size_bytes_max / 1024} KiB`, 'task.app_engine_http_request.body');
  }
}

/** The client went away before its body was whole (an abort, a reset): nobody is left to answer. */
export class ClientGoneError extends Error {
  override name = 'ClientGoneError';
}

/**
 * The whole body, or null as soon as it passes `limitBytes` (at once for a Content-Length above
 * it; the bytes past it are not kept). Rejects with ClientGoneError when the client goes away first,
 * and with ServerBusyError when its bytes would take the service's past its body budget
 * (body-budget.ts): the bytes read are let go, the rest left unread.
 */
export function readBodyUpTo(req: IncomingMessage, limitBytes: number): Promise<Buffer | null> {
  if (Number(req.headers['content-length'] ?? NaN) > limitBytes) return Promise.resolve(null);
  return new Promise<Buffer | null>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const stop = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      chunks.length = 0;
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limitBytes) {
        stop();
        resolve(null);
        return;
      }
      try {
        chargeBody(req, chunk.length);
      } catch (err) {
        stop();
        reject(err as ServerBusyError);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', (err: Error) => reject(new ClientGoneError(`the client went away before the request body was whole: ${err.message}`)));
  });
}

/**
 * The most bytes of a refused body (too large, a refused content type, Host or Origin) that are
 * read and thrown away after the answer; beyond it the connection is cut.
 */
const REFUSED_BODY_DISCARD_BYTES_MAX = 64 * 1024 * 1024;

/**
 * Call before answering a request whose body was left unread (refused). The answer goes out at
 * once; the rest of the body is read and thrown away, never kept, so that a client still sending
 * it gets the answer (Node's fetch reports a connection the server closed mid-upload as EPIPE and
 * drops the answer) and the connection stays usable. A body declared larger than `maxBytes` is not
 * waited for (the connection is closed after the answer), and one found larger while it is thrown
 * away has its connection cut.
 */
export function discardUnreadBody(req: IncomingMessage, res: ServerResponse, maxBytes = REFUSED_BODY_DISCARD_BYTES_MAX): void {
  if (req.complete) return;
  if (Number(req.headers['content-length'] ?? NaN) > maxBytes) {
    res.setHeader('connection', 'close');
    req.resume();
    return;
  }
  let discarded = 0;
  const onData = (chunk: Buffer): void => {
    discarded += chunk.length;
    if (discarded > maxBytes) {
      req.off('data', onData);
      req.socket.destroy();
    }
  };
  req.on('data', onData);
  req.resume();
}

export async function readJsonBody(req: IncomingMessage, limitBytes = REQUEST_BODY_BYTES_MAX): Promise<unknown> {
  const body = await readBodyUpTo(req, limitBytes);
  if (body === null) throw new BodyTooLargeError(limitBytes);
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw new ApiError('INVALID_JSON', `the request body is not valid JSON: ${(err as Error).message}`);
  }
}
