/**
 * Properties of the queue configuration reader (src/config):
 * 1. a generated valid queue.yaml, in any real-world style, is valid and means what a naive model
 *    of App Engine's rules says it means;
 * 2. normalising is idempotent: normalise(print(normalise(x))) = normalise(x);
 * 3. any valid normalised config survives print-then-parse unchanged;
 * 4. queue.xml and queue.yaml spellings of one document give the same config;
 * 5. one mutation that breaks one rule gives exactly one error, with the right code, path and line;
 * 6. no input makes the reader throw, and every issue it reports is well formed.
 * A failure prints fast-check's seed and path; rerun with them to reproduce.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ISSUE_CODES, type IssueCode } from '../src/config/issues.js';
import { parseQueueConfig } from '../src/config/parse.js';
import { printQueueYaml } from '../src/config/print.js';
import { QUEUE_LIMITS, RETRY_DEFAULTS, type ConfigResult, type QueueConfig, type QueueFileConfig } from '../src/config/types.js';
import {
  queueFileConfigArbitrary,
  queueYamlDocumentArbitrary,
  renderQueueXml,
  renderQueueYaml,
  type QueueYamlDocument,
  type QueueYamlEntry,
} from '../src/testing/arbitraries/queue-config.js';

const RUNS = { numRuns: 150 };

function parseYaml(text: string): ConfigResult {
  return parseQueueConfig(text, { file: 'queue.yaml' });
}

function validConfig(result: ConfigResult): QueueFileConfig {
  expect(result.errors).toEqual([]);
  expect(result.config).not.toBeNull();
  return result.config!;
}

// --- A naive model of the rules, for documents the arbitrary generates -------------------------

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const BYTE_SUFFIX: Record<string, number> = { B: 0, K: 1, M: 2, G: 3, T: 4 };

function modelStorage(text: string | undefined): number | null {
  if (text === undefined) return null;
  const suffix = text.at(-1)!;
  return suffix in BYTE_SUFFIX ? Math.trunc(Number(text.slice(0, -1)) * 1024 ** BYTE_SUFFIX[suffix]!) : Number(text);
}

function checkQueueAgainstModel(entry: QueueYamlEntry, queue: QueueConfig): void {
  const retry = entry.retry_parameters ?? {};
  const limit = retry.task_retry_limit === undefined ? null : Number(retry.task_retry_limit);
  if (entry.mode === 'pull') {
    expect(queue).toEqual({
      name: entry.name,
      mode: 'pull',
      state: 'running',
      rate_per_second: null,
      rate_exact: null,
      bucket_size: null,
      max_concurrent_requests: null,
      target: null,
      retry_parameters: { ...RETRY_DEFAULTS, task_retry_limit: limit },
    });
    return;
  }
  const [number = '', unit = 's'] = entry.rate!.split('/');
  const perSecond = entry.rate === '0' ? 0 : Number(number) / UNIT_SECONDS[unit]!;
  if (perSecond === 0) {
    expect(queue).toMatchObject({ state: 'paused', rate_per_second: 0, rate_exact: null });
  } else {
    expect(queue.state).toBe('running');
    expect(queue.rate_per_second).toBeCloseTo(perSecond, 9);
    const exact = queue.rate_exact!;
    expect(Number.isSafeInteger(exact.tokens) && Number.isSafeInteger(exact.period_us)).toBe(true);
    expect((exact.tokens * 1_000_000) / exact.period_us).toBe(queue.rate_per_second);
  }
  expect(queue.bucket_size).toBe(Number(entry.bucket_size ?? 5));
  expect(queue.max_concurrent_requests).toBe(Number(entry.max_concurrent_requests ?? 1000));
  expect(queue.target).toBe(entry.target ?? null);

  const min = retry.min_backoff_seconds === undefined ? null : Number(retry.min_backoff_seconds);
  const max = retry.max_backoff_seconds === undefined ? null : Number(retry.max_backoff_seconds);
  let minSeconds = min ?? 0.1;
  let maxSeconds = max ?? 3600;
  if (max === null && minSeconds > 3600) maxSeconds = minSeconds;
  if (min === null && maxSeconds < 0.1) minSeconds = maxSeconds;
  const age = retry.task_age_limit;
  expect(queue.retry_parameters).toEqual({
    task_retry_limit: limit,
    task_age_limit_seconds: age === undefined ? null : Math.trunc(Number(age.slice(0, -1)) * UNIT_SECONDS[age.at(-1)!]!),
    min_backoff_seconds: minSeconds,
    max_backoff_seconds: maxSeconds,
    max_doublings: retry.max_doublings === undefined ? 16 : Number(retry.max_doublings),
  });
}

function checkAgainstModel(doc: QueueYamlDocument, config: QueueFileConfig): void {
  expect(config.total_storage_limit_bytes).toBe(modelStorage(doc.total_storage_limit));
  const names = doc.queue.map((entry) => entry.name);
  expect(config.queues.map((q) => q.name)).toEqual(['default', ...names.filter((name) => name !== 'default')]);
  for (const entry of doc.queue) checkQueueAgainstModel(entry, config.queues.find((q) => q.name === entry.name)!);
}

describe('valid documents', () => {
  it('a generated queue.yaml, in any style, is valid and matches the model of the rules', () => {
    fc.assert(
      fc.property(queueYamlDocumentArbitrary(), (doc) => {
        const result = parseYaml(renderQueueYaml(doc).text);
        expect(result.warnings).toEqual([]);
        checkAgainstModel(doc, validConfig(result));
      }),
      RUNS,
    );
  });

  it('normalising is idempotent: normalise(print(normalise(x))) = normalise(x)', () => {
    fc.assert(
      fc.property(queueYamlDocumentArbitrary(), (doc) => {
        const once = validConfig(parseYaml(renderQueueYaml(doc).text));
        const twice = validConfig(parseYaml(printQueueYaml(once)));
        expect(twice).toEqual(once);
      }),
      RUNS,
    );
  });

  it('any valid normalised config survives print-then-parse unchanged', () => {
    fc.assert(
      fc.property(queueFileConfigArbitrary(), (config) => {
        expect(validConfig(parseYaml(printQueueYaml(config)))).toEqual(config);
      }),
      RUNS,
    );
  });

  it('queue.xml and queue.yaml spellings of one document give the same config', () => {
    fc.assert(
      fc.property(queueYamlDocumentArbitrary(), (doc) => {
        const fromXml = validConfig(parseQueueConfig(renderQueueXml(doc), { file: 'queue.xml' }));
        expect(fromXml).toEqual(validConfig(parseYaml(renderQueueYaml(doc).text)));
      }),
      RUNS,
    );
  });
});

// --- Mutations that break exactly one rule ---------------------------------------------------

interface Broken {
  doc: QueueYamlDocument;
  code: IssueCode;
  /** The issue's key path. */
  path: string;
  /** The rendered key whose line the issue must name (default: `path`). */
  lineOf?: string;
}

