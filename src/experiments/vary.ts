/**
 * `--vary QUEUE.KEY=LOW..HIGH[:STEP]`: one queue.yaml directive of one queue over a range, and
 * the configurations it makes.
 *
 * KEY is `rate`, `bucket_size`, `max_concurrent_requests`, or a retry parameter
 * (`task_retry_limit`, `task_age_limit`, `min_backoff_seconds`, `max_backoff_seconds`,
 * `max_doublings`, also written `retry_parameters.NAME`). Values are written as in queue.yaml
 * (`20/s`, `600/m`, `1h`; a bare number is per second for a rate and seconds for a duration).
 * The settings are LOW, LOW + STEP, … up to HIGH, and HIGH itself when STEP does not land on it;
 * STEP defaults to 1 when LOW and HIGH are whole numbers, else a hundredth of the range.
 *
 * Each setting's configuration is made from the scenario's with immer's `produce` (cold state:
 * a few queues, changed once per setting; the untouched queues are shared, not copied), then
 * checked with every rule of queue.yaml (printed and parsed back: one definition of App Engine's
 * limits), so a range outside them is refused before anything runs.
 */
import { produce } from 'immer';
import { parseQueueConfig } from '../config/parse.js';
import { printQueueYaml } from '../config/print.js';
import { parseRate, type RateUnit, RATE_UNIT_SECONDS } from '../config/rate.js';
import { parseTaskAgeLimit } from '../config/durations.js';
import { canonicalJson } from '../core/canonical-json.js';
import type { QueueConfig, QueueFileConfig, RetryParameters } from '../core/queue-config.js';
import { parseDuration } from '../scenario/values.js';
import { ExperimentArgumentError, type ArgumentDetail } from './errors.js';

type RetryKey = 'task_retry_limit' | 'task_age_limit' | 'min_backoff_seconds' | 'max_backoff_seconds' | 'max_doublings';
export type VaryKey = 'rate' | 'bucket_size' | 'max_concurrent_requests' | RetryKey;

/** The directives `--vary` takes, and how their values are written. */
const KEYS: Readonly<Record<VaryKey, { kind: 'rate' | 'whole' | 'seconds' | 'duration'; /** Sits under retry_parameters in queue.yaml. */ retry: boolean }>> = {
  rate: { kind: 'rate', retry: false },
  bucket_size: { kind: 'whole', retry: false },
  max_concurrent_requests: { kind: 'whole', retry: false },
  task_retry_limit: { kind: 'whole', retry: true },
  task_age_limit: { kind: 'duration', retry: true },
  min_backoff_seconds: { kind: 'seconds', retry: true },
  max_backoff_seconds: { kind: 'seconds', retry: true },
  max_doublings: { kind: 'whole', retry: true },
};
export const VARY_KEYS = Object.keys(KEYS) as VaryKey[];

/** Settings of one range at most (a bisection reads a few of them; a grid is capped separately). */
const SETTINGS_MAX = 1_000_000;

export interface VaryRange {
  /** As written after `--vary`. */
  text: string;
  queue: string;
  key: VaryKey;
  /** `QUEUE.KEY` as written: the name of the setting in reports. */
  name: string;
  /** How many settings: LOW, LOW + STEP, … ≤ HIGH, then HIGH if STEP did not land on it. */
  count: number;
  /** A setting in the key's unit (per second for a rate, seconds, a count). */
  value(index: number): number;
  /** The setting as queue.yaml text. */
  yaml(index: number): string;
}

const RANGE_PATTERN = /^([A-Za-z0-9-]+)\.((?:retry_parameters\.)?[a-z_]+)=([^.:]+(?:\.[^.:]+)?)\.\.([^:]+)(?::(.+))?$/;

/**
 * Parses `QUEUE.KEY=LOW..HIGH[:STEP]` against `config`; throws ExperimentArgumentError naming it
 * (option `vary`). `checkEnds`: whether both ends must pass App Engine's rules with the rest of
 * `config` as it is. A range varied with others is not: its settings go with theirs (a
 * min_backoff_seconds of 8 with a varied max_backoff_seconds of 10 to 20), and the caller checks
 * every combination instead (tune.ts).
 */
