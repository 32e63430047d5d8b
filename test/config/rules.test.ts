import { describe, expect, it } from 'vitest';
import { defaultQueueConfig, defaultQueueFileConfig } from '../../src/config/defaults.js';
import { ConfigError, formatIssue, requireValidConfig } from '../../src/config/issues.js';
import { detectFormat, parseQueueConfig } from '../../src/config/parse.js';
import type { ConfigResult, QueueConfig, QueueFileConfig } from '../../src/config/types.js';

function valid(text: string, file = 'queue.yaml'): QueueFileConfig {
  const result = parseQueueConfig(text, { file });
  expect(result.errors).toEqual([]);
  expect(result.valid).toBe(true);
  return result.config!;
}

function queue(config: QueueFileConfig, name: string): QueueConfig {
  const found = config.queues.find((q) => q.name === name);
  if (found === undefined) throw new Error(`no queue ${name}`);
  return found;
}

function codes(result: ConfigResult): string[] {
  return [...result.errors, ...result.warnings].map((issue) => `${issue.line}:${issue.column} ${issue.code}`);
}

describe('the default queue (S1, reference §1.3)', () => {
  it('an app without queue.yaml has only default: 5/s, bucket 5, 1000 concurrent, default retries', () => {
    expect(defaultQueueFileConfig()).toEqual({
      total_storage_limit_bytes: null,
      queues: [
        {
          name: 'default',
          mode: 'push',
          state: 'running',
          rate_per_second: 5,
          rate_exact: { tokens: 1, period_us: 200_000 },
          bucket_size: 5,
          max_concurrent_requests: 1000,
          target: null,
          retry_parameters: { task_retry_limit: null, task_age_limit_seconds: null, min_backoff_seconds: 0.1, max_backoff_seconds: 3600, max_doublings: 16 },
        },
      ],
    });
  });

  it('returns a fresh object each time', () => {
    const a = defaultQueueFileConfig();
    a.queues[0]!.retry_parameters.max_doublings = 1;
    expect(defaultQueueFileConfig().queues[0]!.retry_parameters.max_doublings).toBe(16);
  });

  it.each([
    ['an empty file', ''],
    ['a file of comments', '# nothing here\n'],
    ['queue: with every entry commented out', 'queue:\n#- name: a\n#  rate: 1/s\n'],
    ['queue: ~', 'queue: ~\n'],
    ['an empty list', 'queue: []\n'],
  ])('%s is valid and gives only default', (_, text) => {
    expect(valid(text)).toEqual(defaultQueueFileConfig());
  });

  it('is added, first, when the file does not mention it', () => {
    const config = valid('queue:\n- name: b\n  rate: 1/s\n- name: a\n  rate: 2/s\n');
    expect(config.queues.map((q) => q.name)).toEqual(['default', 'b', 'a']);
    expect(config.queues[0]).toEqual(defaultQueueConfig());
  });

  it('may be redefined, wherever it appears, and still comes first with file defaults for the rest', () => {
    const config = valid('queue:\n- name: b\n  rate: 1/s\n- name: default\n  rate: 20/s\n  target: worker\n');
    expect(config.queues.map((q) => q.name)).toEqual(['default', 'b']);
    expect(config.queues[0]).toEqual({ ...defaultQueueConfig(), rate_per_second: 20, rate_exact: { tokens: 1, period_us: 50_000 }, target: 'worker' });
  });

  it('redefined, still needs a rate like any push queue', () => {
    const result = parseQueueConfig('queue:\n- name: default\n  bucket_size: 10\n', { file: 'q.yaml' });
    expect(codes(result)).toEqual(['2:3 rate-missing']);
  });
});

