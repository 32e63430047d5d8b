/**
 * Log format versions (src/log/schemas.ts): a version 1 log (TaskAdded's options as top-level
 * fields) reads to the current events, losslessly (each line is the encoding of its event in
 * version 1), and appending to it writes version 1 lines, so a file never mixes versions.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { ENGINE_EVENT_TYPES, TASK_OPTION_SCHEMAS } from '../../src/core/event-schema.js';
import { encodeEvent } from '../../src/log/codec.js';
import { FAST_DECODED_TYPES, fastDecode } from '../../src/log/fast-decode.js';
import { LOG_LAYOUTS } from '../../src/log/schemas.js';
import { LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { openFileEventLog, readEventLogFile } from '../../src/log/file-log.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'logs');
const dir = mkdtempSync(join(tmpdir(), 'pushq-versions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The event lines of a log file, in order (header and commit markers left out). */
function eventLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').slice(1, -1).filter((l) => !l.startsWith('{"commit":'));
}

describe('log format versions', () => {
  test('this pushq writes version 2', () => {
    expect(LOG_FORMAT_VERSION).toBe(2);
  });

  test('versions differ only in TaskAdded\'s options, so a line the fast decoder takes means the same in each', () => {
    const [v1, v2] = [LOG_LAYOUTS.get(1)!, LOG_LAYOUTS.get(2)!];
    for (const type of ENGINE_EVENT_TYPES) {
      if (type === 'TaskAdded') {
        expect(v1[type].map((f) => f.name)).toEqual([...v2[type].filter((f) => f.kind !== 'options').map((f) => f.name), ...TASK_OPTION_SCHEMAS.map((f) => f.name)]);
        expect(v1[type].filter((f) => !f.optional)).toEqual(v2[type].filter((f) => !f.optional));
      } else {
        expect(v1[type], type).toEqual(v2[type]);
      }
    }
    // What the fast decoder takes of a TaskAdded is its required fields only.
    expect(FAST_DECODED_TYPES).toContain('TaskAdded');
    const line = Buffer.from('{"type":"TaskAdded","t":1,"id":0,"queue":"q","eta":1,"size":2,"name":"n"}');
    expect(fastDecode(line, 0, line.length)).toBeNull();
  });

  test.each([
    ['v1-rich', 1],
    ['v1-retries', 1],
    ['v2-rich', 2],
    ['v2-retries', 2],
  ])('every line of %s is the encoding, in its version, of the event it reads to', async (name, version) => {
    const { header, events } = await readEventLogFile(join(FIXTURES, `${name}.jsonl`));
    expect(header.version).toBe(version);
    const lines = eventLines(join(FIXTURES, `${name}.jsonl`));
    expect(events).toHaveLength(lines.length);
    events.forEach((e, i) => expect(encodeEvent(e, version), `line of event ${i}`).toBe(lines[i]));
    // The options are one value in memory, whatever the file's layout.
    const welcome = events.find((e) => e.type === 'TaskAdded' && e.options?.name === 'welcome-1');
    if (name.endsWith('rich')) expect(welcome).toMatchObject({ options: { name: 'welcome-1', headers: [['X-Kind', 'welcome']], body: 'YUdWc2JHOD0=' } });
  });

  test('appending to a version 1 log writes version 1 lines, and the whole file reads back', async () => {
    const path = join(dir, 'old.jsonl');
    copyFileSync(join(FIXTURES, 'v1-rich.jsonl'), path);
    const opened = await openFileEventLog(path, { durable: false });
    expect(opened.header.version).toBe(1);
    const before = opened.events.length;
    const last = opened.events.at(-1) as EngineEvent;
    const added: EngineEvent = { type: 'TaskAdded', t: last.t, id: 1000, queue: 'default', eta: last.t, size: 30, options: { name: 'late', url: '/late', dispatchDeadlineUs: 20_000_000 } };
    opened.log.append(added);
    opened.log.commit();
    await opened.log.close();
    const lines = eventLines(path);
    expect(lines.at(-1)).toBe(`{"type":"TaskAdded","t":${last.t},"id":1000,"queue":"default","eta":${last.t},"size":30,"name":"late","url":"/late","dispatchDeadlineUs":20000000}`);
    expect(lines.filter((l) => l.includes('"options"'))).toEqual([]);
    const read = await readEventLogFile(path);
    expect(read.header.version).toBe(1);
    expect(read.events).toHaveLength(before + 1);
    expect(read.events.at(-1)).toStrictEqual(added);
  });
});
