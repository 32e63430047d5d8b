/**
 * Properties of the scenario reader (src/scenario):
 * 1. no input makes it throw: text built from scenario keys, YAML punctuation and values, or any
 *    one-character edit of a valid scenario, gives a scenario or issues, never an exception;
 * 2. every issue is well formed: a known code, a position inside the text, a scenario only when
 *    there is no error;
 * 3. a duration written in any unit parses to the microseconds it names.
 * A failure prints fast-check's seed and path; rerun with them to reproduce.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ISSUE_CODES } from '../src/config/issues.js';
import { SCENARIO_ISSUE_CODES } from '../src/scenario/issues.js';
import { parseScenario } from '../src/scenario/parse.js';
import type { ScenarioResult } from '../src/scenario/types.js';
import { parseDuration } from '../src/scenario/values.js';

const RUNS = { numRuns: 300 };

const VALID = `seed: 42
queue:
  - { name: q, rate: 20/s, bucket_size: 40, max_concurrent_requests: 10 }
until: 10m
workload:
  - { queue: q, count: 20, at: 1s, rate: 5/s, arrivals: poisson, url: /w, name_prefix: j-, retry_parameters: { task_retry_limit: 2 } }
worker:
  latency: { distribution: lognormal, p50: 300ms, p99: 2s }
  error_rate: 0.05
  outages: [ { from: 60s, to: 120s, status: 503 } ]
  routes: [ { prefix: /slow, latency: 5s } ]
targets:
  batch: { scaling: basic }
`;

async function checkWellFormed(text: string, result: ScenarioResult): Promise<void> {
  const lines = text.split('\n');
  for (const issue of result.issues) {
    expect(Object.hasOwn(SCENARIO_ISSUE_CODES, issue.code) || Object.hasOwn(ISSUE_CODES, issue.code), issue.code).toBe(true);
    expect(issue.line).toBeGreaterThanOrEqual(1);
    expect(issue.line).toBeLessThanOrEqual(lines.length + 1);
    expect(issue.column).toBeGreaterThanOrEqual(1);
    expect(issue.column).toBeLessThanOrEqual((lines[issue.line - 1] ?? '').length + 1);
    expect(issue.message.length).toBeGreaterThan(0);
  }
  const hasError = result.issues.some((i) => i.severity === 'error');
  expect(result.scenario === null).toBe(hasError);
}

const parse = (text: string) => parseScenario(text, { file: 's.yaml', baseDir: '/nonexistent', readQueueFile: async (path) => ({ file: path, valid: false, errors: [{ severity: 'error', file: path, line: 1, column: 1, path: '', code: 'file-unreadable', message: `cannot read ${path}: no such file` }], warnings: [], config: null, declaresDefault: false }) });

describe('scenario reader', () => {
  it('the valid example is valid', async () => {
    const r = await parse(VALID);
    expect(r.issues).toEqual([]);
    expect(r.scenario).not.toBeNull();
  });

  it('never throws on text made of scenario words and YAML punctuation; issues are well formed', async () => {
    const word = fc.constantFrom(
      'seed', 'queue', 'queue_yaml', 'until', 'workload', 'worker', 'targets', 'count', 'at', 'rate', 'arrivals', 'latency',
      'distribution', 'lognormal', 'p50', 'p99', 'outages', 'routes', 'prefix', 'name', 'retry_parameters', 'task_retry_limit',
      'scaling', 'basic', '1s', '0', '-1', '50/s', 'poisson', '/x', 'null', '~', '"', "'", '[', ']', '{', '}', ',', ':', ': ', '- ', '&a', '*a', '#',
    );
    const token = fc.oneof(word, fc.constantFrom(' ', '  ', '\n', '\n  ', '\n    ', '\t'), fc.string({ maxLength: 3 }));
    await fc.assert(
      fc.asyncProperty(fc.array(token, { maxLength: 40 }), async (tokens) => {
        const text = tokens.join('');
        await checkWellFormed(text, await parse(text));
      }),
      RUNS,
    );
  });

  it('never throws on any one-character edit of a valid scenario', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(VALID.length - 1), fc.constantFrom('', ' ', '\n', ':', '-', '{', '}', '[', ']', 'x', '0', '#'), async (at, replacement) => {
        const text = VALID.slice(0, at) + replacement + VALID.slice(at + 1);
        await checkWellFormed(text, await parse(text));
      }),
      RUNS,
    );
  });

  it('reads a duration in any unit as the microseconds it names', () => {
    const units = { ms: 1_000, s: 1_000_000, m: 60_000_000, h: 3_600_000_000, d: 86_400_000_000 } as const;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 3 }), fc.constantFrom(...(Object.keys(units) as (keyof typeof units)[])), (scaled, decimals, unit) => {
        const text = decimals === 0 ? String(scaled) : (scaled / 10 ** decimals).toFixed(decimals);
        const expected = Math.round((scaled / 10 ** decimals) * units[unit]);
        const parsed = parseDuration(`${text}${unit}`);
        if (expected > 365 * units.d) expect(parsed.ok).toBe(false);
        else expect(parsed).toEqual({ ok: true, value: expected });
      }),
      RUNS,
    );
  });
});