describe('push queue directives', () => {
  it('defaults bucket_size to 5 and max_concurrent_requests to 1000 (S4, S38)', () => {
    const q = queue(valid('queue:\n- name: a\n  rate: 1/s\n'), 'a');
    expect(q).toMatchObject({ bucket_size: 5, max_concurrent_requests: 1000, target: null, state: 'running' });
  });

  it('accepts the limits themselves: rate 500/s, bucket 500, 5000 concurrent, bucket 0', () => {
    const config = valid('queue:\n- name: a\n  rate: 500/s\n  bucket_size: 500\n  max_concurrent_requests: 5000\n- name: b\n  rate: 1/s\n  bucket_size: 0\n');
    expect(queue(config, 'a')).toMatchObject({ rate_per_second: 500, bucket_size: 500, max_concurrent_requests: 5000 });
    expect(queue(config, 'b').bucket_size).toBe(0);
  });

  it('clamps max_concurrent_requests above 5000 to 5000, with a warning (S38)', () => {
    const result = parseQueueConfig('queue:\n- name: a\n  rate: 1/s\n  max_concurrent_requests: 10000\n', { file: 'q.yaml' });
    expect(result.valid).toBe(true);
    expect(queue(result.config!, 'a').max_concurrent_requests).toBe(5000);
    expect(codes(result)).toEqual(['4:28 max-concurrent-requests-clamped']);
  });

  it.each(['0', '0/s', '0/d', '0.0/m'])('rate %s pauses the queue: rate 0, no exact rate', (rate) => {
    expect(queue(valid(`queue:\n- name: a\n  rate: ${rate}\n`), 'a')).toMatchObject({ state: 'paused', rate_per_second: 0, rate_exact: null });
  });

  it('keeps a target of version.service', () => {
    expect(queue(valid('queue:\n- name: a\n  rate: 1/s\n  target: v2.worker\n'), 'a').target).toBe('v2.worker');
  });

  it('accepts an explicit mode: push and the gcloud resume_paused_queues key', () => {
    const config = valid('resume_paused_queues: False\nqueue:\n- name: a\n  mode: push\n  rate: 1/s\n');
    expect(queue(config, 'a').mode).toBe('push');
  });

  it('allows max_doublings 99999 and task_retry_limit 999', () => {
    const q = queue(valid('queue:\n- name: a\n  rate: 1/s\n  retry_parameters:\n    max_doublings: 99999\n    task_retry_limit: 999\n'), 'a');
    expect(q.retry_parameters).toMatchObject({ max_doublings: 99999, task_retry_limit: 999 });
  });
});

describe('retry parameters (S6)', () => {
  const retry = (body: string) => queue(valid(`queue:\n- name: a\n  rate: 1/s\n  retry_parameters:\n${body}`), 'a').retry_parameters;

  it('converts task_age_limit to truncated whole seconds: 2.5m is 150', () => {
    expect(retry('    task_age_limit: 2.5m\n').task_age_limit_seconds).toBe(150);
  });

  it('only min_backoff_seconds 7200 given: max becomes 7200', () => {
    expect(retry('    min_backoff_seconds: 7200\n')).toMatchObject({ min_backoff_seconds: 7200, max_backoff_seconds: 7200 });
  });

  it('only min_backoff_seconds 3000 given: max stays 3600', () => {
    expect(retry('    min_backoff_seconds: 3000\n')).toMatchObject({ min_backoff_seconds: 3000, max_backoff_seconds: 3600 });
  });

  it('only max_backoff_seconds 0.05 given: min becomes 0.05', () => {
    expect(retry('    max_backoff_seconds: 0.05\n')).toMatchObject({ min_backoff_seconds: 0.05, max_backoff_seconds: 0.05 });
  });

  it('only max_backoff_seconds 10 given: min stays 0.1', () => {
    expect(retry('    max_backoff_seconds: 10\n')).toMatchObject({ min_backoff_seconds: 0.1, max_backoff_seconds: 10 });
  });

  it('both given and equal is fine; both given with min > max is an error, even when a fix-up would apply alone', () => {
    expect(retry('    min_backoff_seconds: 5\n    max_backoff_seconds: 5\n')).toMatchObject({ min_backoff_seconds: 5, max_backoff_seconds: 5 });
    const result = parseQueueConfig('queue:\n- name: a\n  rate: 1/s\n  retry_parameters:\n    min_backoff_seconds: 7200\n    max_backoff_seconds: 3600\n', { file: 'q.yaml' });
    expect(codes(result)).toEqual(['5:26 min-backoff-above-max']);
  });

  it('task_retry_limit 0 is allowed (one attempt, S12)', () => {
    expect(retry('    task_retry_limit: 0\n').task_retry_limit).toBe(0);
  });
});

