/**
 * Positions in large queue files: reading stays linear in the file, and a file's positions are
 * worked out for what is asked (a queue's name, an issue), not for each of its values. Counted in
 * operations (offset → line/column conversions, mapping entries looked at), never in time.
 */
import { parseDocument, type YAMLMap } from 'yaml';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import { offsetToPosition } from '../../src/config/positions.js';
import { YamlPlaces } from '../../src/config/yaml-places.js';

/** Offset → line/column conversions made by every reader since the last reset. */
let conversions = 0;
vi.mock('../../src/config/positions.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/config/positions.js')>();
  return {
    ...original,
    offsetToPosition: (text: string) => {
      const positionOf = original.offsetToPosition(text);
      return (offset: number) => {
        conversions++;
        return positionOf(offset);
      };
    },
  };
});

beforeEach(() => {
  conversions = 0;
});

/** A valid queue.yaml: ten push queues and ten pull queues of `acl` entries each (what makes a file megabytes). */
function queueYaml(acl: number): string {
  const lines = ['queue:'];
  for (let i = 0; i < 10; i++) {
    lines.push(`- name: push-${i}`, '  rate: 5/s', '  bucket_size: 10', '  retry_parameters:', '    task_age_limit: 2d', '    min_backoff_seconds: 0.5');
    lines.push(`- name: pull-${i}`, '  mode: pull', '  acl:');
    for (let a = 0; a < acl; a++) lines.push(a % 2 === 0 ? `  - user_email: u${a}@example.com` : `  - writer_email: w${a}@example.com`);
  }
  return `${lines.join('\n')}\n`;
}

function queueXml(acl: number): string {
  const lines = ['<queue-entries>'];
  for (let i = 0; i < 10; i++) {
    lines.push(`<queue><name>pull-${i}</name><mode>pull</mode><acl>`);
    for (let a = 0; a < acl; a++) lines.push(`<user-email>u${a}@example.com</user-email>`);
    lines.push('</acl></queue>');
  }
  return `${lines.join('\n')}\n</queue-entries>\n`;
}

function conversionsFor(text: string, file: string, queues: number): number {
  conversions = 0;
  const result = parseQueueConfig(text, { file });
  expect(result.errors).toEqual([]);
  expect(result.config?.queues).toHaveLength(queues);
  return conversions;
}

describe('positions in a large queue.yaml', () => {
  it('a valid file places its queues, not each of its values: 4× the acl entries, the same conversions', () => {
    // Before: every value's position was recorded as it was read, two conversions a value.
    const small = conversionsFor(queueYaml(200), 'queue.yaml', 21);
    const large = conversionsFor(queueYaml(800), 'queue.yaml', 21);
    expect(large).toBe(small);
    expect(small).toBeLessThan(200); // fewer than one for each acl entry of the smaller file
  });

  it('queue.xml records a position per value: 4× the entries, about 4× the conversions (linear)', () => {
    const small = conversionsFor(queueXml(200), 'queue.xml', 11);
    const large = conversionsFor(queueXml(800), 'queue.xml', 11);
    expect(large / small).toBeGreaterThan(3.5);
    expect(large / small).toBeLessThan(4.5);
  });

  it('every issue of a mapping of n unknown keys is placed by looking at each entry about once (n, not n²/2)', () => {
    /** Entries of the top-level mapping looked at to place every one of its `n` keys. */
    const lookedAt = (n: number): number => {
      const text = Array.from({ length: n }, (_, i) => `k${i}: ${i}`).join('\n');
      const doc = parseDocument(text, { schema: 'failsafe' });
      const map = doc.contents as YAMLMap;
      let reads = 0;
      map.items = new Proxy(map.items, {
        get(target, property, receiver) {
          if (typeof property === 'string' && /^\d+$/.test(property)) reads++;
          return Reflect.get(target, property, receiver) as unknown;
        },
      });
      const places = new YamlPlaces(text, doc, offsetToPosition(text));
      for (let i = 0; i < n; i++) expect(places.deepest([`k${i}`])?.located.key).toEqual({ line: i + 1, column: 1 });
      return reads;
    };
    const small = lookedAt(500);
    const large = lookedAt(2000);
    expect(large / small).toBeLessThan(4.5);
  });

  it('a key whose name reads like a path (`"queue[0]"`) is reported where it is written, not at the queue entry', () => {
    // Before: positions were kept by formatted path, and `"queue[0]"` at the top level and the
    // first entry of `queue` both formatted as queue[0]: the unknown key was placed at the entry.
    const result = parseQueueConfig('"queue[0]": 3\nqueue:\n- name: a\n  rate: 1/s\n', { file: 'queue.yaml' });
    expect(result.errors.map((e) => `${e.line}:${e.column} ${e.code}`)).toEqual(['1:1 unknown-key']);
  });
});
