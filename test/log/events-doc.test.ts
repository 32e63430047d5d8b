/** docs/events.md documents every event type and field of the schemas, in order, and nothing else. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ENGINE_EVENT_TYPES } from '../../src/core/events.js';
import { EVENT_SCHEMAS } from '../../src/log/schemas.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'events.md'), 'utf8');

/** `### Type` sections → their table rows: [field, required]. */
function documented(): Map<string, [string, boolean][]> {
  const out = new Map<string, [string, boolean][]>();
  const part = doc.split('## Event types')[1] ?? '';
  for (const section of part.split(/^### /m).slice(1)) {
    const [title, ...rest] = section.split('\n');
    const rows: [string, boolean][] = [];
    for (const line of rest) {
      const m = /^\| `([^`]+)` \|[^|]*\| (yes|no) \|/.exec(line);
      if (m) rows.push([m[1] as string, m[2] === 'yes']);
    }
    out.set((title as string).trim(), rows);
  }
  return out;
}

test('every event type is documented, in order, and no other', () => {
  expect([...documented().keys()]).toEqual([...ENGINE_EVENT_TYPES]);
});

test('every field is documented with its place and whether it is required, and no other', () => {
  const docs = documented();
  for (const type of ENGINE_EVENT_TYPES) {
    const expected = EVENT_SCHEMAS[type].map((f): [string, boolean] => [f.name, !f.optional]);
    expect(docs.get(type), type).toEqual(expected);
  }
});
