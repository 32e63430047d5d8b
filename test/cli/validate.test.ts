/** `pushq validate`, run as a user runs it: `node bin/pushq.js ...` on the built dist/ (see test/global-setup.ts). */
import { describe, expect, it } from 'vitest';
import { pushq as runPushq, type CliRun } from '../helpers/cli.js';

const FIXTURES = 'test/fixtures/queue-config';
const VALID = `${FIXTURES}/001__the-blue-alliance__the-blue-alliance__src-queue.yaml`;
const WARNS = `${FIXTURES}/023__luci__luci-py__appengine-isolate-queue.yaml`;
const INVALID = `${FIXTURES}/059__Vizzuality__DeforestationAnalysisTool__src-queue.yaml`;
const XML = `${FIXTURES}/061__bslatkin__8-bits__appengine-mapreduce-java-example-war-WEB-INF-queue.xml`;
const SINGLE = `${FIXTURES}/055__metachris__appengine-boilerplate__app-queue.yaml`;

function pushq(...args: string[]): Promise<CliRun> {
  return runPushq(args);
}

const ISSUE_LINE = /^\S+:\d+:\d+ (error|warning) .+ \([a-z0-9-]+\)$/;

describe('pushq validate: human output', () => {
  it('exits 0 and prints one verdict line for a valid file', async () => {
    expect(await pushq('validate', VALID)).toEqual({ code: 0, stdout: `${VALID}: valid (12 queues)\n`, stderr: '' });
  });

  it('says "1 queue" for a file that leaves only default', async () => {
    expect((await pushq('validate', SINGLE)).stdout).toBe(`${SINGLE}: valid (1 queue)\n`);
  });

  it('exits 0 with warnings, printing each as file:line:column warning message (code)', async () => {
    const run = await pushq('validate', WARNS);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')).toEqual([
      `${WARNS}:27:28 warning max_concurrent_requests 10000 is above App Engine's maximum of 5000; 5000 is used (max-concurrent-requests-clamped)`,
      `${WARNS}:35:28 warning max_concurrent_requests 10000 is above App Engine's maximum of 5000; 5000 is used (max-concurrent-requests-clamped)`,
      `${WARNS}: valid (6 queues)`,
      '',
    ]);
  });

  it('exits 1 for an invalid file, naming file, line, column and the limit', async () => {
    expect(await pushq('validate', INVALID)).toEqual({
      code: 1,
      stdout: `${INVALID}:6:16 error bucket_size 1000 is above App Engine's maximum of 500 (bucket-size-max)\n${INVALID}: invalid (1 error)\n`,
      stderr: '',
    });
  });

  it('checks every file given, in order, and exits 1 if any is invalid', async () => {
    const run = await pushq('validate', VALID, INVALID, XML);
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.filter((line) => !ISSUE_LINE.test(line))).toEqual([`${VALID}: valid (12 queues)`, `${INVALID}: invalid (1 error)`, `${XML}: valid (2 queues)`]);
  });

  it('reports every issue of a file, in line order', async () => {
    const run = await pushq('validate', 'test/cli/fixtures/many-problems.yaml');
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.slice(0, -1).every((line) => ISSUE_LINE.test(line))).toBe(true);
    expect(lines.map((line) => line.replace(/^\S+?:(\d+:\d+) (\w+) .* \(([a-z0-9-]+)\)$/, '$1 $2 $3'))).toEqual([
      '1:1 warning application-ignored',
      '4:9 error rate-max',
      '5:16 error bucket-size-max',
      '6:3 error unknown-key',
      '9:3 error rate-missing',
      '10:9 error name-duplicate',
      'test/cli/fixtures/many-problems.yaml: invalid (5 errors)',
    ]);
  });

  it('exits 1 for a missing file', async () => {
    expect(await pushq('validate', 'no/such/queue.yaml')).toEqual({
      code: 1,
      stdout: 'no/such/queue.yaml:1:1 error cannot read no/such/queue.yaml: no such file (file-unreadable)\nno/such/queue.yaml: invalid (1 error)\n',
      stderr: '',
    });
  });

  it('treats arguments after -- as files', async () => {
    expect((await pushq('validate', '--', VALID)).code).toBe(0);
  });
});