type Mutation = (doc: QueueYamlDocument, pick: number, variant: number) => Broken | null;

const isPush = (entry: QueueYamlEntry) => entry.mode !== 'pull';

/** Applies `change` to the `pick`-th entry among those `eligible`; null when none is. */
function onEntry(doc: QueueYamlDocument, pick: number, eligible: (entry: QueueYamlEntry) => boolean, change: (entry: QueueYamlEntry, at: string) => Omit<Broken, 'doc'>): Broken | null {
  const indexes = doc.queue.flatMap((entry, index) => (eligible(entry) ? [index] : []));
  if (indexes.length === 0) return null;
  const index = indexes[pick % indexes.length]!;
  const copy = structuredClone(doc);
  const broken = change(copy.queue[index]!, `queue[${index}]`);
  return { doc: copy, ...broken };
}

const choose = <T>(options: readonly T[], variant: number): T => options[variant % options.length]!;

const MUTATIONS: Record<string, Mutation> = {
  'rate over 500/s': (doc, pick, v) =>
    onEntry(doc, pick, isPush, (e, at) => {
      e.rate = choose(['501/s', '500.001/s', '30001/m', '1800001/h', '43200001/d', `${501 + v}/s`, `${30_001 + v}/m`], v);
      return { code: 'rate-max', path: `${at}.rate` };
    }),
  'rate not a rate': (doc, pick, v) =>
    onEntry(doc, pick, isPush, (e, at) => {
      e.rate = choose(['5/x', 'fast', '5 per second', '1e3/s', '-1/s', '.5/s'], v);
      return { code: 'rate-invalid', path: `${at}.rate` };
    }),
  'push queue without rate': (doc, pick) =>
    onEntry(doc, pick, isPush, (e, at) => {
      delete e.rate;
      return { code: 'rate-missing', path: `${at}.rate`, lineOf: at };
    }),
  'bucket over 500': (doc, pick, v) =>
    onEntry(doc, pick, isPush, (e, at) => {
      e.bucket_size = choose(['501', String(501 + v), '1000'], v);
      return { code: 'bucket-size-max', path: `${at}.bucket_size` };
    }),
  'bucket not a whole number ≥ 0': (doc, pick, v) =>
    onEntry(doc, pick, isPush, (e, at) => {
      e.bucket_size = choose(['-1', '1.5', 'ten', '0x10'], v);
      return { code: 'bucket-size-invalid', path: `${at}.bucket_size` };
    }),
  'max_concurrent_requests not a whole number': (doc, pick, v) =>
    onEntry(doc, pick, isPush, (e, at) => {
      e.max_concurrent_requests = choose(['2.5', 'ten', '--1', `${1 + v}.5`], v);
      return { code: 'max-concurrent-requests-invalid', path: `${at}.max_concurrent_requests` };
    }),
  'bad target': (doc, pick, v) =>
    onEntry(doc, pick, isPush, (e, at) => {
      e.target = choose(['Backend', 'a.b.c', '-worker', 'v1.-worker', 'svc_1', 'x'.repeat(64)], v);
      return { code: 'target-invalid', path: `${at}.target` };
    }),
  'bad name': (doc, pick, v) =>
    onEntry(doc, pick, () => true, (e, at) => {
      e.name = choose(['bad_name', 'a.b', 'x'.repeat(101), 'two words', 'ünïcode'], v);
      return { code: 'name-invalid', path: `${at}.name` };
    }),
  'duplicate name': (doc, pick) => {
    if (doc.queue.length < 2) return null;
    const later = 1 + (pick % (doc.queue.length - 1));
    const earlier = pick % later;
    const copy = structuredClone(doc);
    copy.queue[later]!.name = copy.queue[earlier]!.name;
    return { doc: copy, code: 'name-duplicate', path: `queue[${later}].name` };
  },
  'min backoff above max': (doc, pick, v) =>
    onEntry(doc, pick, isPush, (e, at) => {
      e.retry_parameters = { ...e.retry_parameters, min_backoff_seconds: choose(['0.2', String(v + 0.001), String(v + 1.5)], v), max_backoff_seconds: choose(['0.1', String(v), String(v)], v) };
      return { code: 'min-backoff-above-max', path: `${at}.retry_parameters.min_backoff_seconds` };
    }),
  'negative retry limit': (doc, pick, v) =>
    onEntry(doc, pick, () => true, (e, at) => {
      e.retry_parameters = { ...e.retry_parameters, task_retry_limit: choose(['-1', `-${1 + v}`, '1.5', 'many'], v) };
      return { code: 'task-retry-limit-invalid', path: `${at}.retry_parameters.task_retry_limit` };
    }),
  'age limit not above zero': (doc, pick, v) =>
    onEntry(doc, pick, isPush, (e, at) => {
      e.retry_parameters = { ...e.retry_parameters, task_age_limit: choose(['0s', '0d', '-1m', '0.5s', '5w', '10'], v) };
      return { code: 'task-age-limit-invalid', path: `${at}.retry_parameters.task_age_limit` };
    }),
  'negative min backoff': (doc, pick, v) =>
    onEntry(doc, pick, isPush, (e, at) => {
      e.retry_parameters = { ...e.retry_parameters, min_backoff_seconds: choose(['-1', '-0.5', 'soon'], v) };
      return { code: 'min-backoff-seconds-invalid', path: `${at}.retry_parameters.min_backoff_seconds` };
    }),
  'bad max_doublings': (doc, pick, v) =>
    onEntry(doc, pick, isPush, (e, at) => {
      e.retry_parameters = { ...e.retry_parameters, max_doublings: choose(['-1', '2.5', 'lots'], v) };
      return { code: 'max-doublings-invalid', path: `${at}.retry_parameters.max_doublings` };
    }),
  'pull queue with a push directive': (doc, pick, v) =>
    onEntry(doc, pick, (e) => !isPush(e), (e, at) => {
      const which = choose(['rate', 'bucket_size', 'max_concurrent_requests', 'target', 'task_age_limit', 'max_doublings'] as const, v);
      if (which === 'task_age_limit' || which === 'max_doublings') {
        e.retry_parameters = { ...e.retry_parameters, [which]: which === 'task_age_limit' ? '1d' : '3' };
        return { code: 'push-only-directive', path: `${at}.retry_parameters.${which}` };
      }
      e[which] = { rate: '1/s', bucket_size: '5', max_concurrent_requests: '10', target: 'worker' }[which];
      return { code: 'push-only-directive', path: `${at}.${which}` };
    }),
  'push queue with an acl': (doc, pick) =>
    onEntry(doc, pick, isPush, (e, at) => {
      e.acl = [{ user_email: 'someone@example.com' }];
      return { code: 'pull-only-directive', path: `${at}.acl` };
    }),
  'unknown key': (doc, pick, v) =>
    onEntry(doc, pick, () => true, (e, at) => {
      const key = choose(['bucket_sise', 'rates', 'max_concurrent', 'description', 'retry', 'Mode', 'bucket-size'], v);
      e.extra = [[key, '1']];
      return { code: 'unknown-key', path: `${at}.${key}` };
    }),
  'bad mode': (doc, pick, v) =>
    onEntry(doc, pick, () => true, (e, at) => {
      e.mode = choose(['PUSH', 'Pull', 'poll', 'push-pull'], v);
      return { code: 'mode-invalid', path: `${at}.mode` };
    }),
  'bad total_storage_limit': (doc, _pick, v) => ({
    doc: { ...structuredClone(doc), total_storage_limit: choose(['1.5', '12Q', '-1M', '1 M', 'lots'], v) },
    code: 'total-storage-limit-invalid',
    path: 'total_storage_limit',
  }),
  'more than 100 queues besides default': (doc) => {
    const copy = structuredClone(doc);
    let besides = copy.queue.filter((e) => e.name !== 'default').length;
    for (let k = 0; besides <= QUEUE_LIMITS.queues_max_besides_default; k++) {
      const name = `filler-${k}`;
      if (copy.queue.some((e) => e.name === name)) continue;
      copy.queue.push({ name, rate: '1/s' });
      besides++;
    }
    let seen = 0;
    const index = copy.queue.findIndex((e) => e.name !== 'default' && ++seen === QUEUE_LIMITS.queues_max_besides_default + 1);
    return { doc: copy, code: 'too-many-queues', path: `queue[${index}]` };
  },
};

