/**
 * Scenario text → a validated {@link Scenario}, or every problem found: the YAML reader and the
 * queue rules of src/config (with the same positions), then the scenario's shape, then its value
 * rules. Nothing is half-built: a scenario is returned only when there is no error.
 *
 * The only IO is reading the file named by `queue_yaml` (through `readQueueFile`, replaceable in
 * tests); its path is relative to `baseDir`, the scenario file's directory.
 */
import { dirname, isAbsolute, join } from 'node:path';
import { IssueCollector } from '../config/issues.js';
import { loadQueueConfigFile } from '../config/load.js';
import { normaliseQueueFile } from '../config/normalise.js';
import { detectFormat } from '../config/parse.js';
import { PositionIndex, START_OF_FILE } from '../config/positions.js';
import { checkShape as checkQueueShape } from '../config/schema.js';
import { plainMap } from '../config/source.js';
import { defaultQueueFileConfig } from '../config/defaults.js';
import type { ConfigResult, QueueFileConfig } from '../config/types.js';
import { readYaml } from '../config/yaml.js';
import type { WorkloadSpec } from '../simulate/simulation.js';
import { ScenarioIssues } from './issues.js';
import { checkShape, ScenarioSchema, type RawScenario } from './schema.js';
import type { QueueSource, ScenarioResult } from './types.js';
import { parseDuration, parseWhole } from './values.js';
import { checkWorkload, type NamedEntry } from './workload.js';
import { checkTargets, checkWorker } from './worker.js';

export const SEED_MAX = 4_294_967_295;

export interface ParseScenarioOptions {
  /** The name used in issues (usually the path the user gave). */
  file: string;
  /** The directory `queue_yaml` is relative to; default the directory of `file`. */
  baseDir?: string;
  /** Reads a queue file; default `loadQueueConfigFile`. */
  readQueueFile?: (path: string) => Promise<ConfigResult>;
  /**
   * A file with a queue file's keys only is an error (`queue-file-not-scenario`): it would run and
   * add no task. `pushq simulate` sets this; a queue-only scenario is otherwise valid.
   */
  refuseQueueFile?: boolean;
}

export async function parseScenario(text: string, opts: ParseScenarioOptions): Promise<ScenarioResult> {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const positions = new PositionIndex();
  const issues = new ScenarioIssues(opts.file, positions);
  const configIssues = new IssueCollector(opts.file, positions);
  // A queue.xml is refused as a queue.yaml is: the same issue, not the YAML reader's `wrong-type`.
  if (opts.refuseQueueFile === true && detectFormat(opts.file, source) === 'xml' && /<queue-entries[\s>/]/.test(source)) {
    issues.reportAt('queue-file-not-scenario', [], START_OF_FILE, queueFileMessage(opts.file, 'queue.xml'));
    return { scenario: null, issues: issues.list() };
  }
  const data = readYaml(source, positions, configIssues);
  const adoptConfigIssues = () => issues.adopt([...configIssues.list('error'), ...configIssues.list('warning')]);
  if (data === undefined) {
    adoptConfigIssues();
    return { scenario: null, issues: issues.list() };
  }
  const { raw, isRemoved } = checkShape(ScenarioSchema, data, [], issues);
  // A queue.yaml is a valid scenario that adds no task; given where a scenario is meant, say so.
  if (opts.refuseQueueFile === true && isQueueFileShape(data)) {
    issues.report('queue-file-not-scenario', [], queueFileMessage(opts.file, 'queue.yaml'), 'key');
  }

  const queues = await checkQueues(raw, { ...opts, baseDir: opts.baseDir ?? dirname(opts.file) }, issues, configIssues, positions);
  adoptConfigIssues();

  const seed = raw.seed == null ? null : valueOr(issues, 'seed', 'seed-invalid', parseWhole(raw.seed, 0, SEED_MAX), raw.seed);
  const untilUs = raw.until == null ? null : valueOr(issues, 'until', 'duration-invalid', parseDuration(raw.until), raw.until);
  const devServer = raw.dev_server == null ? false : raw.dev_server === 'true' ? true : raw.dev_server === 'false' ? false : null;
  if (devServer === null) issues.report('dev-server-invalid', ['dev_server'], `dev_server \`${raw.dev_server}\` is not valid: it is true (dev_appserver's dispatch rules, docs/simulate.md) or false`);

  const workload: WorkloadSpec[] = [];
  const ctx = { issues, config: queues.config, named: new Map<string, NamedEntry[]>() };
  (raw.workload ?? []).forEach((entry, index) => {
    if (isRemoved(['workload', index])) return;
    const spec = checkWorkload(entry, index, ctx);
    if (spec !== null) workload.push(spec);
  });
  const worker = checkWorker(raw.worker, issues);
  const targets = checkTargets(raw.targets, issues);

  const list = issues.list();
  if (issues.hasErrors || queues.config === null) return { scenario: null, issues: list };
  return {
    scenario: {
      file: opts.file,
      seed: seed ?? null,
      queueSource: queues.source,
      config: queues.config,
      untilUs: untilUs ?? null,
      devServer: devServer === true,
      workload,
      worker,
      targets,
    },
    issues: list,
  };
}

