/** `--vary QUEUE.KEY=LOW..HIGH[:STEP]` (src/experiments/vary.ts): the settings, the varied configurations, the refusals. */
import { describe, expect, it } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import { printQueueYaml } from '../../src/config/print.js';
import type { QueueFileConfig } from '../../src/core/queue-config.js';
import { ExperimentArgumentError } from '../../src/experiments/errors.js';
import { parseVary, variedConfig } from '../../src/experiments/vary.js';

const CONFIG: QueueFileConfig = (() => {
  const r = parseQueueConfig(
    `queue:
- name: emails
  rate: 20/s
  bucket_size: 40
  max_concurrent_requests: 10
  retry_parameters: { task_retry_limit: 3, min_backoff_seconds: 1, max_backoff_seconds: 10 }
- name: reports
  rate: 5/s
- name: pulled
  mode: pull
`,
    { file: 'queue.yaml' },
  );
  if (r.config === null) throw new Error('test config invalid');
  return Object.freeze(r.config) as QueueFileConfig;
})();

function refusal(text: string): string {
  try {
    parseVary(text, CONFIG);
  } catch (error) {
    expect(error).toBeInstanceOf(ExperimentArgumentError);
    // The library's words: the option `vary`, no flag of the CLI (which renders its own: `--vary`).
    expect(error).toMatchObject({ option: 'vary', values: [text], argument: `vary ${JSON.stringify(text)}` });
    expect((error as Error).message).not.toContain('--');
    return (error as Error).message;
  }
  throw new Error(`${text} was accepted`);
}

describe('parseVary', () => {
  it('lists the settings LOW, LOW+STEP, … ≤ HIGH in the key’s unit, and their queue.yaml text', () => {
    const rate = parseVary('emails.rate=5/s..50/s:5/s', CONFIG);
    expect(rate.count).toBe(10);
    expect([rate.value(0), rate.value(9), rate.yaml(2)]).toEqual([5, 50, '15/s']);
    const perMinute = parseVary('emails.rate=600/m..1200/m:300/m', CONFIG);
    expect([perMinute.count, perMinute.value(1), perMinute.yaml(1)]).toEqual([3, 15, '900/m']);
    const bare = parseVary('emails.rate=1..3', CONFIG);
    expect([bare.count, bare.yaml(2)]).toEqual([3, '3/s']);
    const decimals = parseVary('emails.rate=0.5..1.5:0.1', CONFIG);
    expect([decimals.count, decimals.value(3), decimals.yaml(3)]).toEqual([11, 0.8, '0.8/s']);
    const age = parseVary('emails.retry_parameters.task_age_limit=1h..3h:30m', CONFIG);
    expect([age.name, age.count, age.value(1), age.yaml(1)]).toEqual(['emails.retry_parameters.task_age_limit', 5, 5400, '5400s']);
    expect(parseVary('emails.max_concurrent_requests=1..100', CONFIG).count).toBe(100);
    expect(parseVary('pulled.task_retry_limit=0..5', CONFIG).count).toBe(6);
  });

  it('ends at HIGH even when STEP does not land on it: the range written is the range searched', () => {
    const settings = (text: string): number[] => {
      const r = parseVary(text, CONFIG);
      return Array.from({ length: r.count }, (_, i) => r.value(i));
    };
    expect(settings('emails.rate=1..10:4')).toEqual([1, 5, 9, 10]);
    expect(settings('emails.bucket_size=1..2:5')).toEqual([1, 2]);
    expect(settings('emails.rate=0.5..1:0.2')).toEqual([0.5, 0.7, 0.9, 1]);
    // A step that lands on HIGH (within the decimals' rounding) adds nothing.
    expect(settings('emails.rate=0..0.3:0.1')).toEqual([0, 0.1, 0.2, 0.3]);
    expect(parseVary('emails.rate=600/m..1000/m:300/m', CONFIG).yaml(2)).toBe('1000/m');
    // HIGH is checked as an end: 501 is refused though 1 + 4·k never reaches it.
    expect(refusal('emails.bucket_size=1..501:4')).toMatch(/bucket_size 501 is above App Engine's maximum of 500/);
  });

  it('refuses a range outside App Engine’s limits, an unknown queue or key, a push directive of a pull queue, a bad range', () => {
    expect(refusal('emails.rate=1/s..600/s')).toMatch(/emails.rate 600\/s: rate 600\/s is above App Engine's maximum of 500 per second \(rate-max\)/);
    expect(refusal('emails.bucket_size=1..501')).toMatch(/bucket_size 501 is above App Engine's maximum of 500 \(bucket-size-max\)/);
    expect(refusal('emails.max_concurrent_requests=1..6000')).toMatch(/above App Engine's maximum of 5000/);
    expect(refusal('emails.min_backoff_seconds=1..20')).toMatch(/min_backoff_seconds 20 is greater than max_backoff_seconds 10/);
    expect(refusal('billing.rate=1..2')).toMatch(/no queue billing in the configuration/);
    expect(refusal('emails.colour=1..2')).toMatch(/colour is not a directive vary takes \(rate, bucket_size/);
    expect(refusal('pulled.rate=1..2')).toMatch(/rate is not a directive of pulled: it is a pull queue/);
    expect(refusal('emails.retry_parameters.rate=1..2')).toMatch(/retry_parameters.rate is not a directive: rate is not under retry_parameters \(write emails.rate\)/);
    expect(refusal('emails.retry_parameters.bucket_size=1..5')).toMatch(/bucket_size is not under retry_parameters/);
    expect(refusal('emails.rate=50..5')).toMatch(/HIGH 5 is below LOW 50/);
    expect(refusal('emails.rate=5/s..50/m')).toMatch(/one unit/);
    expect(refusal('emails.bucket_size=1..10:0.5')).toMatch(/0.5 is not a whole number/);
    expect(refusal('emails.rate')).toMatch(/expected QUEUE.KEY=LOW..HIGH\[:STEP\]/);
    expect(refusal('emails.rate=1..2:0')).toMatch(/STEP 0 must be above zero/);
  });
});

describe('variedConfig', () => {
  it('changes only the varied queue (immer: the others are the same objects), leaves the scenario’s config as it was, and means what queue.yaml would', () => {
    const rate = parseVary('emails.rate=1..100', CONFIG);
    const bucket = parseVary('emails.bucket_size=1..100', CONFIG);
    const varied = variedConfig(CONFIG, [[rate, 15], [bucket, 4]]);
    expect(varied.queues.find((q) => q.name === 'reports')).toBe(CONFIG.queues.find((q) => q.name === 'reports'));
    const emails = varied.queues.find((q) => q.name === 'emails');
    expect(emails).toMatchObject({ rate_per_second: 16, rate_exact: { tokens: 1, period_us: 62_500 }, bucket_size: 5, state: 'running' });
    expect(CONFIG.queues.find((q) => q.name === 'emails')).toMatchObject({ rate_per_second: 20, bucket_size: 40 });
    // The varied configuration is the one its queue.yaml text gives.
    expect(parseQueueConfig(printQueueYaml(varied), { file: 'q.yaml' }).config).toEqual(varied);
  });
});