describe('one broken rule, one error, at the right line', () => {
  const cases = fc
    .record({ doc: queueYamlDocumentArbitrary(), mutation: fc.constantFrom(...Object.keys(MUTATIONS)), pick: fc.nat(), variant: fc.nat({ max: 1000 }) })
    .map(({ doc, mutation, pick, variant }) => ({ mutation, broken: MUTATIONS[mutation]!(doc, pick, variant) }))
    .filter((c): c is { mutation: string; broken: Broken } => c.broken !== null);

  it('reports exactly the broken rule with its code, path and line', () => {
    fc.assert(
      fc.property(cases, ({ broken }) => {
        const rendered = renderQueueYaml(broken.doc);
        const result = parseYaml(rendered.text);
        const line = rendered.lines.get(broken.lineOf ?? broken.path);
        expect(line).toBeDefined();
        expect(result.errors.map((e) => [e.code, e.path, e.line])).toEqual([[broken.code, broken.path, line]]);
        expect(result.valid).toBe(false);
        expect(result.config).toBeNull();
      }),
      { numRuns: 400 },
    );
  });

  it('every mutation applies to some generated document', () => {
    const applied = new Set<string>();
    fc.assert(
      fc.property(cases, ({ mutation }) => {
        applied.add(mutation);
      }),
      { numRuns: 400 },
    );
    expect([...applied].sort()).toEqual(Object.keys(MUTATIONS).sort());
  });
});

