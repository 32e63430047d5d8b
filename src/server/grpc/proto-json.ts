/**
 * Protobuf messages ⇄ the proto3 JSON form the operations read and write (operations.ts), so a
 * gRPC call and a REST call reach the same code with the same values:
 *
 * - in: a decoded request as an object with camelCase names, enums as names, bytes as base64,
 *   64-bit integers as strings, and each google.protobuf.Timestamp / Duration as
 *   `{seconds, nanos}` (the object form the REST API also takes; seconds always present);
 * - out: a resource as the operations build it (timestamps as RFC 3339 strings, durations as
 *   `"600s"`, enums as names, bytes as base64) → a message of the response type.
 *
 * Fields the client sets that the message type does not have are dropped by protobuf decoding
 * itself (proto3's rule for unknown fields), unlike REST, where an unknown JSON field is refused.
 */
import type protobuf from 'protobufjs';
import { US_PER_SECOND, type Micros } from '../../core/time.js';
import { parseDuration, parseTimestamp } from '../timestamps.js';

const TIMESTAMP = 'google.protobuf.Timestamp';
const DURATION = 'google.protobuf.Duration';

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, bytes: String };

function fullName(type: protobuf.Type): string {
  return type.fullName.replace(/^\./, '');
}

/** The decoded message as a JSON-form object. */
export function messageToJson(type: protobuf.Type, message: protobuf.Message): Record<string, unknown> {
  return fixIn(type, type.toObject(message, TO_OBJECT));
}

function fixIn(type: protobuf.Type, value: Record<string, unknown>): Record<string, unknown> {
  for (const field of type.fieldsArray) {
    const v = value[field.name];
    if (v === undefined || v === null || field.map || field.repeated) continue;
    const nested = field.resolvedType;
    if (nested === null || !('fieldsArray' in nested)) continue;
    const name = fullName(nested);
    if (name === TIMESTAMP || name === DURATION) {
      const o = v as { seconds?: string; nanos?: number };
      value[field.name] = { seconds: o.seconds ?? '0', nanos: o.nanos ?? 0 };
    } else {
      fixIn(nested, v as Record<string, unknown>);
    }
  }
  return value;
}

function secondsNanos(us: Micros): { seconds: number; nanos: number } {
  const seconds = Math.floor(us / US_PER_SECOND);
  return { seconds, nanos: (us - seconds * US_PER_SECOND) * 1000 };
}

/** A resource in the operations' JSON form → the encoded message of `type`. */
export function jsonToMessage(type: protobuf.Type, value: Record<string, unknown>): Uint8Array {
  return type.encode(type.fromObject(fixOut(type, value))).finish();
}

function fixOut(type: protobuf.Type, value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const v = value[field.name];
    if (v === undefined || v === null) continue;
    const nested = field.resolvedType;
    if (nested === null || !('fieldsArray' in nested) || field.map) {
      out[field.name] = v;
      continue;
    }
    const name = fullName(nested);
    const one = (item: unknown): unknown => {
      if (name === TIMESTAMP && typeof item === 'string') return secondsNanos(parseTimestamp(item, field.name));
      if (name === DURATION && typeof item === 'string') return secondsNanos(parseDuration(item) ?? 0);
      return typeof item === 'object' && item !== null ? fixOut(nested, item as Record<string, unknown>) : item;
    };
    out[field.name] = field.repeated && Array.isArray(v) ? v.map(one) : one(v);
  }
  return out;
}
