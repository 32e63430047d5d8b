/**
 * fast-check arbitraries for queue configuration, for pushq's own specs and for users' tests.
 *
 * - `queueFileConfigArbitrary()`: valid, normalised `QueueFileConfig`s (what the engine consumes):
 *   `default` first, unique names, exact rates ≤ 500/s, App Engine's limits respected.
 * - `queueYamlDocumentArbitrary()`: valid queue.yaml documents as data (every value is the text to
 *   write), each with a formatting style drawn from what real files do (CRLF, `---`, quoting,
 *   indentation, `key : value`, non-ASCII comments). `renderQueueYaml` writes one and says on which
 *   line each key landed; `renderQueueXml` writes the same document as queue.xml.
 *
 * The generators do not call pushq's parser: they build values from their own parts.
 */
import fc from 'fast-check';
import type { ExactRate, QueueConfig, QueueFileConfig, RetryParameters } from '../../config/types.js';
import { checkKitOptions } from './options.js';

// ---------------------------------------------------------------------------------------------
// Building blocks

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
type Unit = keyof typeof UNIT_SECONDS;
const UNITS = Object.keys(UNIT_SECONDS) as Unit[];

const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-'.split('');
const TARGET_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789-'.split('');

/** A queue name matching `[A-Za-z0-9-]{1,100}`, other than `default`. */
export function queueNameArbitrary(): fc.Arbitrary<string> {
  return fc
    .oneof(
      { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: 12 }) },
      { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 90, maxLength: 100 }) },
    )
    .filter((name) => name !== 'default');
}

function idArbitrary(maxLength: number): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...TARGET_CHARS.filter((c) => c !== '-')), fc.string({ unit: fc.constantFrom(...TARGET_CHARS), maxLength: Math.min(maxLength - 1, 12) }))
    .map(([first, rest]) => first + rest);
}

/** `service` or `version.service`, as App Engine's target regex allows. */
export function targetArbitrary(): fc.Arbitrary<string> {
  return fc.oneof(idArbitrary(63), fc.tuple(idArbitrary(100), idArbitrary(63)).map(([version, service]) => `${version}.${service}`));
}

/** A rate as written: whole part, fraction digits (0–3) and unit, never above 500 per second. */
interface RateParts {
  whole: number;
  fraction: string;
  unit: Unit;
}

function rateArbitrary(): fc.Arbitrary<RateParts> {
  return fc.constantFrom(...UNITS).chain((unit) => {
    const max = 500 * UNIT_SECONDS[unit];
    return fc.oneof(
      fc.record({ whole: fc.integer({ min: 0, max: max - 1 }), fraction: fc.string({ unit: fc.constantFrom(...'0123456789'.split('')), maxLength: 3 }), unit: fc.constant(unit) }),
      fc.record({ whole: fc.integer({ min: 1, max: 60 }), fraction: fc.constant(''), unit: fc.constant(unit) }),
      fc.constant({ whole: max, fraction: '', unit }),
    );
  });
}