describe('pull queues', () => {
  it('have null push fields and keep only task_retry_limit; acl is accepted', () => {
    const text = 'queue:\n- name: p\n  mode: pull\n  acl:\n  - user_email: a@example.com\n  - writer_email: b@example.com\n  retry_parameters:\n    task_retry_limit: 3\n';
    expect(queue(valid(text), 'p')).toEqual({
      name: 'p',
      mode: 'pull',
      state: 'running',
      rate_per_second: null,
      rate_exact: null,
      bucket_size: null,
      max_concurrent_requests: null,
      target: null,
      retry_parameters: { task_retry_limit: 3, task_age_limit_seconds: null, min_backoff_seconds: 0.1, max_backoff_seconds: 3600, max_doublings: 16 },
    });
  });

  it('report every push-only directive, at its key', () => {
    const text = [
      'queue:',
      '- name: p',
      '  mode: pull',
      '  rate: 1/s',
      '  bucket_size: 5',
      '  max_concurrent_requests: 5',
      '  target: worker',
      '  retry_parameters:',
      '    task_age_limit: 1d',
      '    min_backoff_seconds: 1',
      '    max_backoff_seconds: 2',
      '    max_doublings: 3',
      '',
    ].join('\n');
    const result = parseQueueConfig(text, { file: 'q.yaml' });
    expect(codes(result)).toEqual(['4:3', '5:3', '6:3', '7:3', '9:5', '10:5', '11:5', '12:5'].map((at) => `${at} push-only-directive`));
  });
});

describe('every problem is reported, not only the first', () => {
  it('collects shape and value problems from several queues in one pass, in file order', () => {
    const text = [
      'application: old-app', // 1 warning
      'total_storage_limit: lots', // 2
      'queue:',
      '- name: a', // 4
      '  rate: 600/s', // 5
      '  bucket_size: 1000', // 6
      '  bucket_sise: 3', // 7
      '- name: a', // 8
      '  rate: 1/s',
      '- name: bad.name', // 10
      '  rate: [1/s]', // 11
      '  max_concurrent_requests: 2.5', // 12
      '- name: p', // 13
      '  mode: pull',
      '  rate: 1/s', // 15
      '  retry_parameters:',
      '    task_retry_limit: -1', // 17
      '',
    ].join('\n');
    const result = parseQueueConfig(text, { file: 'q.yaml' });
    expect(result.valid).toBe(false);
    expect(result.config).toBeNull();
    expect(result.errors.map((i) => `${i.line}:${i.column} ${i.code}`)).toEqual([
      '2:22 total-storage-limit-invalid',
      '5:9 rate-max',
      '6:16 bucket-size-max',
      '7:3 unknown-key',
      '8:9 name-duplicate',
      '10:9 name-invalid',
      '11:9 wrong-type',
      '12:28 max-concurrent-requests-invalid',
      '15:3 push-only-directive',
      '17:23 task-retry-limit-invalid',
    ]);
    expect(result.warnings.map((i) => `${i.line}:${i.column} ${i.code}`)).toEqual(['1:1 application-ignored']);
  });

  it('does not report a missing value for a value already reported as the wrong kind', () => {
    const result = parseQueueConfig('queue:\n- name: [a]\n  rate: {every: 1s}\n', { file: 'q.yaml' });
    expect(codes(result)).toEqual(['2:9 wrong-type', '3:9 wrong-type']);
  });

  it('checks the values of an entry whose mode is invalid, but not the mode-specific rules', () => {
    const result = parseQueueConfig('queue:\n- name: a\n  mode: pul\n  bucket_size: 501\n', { file: 'q.yaml' });
    expect(codes(result)).toEqual(['3:9 mode-invalid', '4:16 bucket-size-max']);
  });

  it('counts queues besides default: 100 is fine', () => {
    const text = ['queue:', '- name: default', '  rate: 5/s', ...Array.from({ length: 100 }, (_, i) => `- name: q${i}\n  rate: 1/s`)].join('\n');
    expect(valid(text).queues).toHaveLength(101);
  });
});

