/**
 * docs/events.md documents every event type and field of the schema table (src/core/event-schema.ts),
 * in order, and nothing else: each row's field, type, whether it is required, and its meaning are
 * the table's own (the meaning is written once, in the table, and copied here; this test is what
 * keeps the copy true). A task's options have their own table under TaskAdded. And its File format
 * section, against a log `pushq simulate --log` writes: the header's fields in order, the version,
 * the configHash, each commit marker's count and CRC-32; the refusal of a newer version; the
 * LogError codes it lists; the files it names.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, expect, test } from 'vitest';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { ENGINE_EVENT_TYPES, EVENT_SCHEMAS, TASK_OPTION_SCHEMAS, type FieldKind, type FieldSchema } from '../../src/core/event-schema.js';
import { decodeEvent, encodeEvent } from '../../src/log/codec.js';
import { LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { pushq } from '../helpers/cli.js';
import { blockAfter, docText, missingPaths, section, unionMembers } from '../helpers/doc-text.js';

const doc = docText('events.md');

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

// The file format, as a log a user writes shows it (`pushq simulate ... --log`).
const dir = mkdtempSync(join(tmpdir(), 'pushq-events-doc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a log's header and commit markers are as the File format section says: fields in order, version, configHash, each batch's CRC-32", async () => {
  const file = join(dir, 'run.log');
  const run = await pushq(['simulate', 'examples/default.yaml', '--seed', '7', '--log', file]);
  expect(run.code, run.stderr).toBe(0);
  const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
  const example = blockAfter(section(doc, '## File format'), 'A log is UTF-8 JSON lines', '').split('\n');
  const keysOf = (line: string) => [...line.matchAll(/"(\w+)":/g)].map((m) => m[1]);
  const header = JSON.parse(lines[0]!);
  expect(Object.keys(header)).toEqual(keysOf(example[0]!));
  expect(header).toMatchObject({ format: 'pushq-events', version: LOG_FORMAT_VERSION, seed: 7, clock: 'virtual' });
  expect(example[0]).toContain(`"version":${LOG_FORMAT_VERSION},`);
  expect(doc).toContain(`\`version\` (the format version, ${LOG_FORMAT_VERSION})`);
  // sha256 of the canonical JSON of the first queue configuration.
  const first = JSON.parse(lines[1]!);
  expect(first.type).toBe('ConfigApplied');
  expect(header.configHash).toBe(createHash('sha256').update(canonicalJson(first.config)).digest('hex'));
  // A marker after each batch: its number, its event count, the CRC-32 of its lines, newlines included.
  let batch: string[] = [];
  let commits = 0;
  for (const line of lines.slice(1)) {
    if (!line.startsWith('{"commit"')) {
      batch.push(line);
      continue;
    }
    const marker = JSON.parse(line);
    expect(Object.keys(marker)).toEqual(keysOf(example.find((l) => l.startsWith('{"commit"'))!));
    expect(marker).toEqual({ commit: ++commits, n: batch.length, crc: crc32(batch.map((l) => `${l}\n`).join('')).toString(16).padStart(8, '0') });
    expect(marker.crc).toMatch(/^[0-9a-f]{8}$/);
    batch = [];
  }
  expect([commits > 10, batch]).toEqual([true, []]);
});

test('a newer format version is refused with the message the doc quotes', async () => {
  const file = join(dir, 'newer.log');
  const newer = LOG_FORMAT_VERSION + 1;
  writeFileSync(file, `{"format":"pushq-events","version":${newer},"pushqVersion":"9.9.9","seed":1,"clock":"virtual","configHash":"00"}\n`);
  const quoted = /`log format version N is newer than this pushq \(M\)`/.exec(doc);
  expect(quoted, 'the quoted refusal').not.toBeNull();
  const replay = await pushq(['replay', file]);
  expect(replay.code).toBe(1);
  expect(replay.stderr).toContain(`log format version ${newer} is newer than this pushq (${LOG_FORMAT_VERSION})`);
});

test('the LogError codes it lists are exactly the source’s', () => {
  const listed = /Errors \(`LogError`, field `code`\): ([\s\S]*?)\n\n/.exec(doc)?.[1];
  expect(listed, 'the list of LogError codes').toBeDefined();
  expect([...listed!.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]).sort()).toEqual(unionMembers('src/log/log-errors.ts', 'LogErrorCode').sort());
});

test('every file of this repository it names is there', () => {
  expect(missingPaths(doc)).toEqual([]);
});
