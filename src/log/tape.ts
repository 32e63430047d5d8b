/**
 * The memory log's tape records (memory-log.ts), derived from the schema table
 * (src/core/event-schema.ts): an event whose fields are all numbers, or can be numbered, is
 * written as one record of numbers; any other event is kept as an object beside the tape.
 *
 * A record is its code, then one slot per field in schema order: integers and times as they are,
 * a status as itself or -1 for null, a reason as its index in FAILURE_REASONS, a queue name as
 * its index in the log's string table. A `true` flag is not a slot: the type has one code with
 * the flag and one without. A type with a required field of another kind (ConfigApplied) is
 * always an object; an optional field of another kind (an error text, a task's options) makes
 * that event an object when it is present. Codes are numbered in table order from 0; OBJECT_CODE
 * comes after the last.
 *
 * The writer (recordWriterSource, made the body of MemoryEventLog.append) and `readTape` are
 * generated once at load as straight-line code per type (a switch on the type, then fixed slot
 * offsets), so appending and reading an event cost what hand-written code would: the log holds
 * millions of them, and a call per event to a generic writer would not be inlined.
 */
import { EVENT_SCHEMAS, type EngineEventType, type FieldKind, type FieldSchema } from '../core/event-schema.js';
import type { EngineEvent, FailureReason } from '../core/events.js';

const FAILURE_REASONS: readonly FailureReason[] = ['status', 'deadline', 'connection'];

/** Every event of tape[start, used) (`start` a record's first slot, 0 when absent): records decoded, objects from `objects`, up to an end-of-chunk mark. */
export type TapeReader = (tape: Float64Array, used: number, strings: readonly string[], objects: readonly EngineEvent[], start?: number) => IterableIterator<EngineEvent>;

interface Slot {
  /** Code that writes the field's value `v` as a number (`intern` names the string table's function). */
  write: (v: string, intern: string) => string;
  /** Code that reads the number `v` back as the field's value. */
  read: (v: string) => string;
}

function slotFor(kind: FieldKind): Slot | null {
  const same = (v: string): string => v;
  switch (kind) {
    case 'us':
    case 'uint':
      return { write: same, read: same };
    case 'status':
      return { write: (v) => `(${v} === null ? -1 : ${v})`, read: (v) => `(${v} === -1 ? null : ${v})` };
    case 'reason':
      return {
        write: (v) => FAILURE_REASONS.reduceRight((rest, r, k) => `${v} === ${JSON.stringify(r)} ? ${k} : ${rest}`, '-1'),
        read: (v) => `REASONS[${v}]`,
      };
    case 'queue':
      return { write: (v, intern) => `${intern}(${v})`, read: (v) => `strings[${v}]` };
    case 'string':
    case 'true':
    case 'method':
    case 'headers':
    case 'retry':
    case 'config':
    case 'settings':
    case 'options':
      return null;
  }
}

interface RecordLayout {
  type: EngineEventType;
  /** Code of the record without the flag; with it, code + 1. */
  code: number;
  slots: { field: FieldSchema; slot: Slot }[];
  /** The optional `true` field, if the type has one. */
  flag: FieldSchema | undefined;
  /** Optional fields that make the event an object when present. */
  objectIf: FieldSchema[];
}

function layouts(): RecordLayout[] {
  const out: RecordLayout[] = [];
  let code = 0;
  for (const [type, fields] of Object.entries(EVENT_SCHEMAS) as [EngineEventType, readonly FieldSchema[]][]) {
    const slots: RecordLayout['slots'] = [];
    const objectIf: FieldSchema[] = [];
    let flag: FieldSchema | undefined;
    let taped = true;
    for (const field of fields) {
      const slot = slotFor(field.kind);
      if (field.optional && field.kind === 'true' && flag === undefined) flag = field;
      else if (slot !== null && !field.optional) slots.push({ field, slot });
      else if (field.optional) objectIf.push(field);
      else taped = false;
    }
    if (!taped) continue;
    out.push({ type, code, slots, flag, objectIf });
    code += flag === undefined ? 1 : 2;
  }
  return out;
}