describe('file quirks seen in real queue.yaml files', () => {
  const base = 'queue:\n- name: a\n  rate: 5/s\n  bucket_size: 20\n';
  const expected = valid(base);

  it.each([
    ['CRLF line endings', base.replace(/\n/g, '\r\n')],
    ['no final newline', base.slice(0, -1)],
    ['a --- document marker', `---\n${base}`],
    ['a document end marker', `${base}...\n`],
    ['space before the colon', base.replace('bucket_size:', 'bucket_size :')],
    ['double-quoted values', 'queue:\n- name: "a"\n  rate: "5/s"\n  bucket_size: "20"\n'],
    ["single-quoted values", "queue:\n- name: 'a'\n  rate: '5/s'\n  bucket_size: '20'\n"],
    ['non-ASCII comments', '# Очередь для писем — 日本語のコメント 😀\nqueue:\n- name: a # é\n  rate: 5/s\n  bucket_size: 20\n'],
    ['trailing spaces and blank lines', 'queue:   \n- name: a   \n  rate: 5/s    \n\n  bucket_size: 20  \n  \n\n'],
    ['indented list items', 'queue:\n    - name: a\n      rate: 5/s\n      bucket_size: 20\n'],
    ['a byte-order mark', `\uFEFF${base}`],
    ['an inline mapping', 'queue:\n- {name: a, rate: 5/s, bucket_size: 20}\n'],
    ['an alias', 'queue:\n- name: a\n  rate: &r 5/s\n  bucket_size: 20\n- name: b\n  rate: *r\n'],
  ])('%s', (_, text) => {
    const config = valid(text);
    expect(queue(config, 'a')).toEqual(queue(expected, 'a'));
  });

  it('reports positions on the right line after CRLF and non-ASCII text', () => {
    const result = parseQueueConfig('# é 😀\r\nqueue:\r\n- name: a\r\n  rate: 5/s\r\n  bucket_size: 501\r\n', { file: 'q.yaml' });
    expect(codes(result)).toEqual(['5:16 bucket-size-max']);
  });

  it('reads numbers as text first: 0123 is a name, not the number 83 or 123', () => {
    expect(valid('queue:\n- name: 0123\n  rate: 1/s\n').queues[1]?.name).toBe('0123');
  });

  it('treats a plain null value as absent', () => {
    expect(queue(valid('queue:\n- name: a\n  rate: 1/s\n  target: null\n  bucket_size: ~\n'), 'a')).toMatchObject({ target: null, bucket_size: 5 });
  });
});