function rateText(rate: RateParts): string {
  return `${rate.whole}${rate.fraction === '' ? '' : `.${rate.fraction}`}/${rate.unit}`;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The exact rate of `parts`, or null for zero. Small enough for plain numbers: ≤ 3 fraction digits. */
function exactRate(parts: RateParts): ExactRate | null {
  const tokens = parts.whole * 10 ** parts.fraction.length + Number(parts.fraction === '' ? '0' : parts.fraction);
  if (tokens === 0) return null;
  const period = 10 ** parts.fraction.length * UNIT_SECONDS[parts.unit] * 1_000_000;
  const divisor = gcd(tokens, period);
  return { tokens: tokens / divisor, period_us: period / divisor };
}

/** A finite double ≥ 0 (never -0), printable and re-readable exactly. */
function secondsArbitrary(max: number): fc.Arbitrary<number> {
  return fc
    .oneof(
      fc.integer({ min: 0, max }),
      fc.double({ min: 0, max, noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(0.1, 0.5, 2.5, 3600, 7200),
    )
    .map((x) => (x === 0 ? 0 : x));
}

// ---------------------------------------------------------------------------------------------
// Normalised configs

const DEFAULT_RETRY: RetryParameters = { task_retry_limit: null, task_age_limit_seconds: null, min_backoff_seconds: 0.1, max_backoff_seconds: 3600, max_doublings: 16 };

function retryArbitrary(): fc.Arbitrary<RetryParameters> {
  return fc
    .record({
      task_retry_limit: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: null }),
      task_age_limit_seconds: fc.option(fc.integer({ min: 1, max: 400 * 86_400 }), { nil: null }),
      backoff: fc.tuple(secondsArbitrary(100_000), secondsArbitrary(100_000)).map(([a, b]) => (a <= b ? [a, b] : [b, a])),
      useBackoff: fc.boolean(),
      max_doublings: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constant(16), fc.constant(99_999)),
    })
    .map(({ backoff, useBackoff, ...rest }) => ({
      ...rest,
      min_backoff_seconds: useBackoff ? backoff[0]! : DEFAULT_RETRY.min_backoff_seconds,
      max_backoff_seconds: useBackoff ? backoff[1]! : DEFAULT_RETRY.max_backoff_seconds,
    }));
}

function pushQueueArbitrary(name: string): fc.Arbitrary<QueueConfig> {
  return fc
    .record({
      rate: fc.option(rateArbitrary(), { nil: null, freq: 8 }),
      bucket_size: fc.integer({ min: 0, max: 500 }),
      max_concurrent_requests: fc.integer({ min: 1, max: 5000 }),
      target: fc.option(targetArbitrary(), { nil: null }),
      retry_parameters: retryArbitrary(),
    })
    .map(({ rate, ...rest }) => {
      const rate_exact = rate === null ? null : exactRate(rate);
      return {
        name,
        mode: 'push' as const,
        state: rate_exact === null ? ('paused' as const) : ('running' as const),
        rate_per_second: rate_exact === null ? 0 : (rate_exact.tokens * 1_000_000) / rate_exact.period_us,
        rate_exact,
        ...rest,
      };
    });
}

function pullQueueArbitrary(name: string): fc.Arbitrary<QueueConfig> {
  return fc.option(fc.integer({ min: 0, max: 1000 }), { nil: null }).map((task_retry_limit) => ({
    name,
    mode: 'pull' as const,
    state: 'running' as const,
    rate_per_second: null,
    rate_exact: null,
    bucket_size: null,
    max_concurrent_requests: null,
    target: null,
    retry_parameters: { ...DEFAULT_RETRY, task_retry_limit },
  }));
}

export interface QueueFileConfigArbitraryOptions {
  /** Queues besides `default`; at most 100 (App Engine's limit). Default 8. */
  maxQueues?: number;
}

/** Valid, normalised queue configurations, `default` first. */
export function queueFileConfigArbitrary(options: QueueFileConfigArbitraryOptions = {}): fc.Arbitrary<QueueFileConfig> {
  checkKitOptions('queueFileConfigArbitrary', options);
  const maxQueues = options.maxQueues ?? 8;
  return fc
    .record({
      total_storage_limit_bytes: fc.option(fc.integer({ min: 0, max: 2 ** 50 }), { nil: null }),
      default: pushQueueArbitrary('default'),
      others: fc
        .uniqueArray(queueNameArbitrary(), { maxLength: maxQueues })
        .chain((names) => fc.tuple(...names.map((name) => fc.oneof({ weight: 3, arbitrary: pushQueueArbitrary(name) }, { weight: 1, arbitrary: pullQueueArbitrary(name) })))),
    })
    .map(({ total_storage_limit_bytes, default: first, others }) => ({ total_storage_limit_bytes, queues: [first, ...others] }));
}

// ---------------------------------------------------------------------------------------------
// queue.yaml documents