// --- Robustness --------------------------------------------------------------------------------

function wellFormed(result: ConfigResult): void {
  for (const issue of [...result.errors, ...result.warnings]) {
    expect(Object.hasOwn(ISSUE_CODES, issue.code)).toBe(true);
    expect(issue.severity).toBe(ISSUE_CODES[issue.code as IssueCode].severity);
    expect(issue.line).toBeGreaterThanOrEqual(1);
    expect(issue.column).toBeGreaterThanOrEqual(1);
    expect(issue.message.length).toBeGreaterThan(0);
  }
  expect(result.valid).toBe(result.errors.length === 0);
  expect(result.config === null).toBe(!result.valid);
}

describe('any input', () => {
  it('never throws, as YAML or XML, and reports only well-formed issues', () => {
    const yamlish = fc.stringMatching(/^(?:[ \t]{0,4}(?:- |#)?(?:queue|name|rate|mode|bucket_size|acl|retry_parameters|x)?:? ?[\w./@"'[\]{}&*!|>-]{0,8}\r?\n){0,12}$/);
    const xmlish = fc.array(fc.constantFrom('<queue-entries>', '</queue-entries>', '<queue>', '</queue>', '<name>', '</name>', 'a', ' 5/s ', '<rate>', '</rate>', '<acl>', '<user-email>', '&amp;', '<!-- x -->', '<![CDATA[1]]>', '\n'), { maxLength: 20 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), yamlish, xmlish), fc.constantFrom('yaml' as const, 'xml' as const), (text, format) => {
        wellFormed(parseQueueConfig(text, { file: 'fuzz', format }));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on a valid document with random lines deleted', () => {
    fc.assert(
      fc.property(queueYamlDocumentArbitrary(), fc.array(fc.nat()), (doc, drops) => {
        const lines = renderQueueYaml(doc).text.split('\n');
        for (const drop of drops) lines.splice(drop % Math.max(1, lines.length), 1);
        wellFormed(parseYaml(lines.join('\n')));
        wellFormed(parseQueueConfig(renderQueueXml(doc).split('\n').filter((_, i) => !drops.includes(i)).join('\n'), { file: 'queue.xml' }));
      }),
      RUNS,
    );
  });
});