const LAYOUTS = layouts();

/** The code of a record that points at an object: its one slot is the index in the object list. */
export const OBJECT_CODE = LAYOUTS.reduce((n, l) => Math.max(n, l.code + (l.flag === undefined ? 1 : 2)), 0);

/** Marks the unused end of a full chunk. */
export const END_OF_CHUNK = -1;

/** The most slots one record takes, code included. */
export const RECORD_SLOTS_MAX = Math.max(2, ...LAYOUTS.map((l) => 1 + l.slots.length));

/**
 * Source of a `switch (e.type)` that writes event `e` as a record at `tape[i...]` and then runs
 * `done(next slot)`; an event that must be an object falls out of the switch. The caller wraps
 * it in a function with `e`, `tape`, `i` in scope and `intern` named by `intern` (memory-log.ts
 * makes it the body of `append`, so appending is one function, as if written by hand).
 */
export function recordWriterSource(intern: string, done: (next: string) => string): string {
  const cases = LAYOUTS.map((l) => {
    const fallback = l.objectIf.map((f) => `e[${JSON.stringify(f.name)}] !== undefined`).join(' || ');
    const code = l.flag === undefined ? `${l.code}` : `(e[${JSON.stringify(l.flag.name)}] === true ? ${l.code + 1} : ${l.code})`;
    const writes = l.slots.map(({ field, slot }, k) => `tape[i + ${k + 1}] = ${slot.write(`e[${JSON.stringify(field.name)}]`, intern)};`);
    return `case ${JSON.stringify(l.type)}:\n${fallback === '' ? '' : `if (${fallback}) break;\n`}tape[i] = ${code};\n${writes.join('\n')}\n${done(`i + ${l.slots.length + 1}`)}`;
  });
  return `switch (e.type) {\n${cases.join('\n')}\n}`;
}

function compileReader(): TapeReader {
  const literal = (l: RecordLayout, flagged: boolean): string => {
    const parts = [`type: ${JSON.stringify(l.type)}`];
    let k = 1;
    for (const f of EVENT_SCHEMAS[l.type] as readonly FieldSchema[]) {
      if (f === l.flag) {
        if (flagged) parts.push(`${JSON.stringify(f.name)}: true`);
        continue;
      }
      const s = l.slots.find((x) => x.field === f);
      if (s !== undefined) parts.push(`${JSON.stringify(f.name)}: ${s.slot.read(`tape[i + ${k++}]`)}`);
    }
    return `{ ${parts.join(', ')} }`;
  };
  const record = (code: number, l: RecordLayout, flagged: boolean): string => `case ${code}: yield ${literal(l, flagged)}; i += ${l.slots.length + 1}; break;`;
  const cases = LAYOUTS.flatMap((l) => [record(l.code, l, false), ...(l.flag === undefined ? [] : [record(l.code + 1, l, true)])]);
  const body = `'use strict';
return function* readTape(tape, used, strings, objects, start) {
  let i = start === undefined ? 0 : start;
  while (i < used) {
    switch (tape[i]) {
      ${cases.join('\n      ')}
      case ${OBJECT_CODE}: yield objects[tape[i + 1]]; i += 2; break;
      case ${END_OF_CHUNK}: i = used; break;
      default: throw new Error('memory log: corrupt tape at slot ' + i);
    }
  }
};`;
  // Generated from the static schema table, never from input.
  return new Function('REASONS', body)(FAILURE_REASONS) as TapeReader;
}

export const readTape: TapeReader = compileReader();

/** The event types that can be tape records (when their optional non-numeric fields are absent). */
export const TAPED_TYPES: readonly EngineEventType[] = LAYOUTS.map((l) => l.type);