export const RETRY_KEYS = ['task_retry_limit', 'task_age_limit', 'min_backoff_seconds', 'max_backoff_seconds', 'max_doublings'] as const;
export type RetryKey = (typeof RETRY_KEYS)[number];

/** One queue entry; every value is the text to write. */
export interface QueueYamlEntry {
  name: string;
  mode?: string;
  rate?: string;
  bucket_size?: string;
  max_concurrent_requests?: string;
  target?: string;
  retry_parameters?: Partial<Record<RetryKey, string>>;
  acl?: Array<{ user_email?: string; writer_email?: string }>;
  /** Further keys, written after the known ones (for tests of unknown keys). */
  extra?: Array<[string, string]>;
}

export interface QueueYamlStyle {
  newline: '\n' | '\r\n';
  documentMarker: boolean;
  /** Spaces before each `- `. */
  itemIndent: number;
  /** Extra indentation of the keys inside retry_parameters. */
  nestedIndent: number;
  quote: 'plain' | 'single' | 'double';
  spaceBeforeColon: boolean;
  /** A comment line (with non-ASCII text) before each entry. */
  comments: boolean;
  blankLineBetweenEntries: boolean;
  finalNewline: boolean;
}

export interface QueueYamlDocument {
  total_storage_limit?: string;
  queue: QueueYamlEntry[];
  style: QueueYamlStyle;
}

const EMAIL = fc.tuple(fc.string({ unit: fc.constantFrom(...'abcxyz019.'.split('')), minLength: 1, maxLength: 8 }), fc.constantFrom('example.com', 'developer.gserviceaccount.com')).map(([user, domain]) => `${user}@${domain}`);

function ageText(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(fc.integer({ min: 1, max: 400 }), fc.constantFrom(...UNITS)).map(([n, unit]) => `${n}${unit}`),
    fc.tuple(fc.integer({ min: 1, max: 99 }), fc.integer({ min: 0, max: 9 }), fc.constantFrom(...UNITS)).map(([n, f, unit]) => `${n}.${f}${unit}`),
  );
}

function decimalText(max: number): fc.Arbitrary<string> {
  return fc.oneof(fc.integer({ min: 0, max }).map(String), fc.tuple(fc.integer({ min: 0, max }), fc.integer({ min: 0, max: 99 })).map(([n, f]) => `${n}.${f}`));
}

function pushRetryText(): fc.Arbitrary<QueueYamlEntry['retry_parameters']> {
  return fc
    .record(
      {
        task_retry_limit: fc.integer({ min: 0, max: 1000 }).map(String),
        task_age_limit: ageText(),
        backoff: fc.tuple(decimalText(10_000), decimalText(10_000), fc.constantFrom('min', 'max', 'both')),
        max_doublings: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constant(99_999)).map(String),
      },
      { requiredKeys: [] },
    )
    .map(({ backoff, ...rest }) => {
      if (backoff === undefined) return rest;
      const [a, b, which] = backoff;
      const [min, max] = Number(a) <= Number(b) ? [a, b] : [b, a];
      if (which === 'min') return { ...rest, min_backoff_seconds: min };
      if (which === 'max') return { ...rest, max_backoff_seconds: max };
      return { ...rest, min_backoff_seconds: min, max_backoff_seconds: max };
    });
}

function pushEntryText(name: string): fc.Arbitrary<QueueYamlEntry> {
  return fc
    .record(
      {
        mode: fc.constant('push'),
        rate: fc.oneof({ weight: 9, arbitrary: rateArbitrary().map(rateText) }, { weight: 1, arbitrary: fc.constant('0') }),
        bucket_size: fc.integer({ min: 0, max: 500 }).map(String),
        max_concurrent_requests: fc.integer({ min: 1, max: 5000 }).map(String),
        target: targetArbitrary(),
        retry_parameters: pushRetryText(),
      },
      { requiredKeys: ['rate'] },
    )
    .map((fields) => ({ name, ...fields }));
}

