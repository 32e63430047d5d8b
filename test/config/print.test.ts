import { describe, expect, it } from 'vitest';
import { defaultQueueConfig, defaultQueueFileConfig } from '../../src/config/defaults.js';
import { parseQueueConfig } from '../../src/config/parse.js';
import { printQueueYaml } from '../../src/config/print.js';
import type { QueueFileConfig } from '../../src/config/types.js';

function reparse(config: QueueFileConfig): QueueFileConfig | null {
  return parseQueueConfig(printQueueYaml(config), { file: 'printed.yaml' }).config;
}

describe('printQueueYaml', () => {
  it('prints the default config', () => {
    expect(printQueueYaml(defaultQueueFileConfig())).toBe(
      ['queue:', '- name: default', '  rate: 5/s', '  bucket_size: 5', '  max_concurrent_requests: 1000', ''].join('\n'),
    );
  });

  it('prints exact rates, storage in the largest exact unit, pull queues and non-default retry parameters only', () => {
    const source = [
      'total_storage_limit: 1.5K',
      'queue:',
      '- name: slow',
      '  rate: 1.5/s',
      '  target: v1.worker',
      '  retry_parameters:',
      '    task_age_limit: 2.5m',
      '    min_backoff_seconds: 7200',
      '- name: p',
      '  mode: pull',
      '  retry_parameters:',
      '    task_retry_limit: 0',
      '- name: stopped',
      '  rate: 0/s',
      '- name: "123"',
      '  rate: 10/m',
      '',
    ].join('\n');
    const config = parseQueueConfig(source, { file: 'q.yaml' }).config!;
    expect(printQueueYaml(config)).toBe(
      [
        'total_storage_limit: 1536',
        'queue:',
        '- name: default',
        '  rate: 5/s',
        '  bucket_size: 5',
        '  max_concurrent_requests: 1000',
        '- name: slow',
        '  rate: 90/m',
        '  bucket_size: 5',
        '  max_concurrent_requests: 1000',
        '  target: v1.worker',
        '  retry_parameters:',
        '    task_age_limit: 150s',
        '    min_backoff_seconds: 7200',
        '    max_backoff_seconds: 7200',
        '- name: p',
        '  mode: pull',
        '  retry_parameters:',
        '    task_retry_limit: 0',
        '- name: stopped',
        '  rate: 0',
        '  bucket_size: 5',
        '  max_concurrent_requests: 1000',
        '- name: "123"',
        '  rate: 10/m',
        '  bucket_size: 5',
        '  max_concurrent_requests: 1000',
        '',
      ].join('\n'),
    );
    expect(reparse(config)).toEqual(config);
  });

  it('quotes names a YAML 1.1 reader would not see as text', () => {
    const config = defaultQueueFileConfig();
    for (const name of ['yes', 'No', '0123', '-a', 'null']) config.queues.push({ ...defaultQueueConfig(), name });
    const printed = printQueueYaml(config);
    expect(printed).toContain('- name: "yes"\n');
    expect(printed).toContain('- name: "-a"\n');
    expect(reparse(config)).toEqual(config);
  });

  it('refuses configs queue.yaml cannot express', () => {
    const pullWithRate: QueueFileConfig = { total_storage_limit_bytes: null, queues: [{ ...defaultQueueConfig(), mode: 'pull' }] };
    expect(() => printQueueYaml(pullWithRate)).toThrow(/push-queue settings/);
    const pausedWithRate: QueueFileConfig = { total_storage_limit_bytes: null, queues: [{ ...defaultQueueConfig(), state: 'paused' }] };
    expect(() => printQueueYaml(pausedWithRate)).toThrow(/contradicts its rate/);
  });
});