function valueOr<T>(issues: ScenarioIssues, key: string, code: 'seed-invalid' | 'duration-invalid', parsed: { ok: true; value: T } | { ok: false; reason: string }, text: string): T | undefined {
  if (parsed.ok) return parsed.value;
  issues.report(code, [key], `${key} \`${text}\` is not valid: ${parsed.reason}`);
  return undefined;
}

/** A mapping with a queue.yaml's keys only (a `queue` list, perhaps a storage limit). */
function queueFileMessage(file: string, kind: 'queue.yaml' | 'queue.xml'): string {
  return `${file} is a queue file (${kind}), not a scenario: a scenario adds tasks with workload: (docs/simulate.md); to run these queues as a service: pushq serve --config ${file}`;
}

function isQueueFileShape(data: unknown): boolean {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return false;
  const keys = Object.keys(data);
  return keys.includes('queue') && keys.every((k) => k === 'queue' || k === 'total_storage_limit');
}

/** The queue configuration: from `queue_yaml`, from the inline `queue:` list, or App Engine's default. */
async function checkQueues(
  raw: RawScenario,
  opts: ParseScenarioOptions & { baseDir: string },
  issues: ScenarioIssues,
  configIssues: IssueCollector,
  positions: PositionIndex,
): Promise<{ config: QueueFileConfig | null; source: QueueSource }> {
  const inline = raw.queue !== undefined;
  if (raw.queue_yaml != null && inline) {
    issues.report('queue-source-conflict', ['queue'], 'queue and queue_yaml are both given: keep the inline queue list or the file, not both', 'key');
    return { config: null, source: { kind: 'default' } };
  }
  if (raw.total_storage_limit != null && !inline) {
    issues.report('storage-limit-without-inline-queue', ['total_storage_limit'], 'total_storage_limit goes with an inline queue: list; with queue_yaml, put it in that file', 'key');
  }
  if (raw.queue_yaml != null) {
    const path = isAbsolute(raw.queue_yaml) ? raw.queue_yaml : join(opts.baseDir, raw.queue_yaml);
    const result = await (opts.readQueueFile ?? loadQueueConfigFile)(path);
    const unreadable = result.errors.find((e) => e.code === 'file-unreadable');
    if (unreadable !== undefined) {
      issues.report('queue-yaml-unreadable', ['queue_yaml'], unreadable.message);
      return { config: null, source: { kind: 'queue_yaml', path } };
    }
    issues.adopt([...result.errors, ...result.warnings]);
    if (!result.valid) {
      const n = result.errors.length;
      issues.report('queue-yaml-invalid', ['queue_yaml'], `${path} has ${n} error${n === 1 ? '' : 's'} (listed below)`);
    }
    return { config: result.config, source: { kind: 'queue_yaml', path } };
  }
  if (inline) {
    // The same rules as a queue.yaml file, on the scenario's own keys and positions.
    const file = plainMap();
    file['queue'] = raw.queue;
    if (raw.total_storage_limit != null) file['total_storage_limit'] = raw.total_storage_limit;
    const shape = checkQueueShape(file, configIssues, 'yaml');
    const config = normaliseQueueFile(shape.raw, { issues: configIssues, positions, format: 'yaml', isRemoved: shape.isRemoved });
    return { config: configIssues.hasErrors ? null : config, source: { kind: 'inline' } };
  }
  return { config: defaultQueueFileConfig(), source: { kind: 'default' } };
}
