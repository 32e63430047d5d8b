/**
 * Scenario problems as data, in the same shape as queue-file issues (`ConfigIssue`: file, line,
 * column, key path, stable code), so one formatter prints both. A scenario's issues mix two code
 * tables: the YAML and shape codes of src/config (`yaml-syntax`, `duplicate-key`, `unknown-key`,
 * `wrong-type`, and every queue rule for an inline `queue:` or a `queue_yaml` file), and the
 * scenario codes below. docs/simulate.md lists these; a test keeps the two in step.
 */
import { ISSUE_CODES, sortIssues, type IssueCode } from '../config/issues.js';
import { formatPath, type Path } from '../config/paths.js';
import type { PositionIndex, SourcePosition } from '../config/positions.js';
import type { ConfigIssue, IssueSeverity } from '../config/types.js';

export const SCENARIO_ISSUE_CODES = {
  'scenario-unreadable': { severity: 'error', meaning: 'The scenario file could not be read: missing, a directory, no permission, or not UTF-8.' },
  'queue-file-not-scenario': { severity: 'error', meaning: '`pushq simulate` was given a queue file (a queue.yaml: only `queue` and `total_storage_limit`; or a queue.xml), not a scenario: it adds no tasks. Add a `workload` (or run its queues with `pushq serve --config FILE`).' },
  'queue-source-conflict': { severity: 'error', meaning: '`queue_yaml` and an inline `queue` are both given; use one.' },
  'queue-yaml-unreadable': { severity: 'error', meaning: 'The file named by `queue_yaml` could not be read (its path is relative to the scenario file).' },
  'queue-yaml-invalid': { severity: 'error', meaning: 'The file named by `queue_yaml` has errors; each is also listed at its own file:line:column.' },
  'storage-limit-without-inline-queue': { severity: 'error', meaning: '`total_storage_limit` at the top of a scenario goes with an inline `queue:` list only.' },
  'required-key-missing': { severity: 'error', meaning: 'A key that must be given is missing (a workload `count`, a latency distribution parameter, ...).' },
  'dev-server-invalid': { severity: 'error', meaning: '`dev_server` is neither `true` nor `false`.' },
  'seed-invalid': { severity: 'error', meaning: '`seed` is not a whole number from 0 to 4294967295.' },
  'duration-invalid': { severity: 'error', meaning: 'A duration is not `0` or a number with a unit ms, s, m, h or d (`300ms`, `1.5s`, `5m`), or is out of range.' },
  'workload-rate-invalid': { severity: 'error', meaning: 'A workload `rate` is not `N[.N]/s|m|h|d` above zero.' },
  'count-invalid': { severity: 'error', meaning: 'A workload `count` is not a whole number from 0 to 10,000,000.' },
  'workload-queue-unknown': { severity: 'error', meaning: 'A workload names a queue the queue configuration does not define.' },
  'workload-queue-pull': { severity: 'error', meaning: 'A workload names a pull queue; simulations add push tasks.' },
  'arrivals-invalid': { severity: 'error', meaning: '`arrivals` is neither `even` nor `poisson`.' },
  'arrivals-without-rate': { severity: 'error', meaning: '`arrivals` is given without `rate`: without a rate every task arrives at `at`.' },
  'task-invalid': { severity: 'error', meaning: 'The tasks a workload would add break a task rule (URL, method, payload size, name, retry options); the message is the engine\'s own.' },
  'retry-parameter-invalid': { severity: 'error', meaning: 'A per-task `retry_parameters` value is not a number of the right kind (`task_age_limit` as in queue.yaml, `30s`, `2d`).' },
  'name-prefix-duplicate': { severity: 'error', meaning: 'Two workloads of one queue would name two tasks alike: the same `name_prefix`, or one extending the other by digits (`job-` with 12 tasks and `job-1`: both name `job-10`).' },
  'fraction-invalid': { severity: 'error', meaning: '`error_rate` or `timeout_rate` is not a number from 0 to 1.' },
  'status-invalid': { severity: 'error', meaning: 'An error status is not a whole number from 100 to 599 outside 200–299 (a 2xx answer is a success).' },
  'latency-invalid': { severity: 'error', meaning: 'A latency is not a duration or a `{ distribution: ... }` mapping with the parameters of that distribution.' },
  'outage-invalid': { severity: 'error', meaning: 'An outage ends before it starts.' },
  'route-invalid': { severity: 'error', meaning: 'A worker route has neither `prefix` nor `target`, or a prefix not starting with `/`.' },
  'target-name-invalid': { severity: 'error', meaning: 'A `targets` key or a `target` value is not `service` or `version.service` (lower-case letters, digits, hyphens).' },
  'scaling-invalid': { severity: 'error', meaning: '`scaling` is not `automatic`, `basic` or `manual`.' },
} as const satisfies Record<string, { severity: IssueSeverity; meaning: string }>;

export type ScenarioIssueCode = keyof typeof SCENARIO_ISSUE_CODES;

/** The codes a scenario's issues can carry: its own and the queue-file codes. */
export type AnyIssueCode = ScenarioIssueCode | IssueCode;

function severityOf(code: AnyIssueCode): IssueSeverity {
  return Object.hasOwn(SCENARIO_ISSUE_CODES, code)
    ? SCENARIO_ISSUE_CODES[code as ScenarioIssueCode].severity
    : ISSUE_CODES[code as IssueCode].severity;
}

/** Collects the issues of one scenario file, placing each through the file's position index. */
export class ScenarioIssues {
  readonly #issues: ConfigIssue[] = [];

  constructor(
    readonly file: string,
    readonly positions: PositionIndex,
  ) {}

  report(code: AnyIssueCode, path: Path, message: string, at: 'key' | 'value' = 'value'): void {
    this.reportAt(code, path, this.positions.locate(path, at), message);
  }

  reportAt(code: AnyIssueCode, path: Path, position: SourcePosition, message: string): void {
    this.#issues.push({
      severity: severityOf(code),
      file: this.file,
      line: position.line,
      column: position.column,
      path: formatPath(path),
      code,
      message,
    });
  }

  /** Issues found by another collector (the queue-config checker), kept as they are. */
  adopt(issues: readonly ConfigIssue[]): void {
    this.#issues.push(...issues);
  }

  get hasErrors(): boolean {
    return this.#issues.some((issue) => issue.severity === 'error');
  }

  /** Every issue: this file's in line order, then other files' (a queue_yaml) in theirs. */
  list(): ConfigIssue[] {
    const own = sortIssues(this.#issues.filter((i) => i.file === this.file));
    const others = this.#issues.filter((i) => i.file !== this.file);
    const files = [...new Set(others.map((i) => i.file))];
    return [...own, ...files.flatMap((f) => sortIssues(others.filter((i) => i.file === f)))];
  }
}
