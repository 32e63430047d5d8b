/**
 * Every issue code, each in a minimal file where it is the only issue, at its exact line, column
 * and key path. The last test fails when a code is added to ISSUE_CODES without a case here.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ISSUE_CODES, type IssueCode } from '../../src/config/issues.js';
import { loadQueueConfigFile } from '../../src/config/load.js';
import { parseQueueConfig } from '../../src/config/parse.js';
import type { ConfigResult } from '../../src/config/types.js';

interface Case {
  code: IssueCode;
  file: string;
  /** File text; omitted for cases that load `file` from disk. */
  text?: string;
  line: number;
  column: number;
  path: string;
  message?: RegExp;
}

const push = (body: string) => `queue:\n- name: a\n  rate: 5/s\n${body}`;
const xml = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<queue-entries>\n  <queue>\n    <name>a</name>\n    <rate>5/s</rate>\n${body}  </queue>\n</queue-entries>\n`;

const manyQueues = ['queue:', '- name: default', '  rate: 5/s', ...Array.from({ length: 101 }, (_, i) => `- name: q${i + 1}\n  rate: 1/s`)].join('\n');

const cases: Case[] = [
  { code: 'file-unreadable', file: join(import.meta.dirname, 'no-such-dir', 'queue.yaml'), line: 1, column: 1, path: '', message: /cannot read .*queue\.yaml: no such file/ },
  { code: 'yaml-syntax', file: 'queue.yaml', text: 'queue:\n- name: a\n\trate: 5/s\n', line: 3, column: 1, path: '', message: /^Tabs are not allowed as indentation$/ },
  { code: 'yaml-alias', file: 'queue.yaml', text: push('  bucket_size: *big\n'), line: 4, column: 16, path: 'queue[0].bucket_size', message: /^alias \*big names no anchor/ },
  { code: 'yaml-warning', file: 'queue.yaml', text: push('  target: !custom worker\n'), line: 4, column: 11, path: '', message: /tag/ },
  { code: 'xml-syntax', file: 'queue.xml', text: '<queue-entries>\n  <queue>\n    <name>a</nam>\n', line: 3, column: 17, path: '', message: /^unexpected close tag$/ },
  { code: 'xml-syntax', file: 'queue.xml', text: '<!DOCTYPE q [<!ENTITY r "5/s">]>\n<queue-entries>\n  <queue>\n    <name>a</name>\n    <rate>&r;</rate>\n', line: 5, column: 13, path: '', message: /^undefined entity &r;: pushq reads no DOCTYPE/ },
  { code: 'xml-root-element', file: 'queue.xml', text: '<?xml version="1.0"?>\n<queues>\n</queues>\n', line: 2, column: 1, path: '', message: /must be <queue-entries>, found <queues>/ },
  { code: 'duplicate-key', file: 'queue.yaml', text: push('  rate: 6/s\n'), line: 4, column: 3, path: 'queue[0].rate', message: /already set on line 3/ },
  { code: 'duplicate-key', file: 'queue.xml', text: xml('    <rate>6/s</rate>\n'), line: 6, column: 5, path: 'queue[0].rate', message: /<rate> is already set on line 5/ },
  { code: 'unknown-key', file: 'queue.yaml', text: push('  bucked_size: 40\n'), line: 4, column: 3, path: 'queue[0].bucked_size', message: /did you mean bucket_size\?/ },
  { code: 'unknown-key', file: 'queue.yaml', text: push('  : 40\n'), line: 4, column: 3, path: 'queue[0].', message: /^a key with no name in a queue entry: nothing stands before its colon$/ },
  { code: 'unknown-key', file: 'queue.xml', text: xml('    <bucket_size>40</bucket_size>\n'), line: 6, column: 5, path: 'queue[0].bucket_size', message: /element <bucket_size>.*did you mean bucket-size\?/ },
  { code: 'wrong-type', file: 'queue.yaml', text: 'queue:\n- name: a\n  mode: pull\n  acl:\n  - user_email: [SERVICE_ACCOUNT]\n', line: 5, column: 17, path: 'queue[0].acl[0].user_email', message: /must be a single value, found a list/ },
  { code: 'wrong-type', file: 'queue.xml', text: xml('    <bucket-size><value>4</value></bucket-size>\n'), line: 6, column: 18, path: 'queue[0].bucket_size', message: /bucket-size must be a single value, found child elements/ },
  { code: 'application-ignored', file: 'queue.yaml', text: `application: my-app\n${push('')}`, line: 1, column: 1, path: 'application' },
  { code: 'total-storage-limit-invalid', file: 'queue.yaml', text: `total_storage_limit: 1.5\n${push('')}`, line: 1, column: 22, path: 'total_storage_limit', message: /`1\.5` is not valid/ },
  { code: 'total-storage-limit-invalid', file: 'queue.xml', text: '<queue-entries>\n  <total-storage-limit>12Q</total-storage-limit>\n</queue-entries>\n', line: 2, column: 24, path: 'total_storage_limit', message: /total-storage-limit `12Q`/ },
  { code: 'resume-paused-queues-invalid', file: 'queue.yaml', text: `resume_paused_queues: maybe\n${push('')}`, line: 1, column: 23, path: 'resume_paused_queues' },
  { code: 'too-many-queues', file: 'queue.yaml', text: manyQueues, line: 204, column: 3, path: 'queue[101]', message: /q101 is queue number 101 besides default; App Engine allows at most 100/ },
  { code: 'name-missing', file: 'queue.yaml', text: 'queue:\n- rate: 5/s\n', line: 2, column: 3, path: 'queue[0].name' },
  { code: 'name-invalid', file: 'queue.yaml', text: 'queue:\n- name: my_queue\n  rate: 5/s\n', line: 2, column: 9, path: 'queue[0].name', message: /`my_queue` is not valid/ },
  { code: 'name-duplicate', file: 'queue.yaml', text: `${push('')}\n- name: a\n  rate: 1/s\n`, line: 5, column: 9, path: 'queue[1].name', message: /a is already used on line 2/ },
  { code: 'mode-invalid', file: 'queue.yaml', text: push('  mode: Push\n'), line: 4, column: 9, path: 'queue[0].mode' },
  { code: 'rate-missing', file: 'queue.yaml', text: 'queue:\n- name: a\n  bucket_size: 5\n', line: 2, column: 3, path: 'queue[0].rate', message: /queue a has no rate/ },
  { code: 'rate-missing', file: 'queue.yaml', text: 'queue:\n- name: a\n  rate:\n', line: 3, column: 3, path: 'queue[0].rate' },
  { code: 'rate-invalid', file: 'queue.yaml', text: 'queue:\n- name: a\n  rate: 5/sec\n', line: 3, column: 9, path: 'queue[0].rate' },
  { code: 'rate-max', file: 'queue.yaml', text: 'queue:\n- name: a\n  rate: 40000/m\n', line: 3, column: 9, path: 'queue[0].rate', message: /40000\/m \(666\.667 per second\) is above App Engine's maximum of 500 per second/ },
  { code: 'rate-max', file: 'queue.xml', text: '<queue-entries>\n  <queue>\n    <name>a</name>\n    <rate>\n      501/s\n    </rate>\n  </queue>\n</queue-entries>', line: 5, column: 7, path: 'queue[0].rate' },
  { code: 'bucket-size-invalid', file: 'queue.yaml', text: push('  bucket_size: -1\n'), line: 4, column: 16, path: 'queue[0].bucket_size' },
  { code: 'bucket-size-max', file: 'queue.yaml', text: push('  bucket_size: 501\n'), line: 4, column: 16, path: 'queue[0].bucket_size', message: /^bucket_size 501 is above App Engine's maximum of 500$/ },
  { code: 'bucket-size-max', file: 'queue.xml', text: xml('    <bucket-size>1000</bucket-size>\n'), line: 6, column: 18, path: 'queue[0].bucket_size', message: /^bucket-size 1000 is above/ },
  { code: 'max-concurrent-requests-invalid', file: 'queue.yaml', text: push('  max_concurrent_requests: 2.5\n'), line: 4, column: 28, path: 'queue[0].max_concurrent_requests' },
  { code: 'max-concurrent-requests-clamped', file: 'queue.yaml', text: push('  max_concurrent_requests: 0\n'), line: 4, column: 28, path: 'queue[0].max_concurrent_requests', message: /0 is below App Engine's minimum of 1; 1 is used/ },
  { code: 'max-concurrent-requests-clamped', file: 'queue.yaml', text: push('  max_concurrent_requests: -5\n'), line: 4, column: 28, path: 'queue[0].max_concurrent_requests', message: /-5 is below App Engine's minimum of 1; 1 is used/ },
  { code: 'max-concurrent-requests-clamped', file: 'queue.yaml', text: push('  max_concurrent_requests: 10000\n'), line: 4, column: 28, path: 'queue[0].max_concurrent_requests', message: /10000 is above App Engine's maximum of 5000; 5000 is used/ },
  { code: 'target-invalid', file: 'queue.yaml', text: push('  target: v1.Backend\n'), line: 4, column: 11, path: 'queue[0].target' },
  { code: 'task-retry-limit-invalid', file: 'queue.yaml', text: push('  retry_parameters:\n    task_retry_limit: -1\n'), line: 5, column: 23, path: 'queue[0].retry_parameters.task_retry_limit' },
  { code: 'task-age-limit-invalid', file: 'queue.yaml', text: push('  retry_parameters:\n    task_age_limit: 0s\n'), line: 5, column: 21, path: 'queue[0].retry_parameters.task_age_limit', message: /greater than zero/ },
  { code: 'min-backoff-seconds-invalid', file: 'queue.yaml', text: push('  retry_parameters:\n    min_backoff_seconds: -0.5\n'), line: 5, column: 26, path: 'queue[0].retry_parameters.min_backoff_seconds' },
  { code: 'max-backoff-seconds-invalid', file: 'queue.yaml', text: push('  retry_parameters:\n    max_backoff_seconds: ten\n'), line: 5, column: 26, path: 'queue[0].retry_parameters.max_backoff_seconds' },
  { code: 'min-backoff-above-max', file: 'queue.yaml', text: push('  retry_parameters:\n    min_backoff_seconds: 20\n    max_backoff_seconds: 10\n'), line: 5, column: 26, path: 'queue[0].retry_parameters.min_backoff_seconds', message: /20 is greater than max_backoff_seconds 10 \(line 6\)/ },
  { code: 'max-doublings-invalid', file: 'queue.yaml', text: push('  retry_parameters:\n    max_doublings: 1.5\n'), line: 5, column: 20, path: 'queue[0].retry_parameters.max_doublings' },
  { code: 'push-only-directive', file: 'queue.yaml', text: 'queue:\n- name: p\n  mode: pull\n  bucket_size: 5\n', line: 4, column: 3, path: 'queue[0].bucket_size', message: /bucket_size applies to push queues only; queue p is a pull queue/ },
  { code: 'push-only-directive', file: 'queue.yaml', text: 'queue:\n- name: p\n  mode: pull\n  retry_parameters:\n    task_retry_limit: 3\n    max_doublings: 2\n', line: 6, column: 5, path: 'queue[0].retry_parameters.max_doublings' },
  { code: 'push-only-directive', file: 'queue.xml', text: '<queue-entries>\n  <queue>\n    <name>p</name>\n    <mode>pull</mode>\n    <rate>1/s</rate>\n  </queue>\n</queue-entries>\n', line: 5, column: 5, path: 'queue[0].rate' },
  { code: 'pull-only-directive', file: 'queue.yaml', text: push('  acl:\n  - user_email: a@example.com\n'), line: 4, column: 3, path: 'queue[0].acl', message: /acl applies to pull queues only; queue a is a push queue/ },
];

async function run(c: Case): Promise<ConfigResult> {
  return c.text === undefined ? loadQueueConfigFile(c.file) : parseQueueConfig(c.text, { file: c.file });
}

describe('issue codes: each at its exact place', () => {
  it.each(cases)('$code in $file at $line:$column ($path)', async (c) => {
    const result = await run(c);
    const issues = [...result.errors, ...result.warnings];
    expect(issues.map((issue) => issue.code)).toEqual([c.code]);
    const [issue] = issues;
    expect(issue).toMatchObject({ file: c.file, line: c.line, column: c.column, path: c.path, severity: ISSUE_CODES[c.code].severity });
    if (c.message !== undefined) expect(issue?.message).toMatch(c.message);
    expect(result.valid).toBe(ISSUE_CODES[c.code].severity === 'warning');
    expect(result.config === null).toBe(!result.valid);
  });

  it('covers every code in ISSUE_CODES', () => {
    const covered = new Set(cases.map((c) => c.code));
    expect(Object.keys(ISSUE_CODES).filter((code) => !covered.has(code as IssueCode))).toEqual([]);
  });
});
