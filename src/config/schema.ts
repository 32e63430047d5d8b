/**
 * The raw shape of a queue file, before any value is interpreted: which keys exist where, and
 * which are single values, mappings or lists. Every scalar is text (queue.yaml is read with the
 * YAML failsafe schema, queue.xml has only text), `null` is a key written with no value.
 *
 * `checkShape` reports every shape problem at once (unknown keys with a suggestion, wrong kinds),
 * then removes the offending parts so the value rules can still run on the rest of the file.
 */
import { z } from 'zod';
import type { IssueCollector } from './issues.js';
import { formatPath, type Path } from './paths.js';
import { spellKey, yamlKey, type ConfigFormat } from './source.js';
import { checkShapeAgainst, type ShapeResult as GenericShapeResult } from './shape-check.js';
import { closestKey } from './suggest.js';

const text = z.string().nullish();

const RetryParametersSchema = z.strictObject({
  task_retry_limit: text,
  task_age_limit: text,
  min_backoff_seconds: text,
  max_backoff_seconds: text,
  max_doublings: text,
});

const AclEntrySchema = z.strictObject({
  user_email: text,
  writer_email: text,
});

const QueueEntrySchema = z.strictObject({
  name: text,
  mode: text,
  rate: text,
  bucket_size: text,
  max_concurrent_requests: text,
  target: text,
  retry_parameters: RetryParametersSchema.nullish(),
  acl: z.array(AclEntrySchema).nullish(),
});

const QueueFileSchema = z.strictObject({
  queue: z.array(QueueEntrySchema).nullish(),
  total_storage_limit: text,
  /** gcloud only: whether a deploy resumes paused queues. Checked, not used by pushq. */
  resume_paused_queues: text,
  /** Legacy; ignored with a warning. */
  application: text,
});

export type RawQueueFile = z.infer<typeof QueueFileSchema>;
export type RawQueueEntry = z.infer<typeof QueueEntrySchema>;
export type RawRetryParameters = z.infer<typeof RetryParametersSchema>;

/** Keys that exist in queue.yaml only (queue.xml's XSD has neither). */
const YAML_ONLY_KEYS: readonly string[] = ['resume_paused_queues', 'application'];

/** The known keys of each kind of mapping, by the path's key names (`queue[3].acl[0]` → `queue.acl`). */
const KNOWN_KEYS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(QueueFileSchema.shape),
  queue: Object.keys(QueueEntrySchema.shape),
  'queue.retry_parameters': Object.keys(RetryParametersSchema.shape),
  'queue.acl': Object.keys(AclEntrySchema.shape),
};

const PLACE: Readonly<Record<string, string>> = {
  '': 'at the top level',
  queue: 'in a queue entry',
  'queue.retry_parameters': 'in retry_parameters',
  'queue.acl': 'in an acl entry',
};

function mappingKind(path: Path): string {
  return path.filter((segment) => typeof segment === 'string').join('.');
}

/** The keys a mapping at `path` may hold in `format`, spelled as in YAML. */
export function knownKeysAt(path: Path, format: ConfigFormat): readonly string[] {
  const keys = KNOWN_KEYS[mappingKind(path)] ?? [];
  return format === 'xml' ? keys.filter((key) => !YAML_ONLY_KEYS.includes(key)) : keys;
}

/** The message for an unknown key `key` (spelled as written) in the mapping at `mappingPath`. */
export function unknownKeyMessage(key: string, mappingPath: Path, format: ConfigFormat): string {
  const spell = (k: string) => spellKey(format, k);
  const kind = mappingKind(mappingPath);
  const what = format === 'xml' ? `element <${key}>` : `key ${key}`;
  const where = PLACE[kind] ?? `in ${formatPath(mappingPath)}`;
  // `: value` with nothing before the colon: there is no name to repeat or to suggest from.
  if (key === '') return `a key with no name ${where}: nothing stands before its colon`;
  if (kind === '' && (KNOWN_KEYS['queue'] ?? []).includes(yamlKey(key))) {
    return `unknown ${what} ${where}: ${key} is a queue directive, so it belongs inside an entry of ${spell('queue')}`;
  }
  const suggestion = closestKey(key, knownKeysAt(mappingPath, format).map(spell));
  return `unknown ${what} ${where}${suggestion === null ? '' : `; did you mean ${suggestion}?`}`;
}

/** A short description of a raw value, for "found …" in messages. */
export function describeValue(value: unknown, format: ConfigFormat): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return `text \`${value.length > 40 ? `${value.slice(0, 37)}...` : value}\``;
  if (Array.isArray(value)) return 'a list';
  return format === 'xml' ? 'child elements' : 'a mapping';
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a single value',
  object: 'a mapping',
  array: 'a list',
};

function wrongTypeMessage(path: Path, expected: string, actual: unknown, format: ConfigFormat): string {
  const found = describeValue(actual, format);
  if (path.length === 0) return `the file must be a mapping of top-level keys such as ${spellKey(format, 'queue')}, found ${found}`;
  const last = path[path.length - 1];
  if (typeof last === 'number' && expected === 'object') {
    const example = spellKey(format, knownKeysAt(path, format)[0] ?? 'name');
    return `${formatPath(path)} must be a mapping of directives such as ${example}, found ${found}`;
  }
  const label = typeof last === 'string' ? spellKey(format, last) : formatPath(path);
  let message = `${label} must be ${EXPECTED[expected] ?? expected}, found ${found}`;
  if (format === 'yaml' && expected === 'string' && Array.isArray(actual)) {
    message += ' (YAML reads [...] as a list: quote the value if the brackets are meant literally)';
  }
  if (format === 'yaml' && label === 'queue' && expected === 'array') {
    message += ' (each queue is a list item: `- name: ...`)';
  }
  return message;
}

export type ShapeResult = GenericShapeResult<RawQueueFile>;

export function checkShape(data: unknown, issues: IssueCollector, format: ConfigFormat): ShapeResult {
  return checkShapeAgainst(QueueFileSchema, data, [], {
    unknownKey: (key, path) => issues.report('unknown-key', [...path, key], unknownKeyMessage(key, path, format), 'key'),
    wrongType: (path, expected, actual) => issues.report('wrong-type', path, wrongTypeMessage(path, expected, actual, format)),
  }, 'config');
}
