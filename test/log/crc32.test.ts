/**
 * The log's CRC-32 is the standard one (IEEE, as zlib, PNG and gzip compute it), byte-identical
 * to what the hand-written table code it replaced wrote: known check values, the markers of a
 * golden log, and a batch whose bytes the reader sees in two pieces (its buffer moves mid-batch).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { EngineEvent } from '../../src/core/events.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION, type LogHeader } from '../../src/log/event-log.js';
import { CRC32_EMPTY, crc32, crc32Hex } from '../../src/log/crc32.js';
import { createFileEventLogSync, readEventLogFile } from '../../src/log/file-log.js';

const dir = mkdtempSync(join(tmpdir(), 'pushq-crc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('crc32', () => {
  test('known check values', () => {
    expect(crc32(bytes(''))).toBe(0);
    expect(crc32(bytes('123456789'))).toBe(0xcbf43926); // the CRC-32/ISO-HDLC check value
    expect(crc32(bytes('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    expect(crc32(bytes('a'))).toBe(0xe8b7be43);
    expect(crc32(new Uint8Array(32))).toBe(0x190a55ad);
    expect(crc32(new Uint8Array(32).fill(0xff))).toBe(0xff6cab0b);
    expect(crc32Hex(0xcbf43926)).toBe('cbf43926');
    expect(crc32Hex(0x1f)).toBe('0000001f');
  });

  test('a range of a buffer, and a CRC continued over pieces, equal the CRC of the whole', () => {
    const b = bytes('xx123456789yy');
    expect(crc32(b, 2, 11)).toBe(0xcbf43926);
    expect(crc32(b, 2, 2)).toBe(CRC32_EMPTY);
    for (let cut = 2; cut <= 11; cut++) expect(crc32(b, cut, 11, crc32(b, 2, cut))).toBe(0xcbf43926);
  });

  test('every commit marker of the golden logs holds the CRC of its batch', () => {
    for (const name of ['v1-rich', 'v1-retries']) {
      const lines = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'logs', `${name}.jsonl`), 'utf8').split('\n').slice(1, -1);
      let batch = '';
      let markers = 0;
      for (const line of lines) {
        if (line.startsWith('{"commit":')) {
          expect(JSON.parse(line).crc, `${name}: ${line}`).toBe(crc32Hex(crc32(bytes(batch))));
          batch = '';
          markers++;
        } else {
          batch += `${line}\n`;
        }
      }
      expect(markers).toBeGreaterThan(200);
    }
    // One value written out, as the hand-written CRC computed it when the log was made.
    const first = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'logs', 'v1-rich.jsonl'), 'utf8').split('\n');
    expect(crc32Hex(crc32(bytes(`${first[1]}\n`)))).toBe('a6f93e64');
    expect(first[2]).toBe('{"commit":1,"n":1,"crc":"a6f93e64"}');
  });

  test('a batch the reader sees in two pieces (its 8 MiB buffer moves mid-batch) checks, and damage in either piece is found', async () => {
    const path = join(dir, 'big.jsonl');
    const header: LogHeader = { format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'virtual', configHash: '' };
    const log = createFileEventLogSync(path, header, { durable: false });
    const small: EngineEvent = { type: 'QueuePaused', t: 1, queue: 'q' };
    // 9 MiB of one string: the line crosses the reader's first 8 MiB chunk and makes it grow.
    const big: EngineEvent = { type: 'TaskGaveUp', t: 2, id: 0, status: null, reason: 'connection', error: 'e'.repeat(9 << 20), latencyUs: 1 };
    log.append(small);
    log.append(big);
    log.append(small);
    log.commit();
    log.append(small);
    log.commit();
    await log.close();
    const read = await readEventLogFile(path);
    expect(read.events).toHaveLength(4);
    expect(read.recovered.droppedBytes).toBe(0);

    const original = readFileSync(path);
    // Each change keeps the line valid JSON and a valid event: only the checksum can tell.
    const paused = '{"type":"QueuePaused","t":1';
    const before = original.indexOf(paused) + paused.length - 1; // in the piece read before the buffer moves
    const inside = original.indexOf('"eee') + 5_000_000; // in the big line, read after it moves
    const after = original.indexOf(paused, inside) + paused.length - 1; // after the big line
    expect(before).toBeLessThan(1000);
    expect(after).toBeGreaterThan(9 << 20);
    for (const at of [before, inside, after]) {
      const damaged = Buffer.from(original);
      damaged[at] = 0x37; // '7' for a '1' or an 'e'
      writeFileSync(path, damaged);
      await expect(readEventLogFile(path)).rejects.toThrow(/batch 1: checksum mismatch/);
    }
  });
});
