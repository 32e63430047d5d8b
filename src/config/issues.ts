/**
 * Configuration problems as data: every issue has a stable kebab-case code, a severity, a file
 * position and a key path. The table below is the single list of codes; docs/config.md documents
 * each one, and a test keeps the two in step.
 */
import { QUEUE_LIMITS, type ConfigIssue, type ConfigResult, type IssueSeverity } from './types.js';
import { formatPath, type Path } from './paths.js';
import type { PositionIndex, SourcePosition } from './positions.js';

export const ISSUE_CODES = {
  'file-unreadable': { severity: 'error', meaning: 'The file could not be read: missing, a directory, no permission, or not UTF-8.' },
  'yaml-syntax': { severity: 'error', meaning: 'The file is not valid YAML.' },
  'yaml-alias': { severity: 'error', meaning: 'An alias (`*name`) names no anchor set before it, is inside the value it repeats, or aliases repeat more than 10,000 values in all.' },
  'yaml-warning': { severity: 'warning', meaning: 'The YAML parser noticed something it ignored, such as an unknown tag.' },
  'xml-syntax': { severity: 'error', meaning: 'The file is not well-formed XML.' },
  'xml-root-element': { severity: 'error', meaning: 'The XML root element is not `<queue-entries>`.' },
  'duplicate-key': { severity: 'error', meaning: 'The same key (or XML element) appears twice in one mapping.' },
  'unknown-key': { severity: 'error', meaning: 'A key App Engine does not know; the message suggests the closest known one.' },
  'wrong-type': { severity: 'error', meaning: 'A list, mapping or single value where another kind is expected.' },
  'application-ignored': { severity: 'warning', meaning: 'The legacy top-level `application:` key; it is ignored.' },
  'total-storage-limit-invalid': { severity: 'error', meaning: '`total_storage_limit` is not a number with an optional B, K, M, G or T suffix.' },
  'resume-paused-queues-invalid': { severity: 'error', meaning: '`resume_paused_queues` is not `true` or `false`.' },
  'too-many-queues': { severity: 'error', meaning: 'More than 100 queues besides `default`.' },
  'name-missing': { severity: 'error', meaning: 'A queue entry without a `name`.' },
  'name-invalid': { severity: 'error', meaning: 'A queue name outside `[A-Za-z0-9-]{1,100}`.' },
  'name-duplicate': { severity: 'error', meaning: 'Two queue entries with the same name; reported at the second.' },
  'mode-invalid': { severity: 'error', meaning: '`mode` is neither `push` nor `pull`.' },
  'rate-missing': { severity: 'error', meaning: 'A push queue without `rate`.' },
  'rate-invalid': { severity: 'error', meaning: '`rate` is not `0` or `N[.N]/s|m|h|d`.' },
  'rate-max': { severity: 'error', meaning: `\`rate\` is above ${QUEUE_LIMITS.rate_per_second_max} tasks per second.` },
  'bucket-size-invalid': { severity: 'error', meaning: '`bucket_size` is not a whole number ≥ 0.' },
  'bucket-size-max': { severity: 'error', meaning: `\`bucket_size\` is above ${QUEUE_LIMITS.bucket_size_max}.` },
  'max-concurrent-requests-invalid': { severity: 'error', meaning: '`max_concurrent_requests` is not a whole number.' },
  'max-concurrent-requests-clamped': { severity: 'warning', meaning: `\`max_concurrent_requests\` is below 1 or above ${QUEUE_LIMITS.max_concurrent_requests_max}; App Engine uses 1 or ${QUEUE_LIMITS.max_concurrent_requests_max} (gcloud clamps it).` },
  'target-invalid': { severity: 'error', meaning: '`target` is not `service` or `version.service` (lower-case letters, digits, hyphens).' },
  'task-retry-limit-invalid': { severity: 'error', meaning: '`task_retry_limit` is not a whole number ≥ 0.' },
  'task-age-limit-invalid': { severity: 'error', meaning: '`task_age_limit` is not `N[.N][smhd]`, or is not above zero once truncated to whole seconds.' },
  'min-backoff-seconds-invalid': { severity: 'error', meaning: '`min_backoff_seconds` is not a number ≥ 0.' },
  'max-backoff-seconds-invalid': { severity: 'error', meaning: '`max_backoff_seconds` is not a number ≥ 0.' },
  'min-backoff-above-max': { severity: 'error', meaning: '`min_backoff_seconds` is greater than `max_backoff_seconds`.' },
  'max-doublings-invalid': { severity: 'error', meaning: '`max_doublings` is not a whole number ≥ 0.' },
  'push-only-directive': { severity: 'error', meaning: 'A push-queue directive (`rate`, `bucket_size`, `max_concurrent_requests`, `target`, `task_age_limit`, backoffs, `max_doublings`) on a pull queue.' },
  'pull-only-directive': { severity: 'error', meaning: '`acl` on a push queue.' },
} as const satisfies Record<string, { severity: IssueSeverity; meaning: string }>;

export type IssueCode = keyof typeof ISSUE_CODES;

/** Collects the issues of one file, placing each one through the file's position index. */
export class IssueCollector {
  readonly #issues: ConfigIssue[] = [];

  constructor(
    readonly file: string,
    private readonly positions: PositionIndex,
  ) {}

  /** An issue about the value at `path` (or, with `at: 'key'`, about the key itself). */
  report(code: IssueCode, path: Path, message: string, at: 'key' | 'value' = 'value'): void {
    this.reportAt(code, path, this.positions.locate(path, at), message);
  }

  /** An issue at an explicit position (syntax errors come with their own). */
  reportAt(code: IssueCode, path: Path, position: SourcePosition, message: string): void {
    this.#issues.push({
      severity: ISSUE_CODES[code].severity,
      file: this.file,
      line: position.line,
      column: position.column,
      path: formatPath(path),
      code,
      message,
    });
  }

  get hasErrors(): boolean {
    return this.#issues.some((issue) => issue.severity === 'error');
  }

  /** Issues of one severity, in file order. */
  list(severity: IssueSeverity): ConfigIssue[] {
    return sortIssues(this.#issues.filter((issue) => issue.severity === severity));
  }
}

export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.column - b.column || a.code.localeCompare(b.code));
}

/** `queue.yaml:12:17 error bucket_size 1000 is above App Engine's maximum of 500 (bucket-size-max)` */
export function formatIssue(issue: ConfigIssue): string {
  return `${issue.file}:${issue.line}:${issue.column} ${issue.severity} ${issue.message} (${issue.code})`;
}

/** Thrown by {@link requireValidConfig}; carries every error of the file, not only the first. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const count = issues.length;
    super(`invalid queue configuration (${count} error${count === 1 ? '' : 's'}):\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** The config of a valid result; throws a {@link ConfigError} listing the errors otherwise. */
export function requireValidConfig(result: ConfigResult): NonNullable<ConfigResult['config']> {
  if (!result.valid || result.config === null) throw new ConfigError(result.errors);
  return result.config;
}
