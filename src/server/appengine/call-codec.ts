/**
 * A served call's request decoded and its response encoded (taskqueue-service.ts,
 * datastore-service.ts): a request that is not its message is the call's PARSE_ERROR.
 */
import type protobuf from 'protobufjs';
import { RpcCallError } from './rpc-errors.js';

/** The request of `call` (`taskqueue.Add`), or PARSE_ERROR naming the message it should be. */
export function decodeRequest<T>(type: protobuf.Type, bytes: Uint8Array, call: string): T {
  try {
    return type.decode(bytes) as unknown as T;
  } catch (err) {
    throw new RpcCallError('PARSE_ERROR', `the request of ${call} is not a ${type.name}: ${(err as Error).message}`);
  }
}

export function encodeMessage(type: protobuf.Type, value: Record<string, unknown>): Uint8Array {
  return type.encode(type.create(value)).finish();
}
