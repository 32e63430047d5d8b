/**
 * Google's official Node Cloud Tasks client pointed at a pushq on 127.0.0.1, in its two modes: gRPC
 * and REST (`fallback: 'rest'`), with no credentials (loopback only).
 */
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';

/** No credentials: gax's REST stub calls `fetch` on its auth client, and asks it for headers. */
const noAuth = {
  getRequestHeaders: async () => new Headers(),
  fetch: (url: string, init: { method?: string; headers?: Headers; body?: string | Buffer; signal?: AbortSignal }) =>
    fetch(url, { method: init.method ?? 'GET', ...(init.headers ? { headers: init.headers } : {}), ...(init.body === undefined ? {} : { body: init.body }), ...(init.signal ? { signal: init.signal } : {}) }),
};

/** The client over gRPC at `port` (plaintext). */
export function grpcClient(port: number): CloudTasksClient {
  return new CloudTasksClient({ apiEndpoint: '127.0.0.1', port, sslCreds: grpc.credentials.createInsecure() });
}

/** The client over REST at `port` (http). */
export function restClient(port: number): CloudTasksClient {
  return new CloudTasksClient({ fallback: 'rest', apiEndpoint: '127.0.0.1', port, protocol: 'http', authClient: noAuth } as ConstructorParameters<typeof CloudTasksClient>[0]);
}

/**
 * The error a client call rejects with (the client's GoogleError: code, details, statusDetails);
 * the wait is bounded, so a call that hangs fails the test rather than timing it out.
 */
export async function refusal(p: Promise<unknown>): Promise<any> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer in 20 s')), 20_000)));
  try {
    await Promise.race([p, hang]);
  } catch (err) {
    return err;
  } finally {
    clearTimeout(timer);
  }
  throw new Error('the call succeeded');
}