export function parseVary(text: string, config: QueueFileConfig, checkEnds = true): VaryRange {
  const refuse = (detail: ArgumentDetail | string) => new ExperimentArgumentError('vary', [text], detail);
  const m = RANGE_PATTERN.exec(text);
  if (m === null) throw refuse('expected QUEUE.KEY=LOW..HIGH[:STEP], e.g. emails.rate=5/s..50/s:1/s');
  const [, queue, keyText, lowText, highText, stepText] = m as unknown as [string, string, string, string, string, string | undefined];
  const key = keyText.replace(/^retry_parameters\./, '') as VaryKey;
  const q = config.queues.find((c) => c.name === queue);
  if (q === undefined) throw refuse(`no queue ${queue} in the configuration (queues: ${config.queues.map((c) => c.name).join(', ')})`);
  if (!Object.hasOwn(KEYS, key)) throw refuse([`${keyText} is not a directive `, { option: 'vary' }, ` takes (${VARY_KEYS.join(', ')})`]);
  if (key !== keyText && !KEYS[key].retry) throw refuse(`${keyText} is not a directive: ${key} is not under retry_parameters (write ${queue}.${key})`);
  if (q.mode === 'pull' && key !== 'task_retry_limit') throw refuse(`${keyText} is not a directive of ${queue}: it is a pull queue`);
  const kind = KEYS[key].kind;
  const unit = kind === 'rate' ? rateUnit(lowText, highText, stepText, refuse) : null;
  const low = number(lowText, kind, refuse);
  const high = number(highText, kind, refuse);
  if (!(high >= low)) throw refuse(`HIGH ${highText} is below LOW ${lowText}`);
  const decimals = Math.max(...[lowText, highText, stepText ?? ''].map(decimalsOf));
  const whole = Number.isInteger(low) && Number.isInteger(high);
  const step = stepText !== undefined ? number(stepText, kind, refuse) : whole ? 1 : (high - low) / 100;
  if (!(step > 0)) throw refuse(`STEP ${stepText ?? ''} must be above zero`);
  if (kind === 'whole' && !Number.isInteger(step)) throw refuse(`${key} takes whole numbers; STEP ${stepText} is not one`);
  const steps = Math.floor((high - low) / step + 1e-9) + 1;
  // HIGH is a setting even when STEP does not land on it (1..10:4 is 1, 5, 9, 10): the range the
  // user wrote is the range searched, so "no setting in range meets every goal" is true of HIGH too.
  const landsOnHigh = Math.abs(low + (steps - 1) * step - high) <= 1e-9 * Math.max(1, Math.abs(high));
  const count = landsOnHigh ? steps : steps + 1;
  if (count > SETTINGS_MAX) throw refuse(`${count.toLocaleString('en')} settings; at most ${SETTINGS_MAX.toLocaleString('en')}: give a larger STEP`);
  const scale = 10 ** Math.min(9, stepText === undefined && !whole ? 9 : decimals);
  // In the unit the range is written in (per minute for `600/m..1200/m`): exact decimals for queue.yaml.
  const written = (i: number): number => Math.round((i >= steps ? high : low + i * step) * scale) / scale;
  const range: VaryRange = {
    text,
    queue,
    key,
    name: `${queue}.${keyText}`,
    count,
    value: (i) => (unit === null ? written(i) : written(i) / RATE_UNIT_SECONDS[unit]),
    yaml: (i) => yamlOf(written(i), kind, unit),
  };
  // Both ends within App Engine's limits: so is every setting between (each limit is an interval).
  if (checkEnds) for (const i of new Set([0, count - 1])) {
    const problem = configProblem(variedConfig(config, [[range, i]]));
    if (problem !== null) throw refuse(`${range.name} ${range.yaml(i)}: ${problem}`);
  }
  return range;
}

/** `config` with each range at its setting (immer: the untouched queues are the same objects). */
export function variedConfig(config: QueueFileConfig, settings: readonly (readonly [VaryRange, number])[]): QueueFileConfig {
  return produce(config, (draft) => {
    for (const [range, index] of settings) {
      const q = draft.queues.find((c) => c.name === range.queue) as QueueConfig;
      applySetting(q, range.key, range.yaml(index), range.value(index));
    }
  });
}