describe('pushq validate --json', () => {
  it('prints one JSON object for one file, in the documented shape, without rate_exact', async () => {
    const run = await pushq('validate', '--json', XML);
    expect(run.code).toBe(0);
    expect(run.stdout.endsWith('\n')).toBe(true);
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(1);
    const report = JSON.parse(run.stdout);
    expect(Object.keys(report)).toEqual(['file', 'valid', 'errors', 'warnings', 'config']);
    expect(Object.keys(report.config)).toEqual(['total_storage_limit_bytes', 'queues']);
    expect(report).toEqual({
      file: XML,
      valid: true,
      errors: [],
      warnings: [],
      config: {
        total_storage_limit_bytes: 1000 * 1024 ** 2,
        queues: [
          {
            name: 'default',
            mode: 'push',
            state: 'running',
            rate_per_second: 100,
            bucket_size: 100,
            max_concurrent_requests: 300,
            target: null,
            retry_parameters: { task_retry_limit: null, task_age_limit_seconds: 259_200, min_backoff_seconds: 0.1, max_backoff_seconds: 3600, max_doublings: 16 },
          },
          {
            name: 'mapreduce-workers',
            mode: 'push',
            state: 'running',
            rate_per_second: 100,
            bucket_size: 100,
            max_concurrent_requests: 100,
            target: null,
            retry_parameters: { task_retry_limit: null, task_age_limit_seconds: 259_200, min_backoff_seconds: 0.1, max_backoff_seconds: 3600, max_doublings: 16 },
          },
        ],
      },
    });
    const queue = report.config.queues[0];
    expect(Object.keys(queue)).toEqual(['name', 'mode', 'state', 'rate_per_second', 'bucket_size', 'max_concurrent_requests', 'target', 'retry_parameters']);
    expect(Object.keys(queue.retry_parameters)).toEqual(['task_retry_limit', 'task_age_limit_seconds', 'min_backoff_seconds', 'max_backoff_seconds', 'max_doublings']);
  });

  it('prints one object per line for several files (JSON Lines); invalid files have config null', async () => {
    const run = await pushq('validate', WARNS, '--json', INVALID);
    expect(run.code).toBe(1);
    const reports = run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(reports.map((r) => [r.file, r.valid, r.config === null])).toEqual([
      [WARNS, true, false],
      [INVALID, false, true],
    ]);
    expect(reports[0].warnings).toEqual([
      { line: 27, column: 28, path: 'queue[3].max_concurrent_requests', code: 'max-concurrent-requests-clamped', message: "max_concurrent_requests 10000 is above App Engine's maximum of 5000; 5000 is used" },
      { line: 35, column: 28, path: 'queue[4].max_concurrent_requests', code: 'max-concurrent-requests-clamped', message: "max_concurrent_requests 10000 is above App Engine's maximum of 5000; 5000 is used" },
    ]);
    expect(reports[1].errors).toEqual([{ line: 6, column: 16, path: 'queue[0].bucket_size', code: 'bucket-size-max', message: "bucket_size 1000 is above App Engine's maximum of 500" }]);
  });
});

describe('pushq usage errors', () => {
  it.each([
    ['no file', ['validate'], /no file given/],
    ['an unknown option', ['validate', '--strict', VALID], /unknown option --strict/],
    ['an unknown command', ['frobnicate'], /unknown command frobnicate/],
    ['no command', [], /usage: pushq COMMAND/],
  ])('exits 2 with usage on stderr for %s', async (_, args, message) => {
    const run = await pushq(...args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/usage: pushq/);
  });

  it('--help prints usage on stdout and exits 0', async () => {
    const top = await pushq('--help');
    expect(top).toMatchObject({ code: 0, stderr: '' });
    expect(top.stdout).toMatch(/^usage: pushq COMMAND[\s\S]*\n {2}validate {2}check queue\.yaml/);
    const command = await pushq('validate', '--help');
    expect(command).toMatchObject({ code: 0, stderr: '' });
    expect(command.stdout).toMatch(/^usage: pushq validate \[--json\] FILE\.\.\.[\s\S]*JSON Lines/);
  });
});
