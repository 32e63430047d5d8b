/**
 * YAML anchors and aliases in queue.yaml (and scenario files, which share the reader): an alias
 * repeats its anchor's value, and an alias that cannot be read is one `yaml-alias` error at the
 * alias, never an exception, a hang or a value silently taken as not given.
 */
import { describe, expect, it } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import { MAX_ALIAS_VALUES } from '../../src/config/yaml.js';
import { parseScenario } from '../../src/scenario/parse.js';

const parse = (text: string) => parseQueueConfig(text, { file: 'queue.yaml' });
const issues = (text: string) => [...parse(text).errors, ...parse(text).warnings].map((i) => `${i.line}:${i.column} ${i.code} ${i.path}`);

/** `levels` anchors, each a list of ten aliases to the one before: 10^levels values from a few lines. */
function aliasBomb(levels: number): string {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i <= levels; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\nqueue: []\n`;
}

describe('YAML aliases in queue.yaml', () => {
  it('an alias repeats its anchor: one retry_parameters block shared by 101 queues', () => {
    const queues = Array.from({ length: 100 }, (_, i) => `- name: q${i}\n  rate: 1/s\n  retry_parameters: *retry`);
    const result = parse(`queue:\n- name: default\n  rate: 5/s\n  retry_parameters: &retry\n    task_retry_limit: 3\n    min_backoff_seconds: 2\n${queues.join('\n')}\n`);
    expect(result.errors).toEqual([]);
    expect(result.config?.queues).toHaveLength(101);
    for (const queue of result.config?.queues ?? []) expect(queue.retry_parameters).toMatchObject({ task_retry_limit: 3, min_backoff_seconds: 2 });
  });

  it('an alias with no anchor before it is a yaml-alias error at the alias, not a missing value', () => {
    // Before: the alias read as "not given", so `rate: *fast` was reported as rate-missing and
    // `bucket_size: *big` silently became the default 5.
    expect(issues('queue:\n- name: a\n  rate: *fast\n')).toEqual(['3:9 yaml-alias queue[0].rate']);
    const result = parse('queue:\n- name: a\n  rate: 5/s\n  bucket_size: *big\n');
    expect(result.valid).toBe(false);
    expect(result.config).toBeNull();
    expect(result.errors.map((i) => i.message)).toEqual(['alias *big names no anchor: an anchor (&big) must be set before the alias']);
    // An anchor set after the alias does not count (YAML resolves to the last anchor before it).
    expect(issues('queue:\n- name: a\n  rate: *r\n- name: b\n  rate: &r 1/s\n')).toEqual(['3:9 yaml-alias queue[0].rate']);
  });

  it('an alias inside the value it repeats is a yaml-alias error, not a stack overflow', () => {
    const text = 'queue: &q\n- name: a\n  rate: 1/s\n  retry_parameters: *q\n';
    expect(() => parse(text)).not.toThrow();
    const result = parse(text);
    expect(result.errors.map((i) => `${i.line}:${i.column} ${i.code} ${i.message}`)).toEqual([
      '4:21 yaml-alias alias *q is inside the value its anchor &q names, so it would repeat itself forever',
    ]);
    expect(issues('x: &m {a: *m}\n')).toEqual(['1:11 yaml-alias x.a']);
  });

  it('nested aliases that would repeat billions of values stop at the limit, at the alias that passes it', () => {
    // 10^9 values: the reader used to expand them all (it ran for minutes, then ran out of memory).
    const text = aliasBomb(9);
    const result = parse(text);
    expect(result.valid).toBe(false);
    expect(result.errors).toHaveLength(1);
    // Through aliases a1 adds 110 values, a2 1210 and each *a2 in a3 1221: the 8th passes 10,000.
    expect(result.errors[0]).toMatchObject({ code: 'yaml-alias', line: 4, column: 45, path: 'a3[7]' });
    expect(result.errors[0]?.message).toMatch(new RegExp(`more than ${MAX_ALIAS_VALUES} values in all, here through \\*a2;`));
  });

  it('the limit counts values repeated through aliases only, and allows up to it', () => {
    // a1 and a2 repeat 110 + 1210 values through aliases: within the limit, so read in full.
    expect(parse(aliasBomb(2)).errors.map((i) => `${i.code} ${i.path}`)).toEqual(['unknown-key a0', 'unknown-key a1', 'unknown-key a2']);
    // A long file without aliases has no such limit.
    const many = Array.from({ length: 3 * MAX_ALIAS_VALUES }, (_, i) => `# ${i}\n`).join('');
    expect(parse(`${many}queue:\n- name: a\n  rate: 1/s\n`).valid).toBe(true);
  });

  it('a scenario file, read by the same reader, reports the same', async () => {
    const result = await parseScenario('seed: *s\nqueue:\n- name: a\n  rate: 1/s\nworkload:\n- queue: a\n  count: 1\n', { file: 'scenario.yaml' });
    expect(result.scenario).toBeNull();
    expect(result.issues.map((i) => `${i.line}:${i.column} ${i.code}`)).toEqual(['1:7 yaml-alias']);
  });
});