function applySetting(q: QueueConfig, key: VaryKey, yaml: string, value: number): void {
  const retry: RetryParameters = q.retry_parameters;
  switch (key) {
    case 'rate': {
      const parsed = parseRate(yaml);
      if (!parsed.ok) throw new Error(`a varied rate did not parse: ${yaml}`);
      q.rate_exact = parsed.exact;
      q.rate_per_second = parsed.per_second;
      q.state = parsed.exact === null ? 'paused' : 'running';
      return;
    }
    case 'bucket_size': q.bucket_size = value; return;
    case 'max_concurrent_requests': q.max_concurrent_requests = value; return;
    case 'task_retry_limit': retry.task_retry_limit = value; return;
    case 'task_age_limit': {
      const parsed = parseTaskAgeLimit(yaml);
      if (!parsed.ok) throw new Error(`a varied task_age_limit did not parse: ${yaml}`);
      retry.task_age_limit_seconds = parsed.seconds;
      return;
    }
    case 'min_backoff_seconds': retry.min_backoff_seconds = value; return;
    case 'max_backoff_seconds': retry.max_backoff_seconds = value; return;
    case 'max_doublings': retry.max_doublings = value; return;
  }
}

/**
 * The first problem App Engine's rules find in `config` (printed as queue.yaml and parsed back:
 * errors, and warnings such as a clamped max_concurrent_requests), or null. The parse must give
 * back the configuration itself: otherwise the setting means something else than it says.
 */
export function configProblem(config: QueueFileConfig): string | null {
  const parsed = parseQueueConfig(printQueueYaml(config), { file: 'queue.yaml' });
  const issue = parsed.errors[0] ?? parsed.warnings[0];
  // A message that points at another line (min above max names max's line) points into the text
  // printed here, which no one sees: the setting is named by the caller instead.
  if (issue !== undefined) return `${issue.message.replace(/ \(line \d+\)/g, '')} (${issue.code})`;
  if (parsed.config === null || canonicalJson(parsed.config) !== canonicalJson(config)) return 'queue.yaml cannot express this setting exactly';
  return null;
}

function number(text: string, kind: 'rate' | 'whole' | 'seconds' | 'duration', refuse: (detail: string) => ExperimentArgumentError): number {
  if (kind === 'rate') {
    const perUnit = text.includes('/') ? text.slice(0, text.indexOf('/')) : text;
    if (!/^\d+(?:\.\d+)?$/.test(perUnit) || (text.includes('/') && !parseRate(text).ok)) {
      throw refuse(`${text} is not a rate (a number per second, or queue.yaml's N/s, N/m, N/h, N/d)`);
    }
    return Number(perUnit);
  }
  if (kind === 'duration' && !/^\d+(?:\.\d+)?$/.test(text)) {
    const parsed = parseDuration(text);
    if (!parsed.ok) throw refuse(`${text} is not a duration: ${parsed.reason}`);
    return parsed.value / 1e6;
  }
  if (!/^\d+(?:\.\d+)?$/.test(text)) throw refuse(`${text} is not a number 0 or more`);
  const n = Number(text);
  if (kind === 'whole' && !Number.isInteger(n)) throw refuse(`${text} is not a whole number`);
  return n;
}

/** The one unit of a rate range's values (`5/s..50/s`; bare numbers are per second). */
function rateUnit(low: string, high: string, step: string | undefined, refuse: (detail: string) => ExperimentArgumentError): RateUnit {
  const units = [low, high, ...(step === undefined ? [] : [step])].map((t) => (t.includes('/') ? t.slice(t.indexOf('/') + 1) : 's'));
  const first = units[0] as string;
  if (!Object.hasOwn(RATE_UNIT_SECONDS, first) || units.some((u) => u !== first)) {
    throw refuse('LOW, HIGH and STEP of a rate take one unit (/s, /m, /h or /d)');
  }
  return first as RateUnit;
}

/** A setting as queue.yaml writes it; a rate in the range's own unit. */
function yamlOf(value: number, kind: 'rate' | 'whole' | 'seconds' | 'duration', unit: RateUnit | null): string {
  const text = String(value);
  if (kind === 'rate') return value === 0 ? '0' : `${text}/${unit}`;
  if (kind === 'duration') return `${text}s`;
  return text;
}

function decimalsOf(text: string): number {
  const m = /\.(\d+)/.exec(text);
  return m === null ? 0 : (m[1] as string).length;
}