describe('queue.xml', () => {
  const text = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE queue-entries>
<queue-entries xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="queue.xsd">
  <total-storage-limit>1.5M</total-storage-limit>
  <queue>
    <name>mail</name>
    <rate>2000/d</rate>
    <bucket-size>10</bucket-size>
    <max-concurrent-requests>
      3
    </max-concurrent-requests>
    <target>v1.mailer</target>
    <mode>push</mode>
    <retry-parameters> <!-- a comment -->
      <task-retry-limit>7</task-retry-limit>
      <task-age-limit>2d</task-age-limit>
      <min-backoff-seconds>10</min-backoff-seconds>
      <max-backoff-seconds>300</max-backoff-seconds>
      <max-doublings>3</max-doublings>
    </retry-parameters>
  </queue>
  <!-- <queue><name>commented-out</name></queue> -->
  <queue>
    <name>pulled</name>
    <mode>pull</mode>
    <acl>
      <user-email>a@example.com</user-email>
      <writer-email>b@example.com</writer-email>
    </acl>
  </queue>
  <queue><name>stopped</name><rate>0</rate></queue>
</queue-entries>`;

  it('maps every element to the YAML vocabulary', () => {
    const config = valid(text, 'queue.xml');
    expect(config.total_storage_limit_bytes).toBe(1_572_864);
    expect(config.queues.map((q) => q.name)).toEqual(['default', 'mail', 'pulled', 'stopped']);
    expect(queue(config, 'mail')).toEqual({
      name: 'mail',
      mode: 'push',
      state: 'running',
      rate_per_second: 2000 / 86_400,
      rate_exact: { tokens: 1, period_us: 43_200_000 },
      bucket_size: 10,
      max_concurrent_requests: 3,
      target: 'v1.mailer',
      retry_parameters: { task_retry_limit: 7, task_age_limit_seconds: 172_800, min_backoff_seconds: 10, max_backoff_seconds: 300, max_doublings: 3 },
    });
    expect(queue(config, 'pulled')).toMatchObject({ mode: 'pull', rate_per_second: null });
    expect(queue(config, 'stopped')).toMatchObject({ state: 'paused', rate_per_second: 0 });
  });

  it('gives the same config with CRLF and tabs', () => {
    expect(valid(text.replace(/\n/g, '\r\n').replace(/ {2}/g, '\t'), 'queue.xml')).toEqual(valid(text, 'queue.xml'));
  });

  it('reports paths in the YAML vocabulary, positions in the XML text', () => {
    const bad = text.replace('<bucket-size>10</bucket-size>', '<bucket-size>501</bucket-size>').replace('<max-doublings>3</max-doublings>', '<max-doublings>-3</max-doublings>');
    const result = parseQueueConfig(bad, { file: 'queue.xml' });
    expect(result.errors.map((i) => [i.line, i.column, i.path, i.code])).toEqual([
      [8, 18, 'queue[0].bucket_size', 'bucket-size-max'],
      [19, 22, 'queue[0].retry_parameters.max_doublings', 'max-doublings-invalid'],
    ]);
    expect(result.errors[1]?.message).toMatch(/^max-doublings `-3` is not valid/);
  });

  it('rejects elements that exist only in queue.yaml', () => {
    const result = parseQueueConfig('<queue-entries>\n  <application>x</application>\n</queue-entries>\n', { file: 'queue.xml' });
    expect(codes(result)).toEqual(['2:3 unknown-key']);
  });

  it('an empty <queue-entries> is valid and gives only default', () => {
    expect(valid('<queue-entries/>', 'queue.xml')).toEqual(defaultQueueFileConfig());
  });

  it('decodes entities and CDATA in values', () => {
    const config = valid('<queue-entries><queue><name>a</name><rate><![CDATA[5/s]]></rate><target>&#x77;orker</target></queue></queue-entries>', 'queue.xml');
    expect(queue(config, 'a')).toMatchObject({ rate_per_second: 5, target: 'worker' });
  });
});

describe('format detection', () => {
  it.each([
    ['queue.xml', 'anything', 'xml'],
    ['QUEUE.XML', '', 'xml'],
    ['queue.yaml', '<queue-entries/>', 'yaml'],
    ['queue.yml', '', 'yaml'],
    ['config', '  \n<queue-entries/>', 'xml'],
    ['config', 'queue: []', 'yaml'],
  ])('%s with %j is %s', (file, text, format) => {
    expect(detectFormat(file, text)).toBe(format);
  });

  it('an explicit format wins over the file name', () => {
    expect(parseQueueConfig('<queue-entries/>', { file: 'queue.yaml', format: 'xml' }).valid).toBe(true);
  });
});

describe('errors for callers', () => {
  const invalid = parseQueueConfig('queue:\n- name: a\n  rate: 5/s\n  bucket_size: 1000\n', { file: 'queue.yaml' });

  it('formatIssue gives file:line:column severity message (code)', () => {
    expect(invalid.errors.map(formatIssue)).toEqual(["queue.yaml:4:16 error bucket_size 1000 is above App Engine's maximum of 500 (bucket-size-max)"]);
  });

  it('requireValidConfig throws a ConfigError with code CONFIG_INVALID and every issue', () => {
    let thrown: unknown;
    try {
      requireValidConfig(invalid);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.issues).toEqual(invalid.errors);
    expect(error.message).toContain('queue.yaml:4:16 error bucket_size 1000');
  });

  it('requireValidConfig returns the config of a valid result', () => {
    expect(requireValidConfig(parseQueueConfig('', { file: 'q.yaml' }))).toEqual(defaultQueueFileConfig());
  });
});