function pullEntryText(name: string): fc.Arbitrary<QueueYamlEntry> {
  return fc
    .record(
      {
        retry_parameters: fc.integer({ min: 0, max: 1000 }).map((limit) => ({ task_retry_limit: String(limit) })),
        acl: fc.array(fc.oneof(EMAIL.map((user_email) => ({ user_email })), EMAIL.map((writer_email) => ({ writer_email }))), { minLength: 1, maxLength: 3 }),
      },
      { requiredKeys: [] },
    )
    .map((fields) => ({ name, mode: 'pull', ...fields }));
}

export function queueYamlStyleArbitrary(): fc.Arbitrary<QueueYamlStyle> {
  return fc.record({
    newline: fc.constantFrom('\n' as const, '\r\n' as const),
    documentMarker: fc.boolean(),
    itemIndent: fc.constantFrom(0, 1, 2, 4),
    nestedIndent: fc.constantFrom(2, 4),
    quote: fc.constantFrom('plain' as const, 'single' as const, 'double' as const),
    spaceBeforeColon: fc.boolean(),
    comments: fc.boolean(),
    blankLineBetweenEntries: fc.boolean(),
    finalNewline: fc.boolean(),
  });
}

export interface QueueYamlDocumentArbitraryOptions {
  /** Queue entries (`default` may be drawn besides them), at most 100. Default 6. */
  maxQueues?: number;
}

/** Valid queue.yaml documents: unique names (sometimes `default`), push and pull entries. */
export function queueYamlDocumentArbitrary(options: QueueYamlDocumentArbitraryOptions = {}): fc.Arbitrary<QueueYamlDocument> {
  checkKitOptions('queueYamlDocumentArbitrary', options);
  const names = fc
    .tuple(fc.uniqueArray(queueNameArbitrary(), { maxLength: options.maxQueues ?? 6 }), fc.option(fc.nat(), { nil: null }))
    .map(([list, defaultAt]) => (defaultAt === null ? list : [...list.slice(0, defaultAt % (list.length + 1)), 'default', ...list.slice(defaultAt % (list.length + 1))]));
  return fc.record(
    {
      total_storage_limit: fc.oneof(
        fc.integer({ min: 0, max: 10 ** 12 }).map(String),
        fc.tuple(fc.integer({ min: 0, max: 999 }), fc.constantFrom('B', 'K', 'M', 'G', 'T')).map(([n, s]) => `${n}${s}`),
        fc.tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 9 }), fc.constantFrom('K', 'M', 'G')).map(([n, f, s]) => `${n}.${f}${s}`),
      ),
      queue: names.chain((list) =>
        fc.tuple(...list.map((name) => (name === 'default' ? pushEntryText(name) : fc.oneof({ weight: 3, arbitrary: pushEntryText(name) }, { weight: 1, arbitrary: pullEntryText(name) })))),
      ),
      style: queueYamlStyleArbitrary(),
    },
    { requiredKeys: ['queue', 'style'] },
  );
}

// ---------------------------------------------------------------------------------------------
// Rendering

export interface RenderedQueueYaml {
  text: string;
  /**
   * 1-based line of each key path written (`queue[2]`: the entry's first line;
   * `queue[2].retry_parameters.task_age_limit`: that key's line).
   */
  lines: Map<string, number>;
}

const ORDER = ['mode', 'rate', 'bucket_size', 'max_concurrent_requests', 'target'] as const;

