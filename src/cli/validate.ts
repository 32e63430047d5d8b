/**
 * `pushq validate [--json] FILE...`: checks queue files and reports every problem.
 * Human output: one `file:line:column severity message (code)` line per issue, then a verdict
 * line per file. `--json`: one JSON object per file, one per line (JSON Lines), in the shape of
 * {@link toJsonReport}.
 */
import { formatIssue, sortIssues } from '../config/issues.js';
import { loadQueueConfigFile } from '../config/load.js';
import type { ConfigIssue, ConfigResult } from '../config/types.js';
import { defineCommand, parseOrExit } from './args.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from './io.js';
import { counted } from './counted.js';

export const VALIDATE = defineCommand({
  name: 'validate',
  operands: { usage: 'FILE...', noun: 'file', min: 1, max: Number.MAX_SAFE_INTEGER },
  about: `Checks queue.yaml, queue.yml and queue.xml files against App Engine's rules and
reports every problem: one line per issue (file:line:column severity message (code)),
then "FILE: valid (N queues)" or "FILE: invalid (N errors)". N queues counts the
implicit default queue. --json adds each issue's key path.`,
  flags: {
    json: { type: 'boolean', help: 'print one JSON object per file, one object per line (JSON Lines)' },
  },
  footer: `exit status: 0 every file is valid (warnings allowed), 1 some file is invalid,
2 usage error (no file, unknown option).`,
});

export async function validateCommand(args: string[], io: CliIo): Promise<number> {
  const parsed = parseOrExit(VALIDATE, args, io);
  if (typeof parsed === 'number') return parsed;
  const json = parsed.flags.json;
  const files = parsed.operands;

  let allValid = true;
  for (const file of files) {
    const result = await loadQueueConfigFile(file);
    allValid &&= result.valid;
    io.stdout(json ? `${JSON.stringify(toJsonReport(result))}\n` : humanReport(result));
  }
  return allValid ? EXIT_OK : EXIT_FAILURE;
}

function humanReport(result: ConfigResult): string {
  const lines = sortIssues([...result.errors, ...result.warnings]).map(formatIssue);
  lines.push(
    result.config !== null
      ? `${result.file}: valid (${counted(result.config.queues.length, 'queue')})`
      : `${result.file}: invalid (${counted(result.errors.length, 'error')})`,
  );
  return `${lines.join('\n')}\n`;
}

/** The `--json` object for one file. Field order is part of the format; `rate_exact` is left out. */
export function toJsonReport(result: ConfigResult) {
  const issue = (i: ConfigIssue) => ({ line: i.line, column: i.column, path: i.path, code: i.code, message: i.message });
  return {
    file: result.file,
    valid: result.valid,
    errors: result.errors.map(issue),
    warnings: result.warnings.map(issue),
    config:
      result.config === null
        ? null
        : {
            total_storage_limit_bytes: result.config.total_storage_limit_bytes,
            ...(result.config.resume_paused_queues === false ? { resume_paused_queues: false } : {}),
            queues: result.config.queues.map((q) => ({
              name: q.name,
              mode: q.mode,
              state: q.state,
              rate_per_second: q.rate_per_second,
              bucket_size: q.bucket_size,
              max_concurrent_requests: q.max_concurrent_requests,
              target: q.target,
              retry_parameters: {
                task_retry_limit: q.retry_parameters.task_retry_limit,
                task_age_limit_seconds: q.retry_parameters.task_age_limit_seconds,
                min_backoff_seconds: q.retry_parameters.min_backoff_seconds,
                max_backoff_seconds: q.retry_parameters.max_backoff_seconds,
                max_doublings: q.retry_parameters.max_doublings,
              },
            })),
          },
  };
}
