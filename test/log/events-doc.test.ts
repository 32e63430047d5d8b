/**
 * docs/events.md documents every event type and field of the schema table (src/core/event-schema.ts),
 * in order, and nothing else: each row's field, type, whether it is required, and its meaning are
 * the table's own (the meaning is written once, in the table, and copied here; this test is what
 * keeps the copy true). A task's options have their own table under TaskAdded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ENGINE_EVENT_TYPES, EVENT_SCHEMAS, TASK_OPTION_SCHEMAS, type FieldKind, type FieldSchema } from '../../src/core/event-schema.js';
import { decodeEvent, encodeEvent } from '../../src/log/codec.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'events.md'), 'utf8');

/** How the doc's type column names each kind. */
const KIND_IN_DOC: Record<FieldKind, string> = {
  us: 'µs',
  uint: 'integer',
  status: 'integer or null',
  queue: 'string',
  string: 'string',
  reason: 'string',
  true: '`true`',
  method: 'string',
  headers: '[name, value] pairs',
  retry: 'object',
  config: 'object',
  settings: 'object',
  options: 'object',
};

type Row = [field: string, type: string, required: string, meaning: string];

const rowOf = (f: FieldSchema): Row => [f.name, KIND_IN_DOC[f.kind], f.optional ? 'no' : 'yes', f.doc];

/** `### Type` sections (and `#### options` under TaskAdded) → their table rows. */
function documented(): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  const part = doc.split('## Event types')[1] ?? '';
  for (const section of part.split(/^###+ /m).slice(1)) {
    const [title, ...rest] = section.split('\n');
    const rows: Row[] = [];
    for (const line of rest) {
      const m = /^\| `([^`]+)` \| (.+?) \| (yes|no) \| (.+) \|$/.exec(line);
      if (m) rows.push([m[1], m[2], m[3], m[4]] as Row);
    }
    out.set((title as string).trim(), rows);
  }
  return out;
}

test('every event type is documented, in order, and no other (then the options of TaskAdded)', () => {
  expect([...documented().keys()]).toEqual([...ENGINE_EVENT_TYPES.flatMap((t) => (t === 'TaskAdded' ? [t, 'options'] : [t]))]);
});

test('every field is documented with its place, type, whether it is required and its meaning, and no other', () => {
  const docs = documented();
  for (const type of ENGINE_EVENT_TYPES) expect(docs.get(type), type).toEqual(EVENT_SCHEMAS[type].map(rowOf));
  expect(docs.get('options')).toEqual(TASK_OPTION_SCHEMAS.map(rowOf));
});

test("the doc's two lines of one TaskAdded, in format versions 1 and 2, are that event's encodings", () => {
  const line = (version: number): string => {
    const m = new RegExp(`^version ${version}: (.+)$`, 'm').exec(doc);
    expect(m, `a "version ${version}:" line`).not.toBeNull();
    return (m as RegExpExecArray)[1] as string;
  };
  const e = decodeEvent(line(2));
  expect(decodeEvent(line(1), 1)).toStrictEqual(e);
  expect(encodeEvent(e, 1)).toBe(line(1));
  expect(encodeEvent(e)).toBe(line(2));
});
