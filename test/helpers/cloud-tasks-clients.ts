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