/** Writes `doc` as queue.yaml in its style, recording the line of every key. */
export function renderQueueYaml(doc: QueueYamlDocument): RenderedQueueYaml {
  const { style } = doc;
  const out: string[] = [];
  const lines = new Map<string, number>();
  const colon = style.spaceBeforeColon ? ' :' : ':';
  const value = (text: string) => quote(text, style.quote);
  const emit = (line: string, path?: string) => {
    out.push(line);
    if (path !== undefined) lines.set(path, out.length);
  };

  if (style.documentMarker) emit('---');
  if (doc.total_storage_limit !== undefined) emit(`total_storage_limit${colon} ${value(doc.total_storage_limit)}`, 'total_storage_limit');
  emit(`queue${colon}`, 'queue');
  const item = ' '.repeat(style.itemIndent);
  const key = `${item}  `;
  const nested = `${key}${' '.repeat(style.nestedIndent)}`;
  doc.queue.forEach((entry, index) => {
    const at = `queue[${index}]`;
    if (style.blankLineBetweenEntries && index > 0) emit('');
    if (style.comments) emit(`${item}# queue ${index}: очередь — キュー ✓`);
    emit(`${item}- name${colon} ${value(entry.name)}`, at);
    lines.set(`${at}.name`, out.length);
    for (const k of ORDER) {
      const text = entry[k];
      if (text !== undefined) emit(`${key}${k}${colon} ${value(text)}`, `${at}.${k}`);
    }
    if (entry.retry_parameters !== undefined && Object.keys(entry.retry_parameters).length > 0) {
      emit(`${key}retry_parameters${colon}`, `${at}.retry_parameters`);
      for (const k of RETRY_KEYS) {
        const text = entry.retry_parameters[k];
        if (text !== undefined) emit(`${nested}${k}${colon} ${value(text)}`, `${at}.retry_parameters.${k}`);
      }
    }
    if (entry.acl !== undefined) {
      emit(`${key}acl${colon}`, `${at}.acl`);
      entry.acl.forEach((acl, j) => {
        const [k, text] = Object.entries(acl)[0] ?? ['user_email', ''];
        emit(`${key}- ${k}${colon} ${value(text ?? '')}`, `${at}.acl[${j}].${k}`);
      });
    }
    for (const [k, text] of entry.extra ?? []) emit(`${key}${k}${colon} ${value(text)}`, `${at}.${k}`);
  });
  const text = out.join(style.newline) + (style.finalNewline ? style.newline : '');
  return { text, lines };
}

/** Text as a YAML scalar in the wanted style; plain only when a plain scalar reads back as the same text. */
function quote(text: string, style: QueueYamlStyle['quote']): string {
  const plainSafe = text !== '' && !/^[-?:,[\]{}#&*!|>'"%@`\s]|[\s]$|: | #|^(?:~|null|Null|NULL)$/.test(text);
  if (style === 'plain' && plainSafe) return text;
  if (style === 'single') return `'${text.replace(/'/g, "''")}'`;
  return JSON.stringify(text);
}

/** Writes `doc` as queue.xml (same directives; the style's newline and indentation). */
export function renderQueueXml(doc: QueueYamlDocument): string {
  const nl = doc.style.newline;
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const element = (name: string, text: string) => `<${name.replace(/_/g, '-')}>${escape(text)}</${name.replace(/_/g, '-')}>`;
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', '<queue-entries>'];
  if (doc.total_storage_limit !== undefined) out.push(`  ${element('total_storage_limit', doc.total_storage_limit)}`);
  for (const entry of doc.queue) {
    out.push('  <queue>', `    ${element('name', entry.name)}`);
    for (const k of ORDER) {
      const text = entry[k];
      if (text !== undefined) out.push(`    ${element(k, text)}`);
    }
    if (entry.retry_parameters !== undefined && Object.keys(entry.retry_parameters).length > 0) {
      out.push('    <retry-parameters>');
      for (const k of RETRY_KEYS) {
        const text = entry.retry_parameters[k];
        if (text !== undefined) out.push(`      ${element(k, text)}`);
      }
      out.push('    </retry-parameters>');
    }
    if (entry.acl !== undefined) {
      out.push('    <acl>');
      for (const acl of entry.acl) for (const [k, text] of Object.entries(acl)) out.push(`      ${element(k, text ?? '')}`);
      out.push('    </acl>');
    }
    for (const [k, text] of entry.extra ?? []) out.push(`    ${element(k, text)}`);
    out.push('  </queue>');
  }
  out.push('</queue-entries>');
  return out.join(nl) + nl;
}
