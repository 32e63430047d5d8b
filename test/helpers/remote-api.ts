/**
 * A raw client of `POST /rpc_http` for tests: builds remote_api Requests with pushq's message
 * definitions and reads the Response, so a test can send what no library would (a bad body, a
 * missing header) as well as well-formed calls.
 */
import protobuf from 'protobufjs';
import { MESSAGES } from '../../src/server/appengine/messages.js';

export const RPC_HEADERS = {
  'content-type': 'application/octet-stream',
  'x-google-rpc-service-endpoint': 'app-engine-apis',
  'x-google-rpc-service-method': '/VMRemoteAPI.CallRemoteAPI',
};

export interface RpcAnswer {
  httpStatus: number;
  /** The decoded remote_api.Response (bytes fields as Buffers), or null when the body was not one. */
  response: any;
  /** The service's own answer decoded with `as`, when there was one. */
  value: any;
  text: string;
}

type MessageName = keyof typeof MESSAGES;

export function encodeMessage(name: MessageName, value: Record<string, unknown>): Uint8Array {
  const t = MESSAGES[name];
  return t.encode(t.create(value)).finish();
}

export function envelope(service: string, method: string, request: Uint8Array): Uint8Array {
  return encodeMessage('Request', { service_name: service, method, request, request_id: 'test/default.1.1' });
}

/** Sends raw bytes to /rpc_http with the given headers (the library's by default). */
export async function postRpc(base: string, body: Uint8Array, headers: Record<string, string> = RPC_HEADERS, as?: MessageName): Promise<RpcAnswer> {
  const res = await fetch(`${base}/rpc_http`, { method: 'POST', headers, body });
  const bytes = new Uint8Array(await res.arrayBuffer());
  let response: any = null;
  try {
    response = MESSAGES.Response.decode(bytes);
  } catch {
    response = null;
  }
  const value = as !== undefined && response?.response !== undefined ? MESSAGES[as].decode(response.response) : undefined;
  return { httpStatus: res.status, response, value, text: Buffer.from(bytes).toString('utf8') };
}

/** A well-formed taskqueue call: `method` with `request` encoded as `requestType`, answer decoded as `responseType`. */
export function callTaskQueue(base: string, method: string, requestType: MessageName, request: Record<string, unknown>, responseType?: MessageName): Promise<RpcAnswer> {
  return postRpc(base, envelope('taskqueue', method, encodeMessage(requestType, request)), RPC_HEADERS, responseType);
}

/** A TaskQueueAddRequest for a POST task with an ETA of now. */
export function addRequest(queue: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { queue_name: Buffer.from(queue), task_name: Buffer.from(''), eta_usec: Date.now() * 1000, method: 2, url: Buffer.from('/work'), ...fields };
}

/**
 * `bytes` (an encoded message) without its field `number` (every occurrence): a message that
 * lacks a field pushq's definitions mark required, which their own encoder would not write.
 */
export function withoutField(bytes: Uint8Array, number: number): Uint8Array {
  const reader = protobuf.Reader.create(bytes);
  const kept: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    reader.skipType(tag & 7);
    if (tag >>> 3 !== number) kept.push(bytes.subarray(start, reader.pos));
  }
  return Buffer.concat(kept);
}
