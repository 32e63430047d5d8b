/**
 * The kit's numeric options, each with its range written once, checked before anything is drawn:
 * a bound out of range (`errorRateMax: 2` drew error rates above 1), or no queue to draw from
 * (fast-check's own error named neither the arbitrary nor the option), throws a RangeError that
 * names the arbitrary, the option and what it takes. An option means the same in every arbitrary
 * that takes it (scenarioArbitrary passes its own on), so it has one range.
 */
import { QUEUE_LIMITS } from '../../config/types.js';
import { DURATION_US_MAX } from '../../scenario/values.js';
import { US_PER_SECOND } from '../../core/time.js';

interface Range {
  whole: boolean;
  min: number;
  max: number;
}

/** Latest virtual time an arbitrary may draw (a start, a command): a year, as a scenario's durations. */
const SECONDS_MAX = DURATION_US_MAX / US_PER_SECOND;

const KIT_OPTION_RANGES: Readonly<Record<string, Range>> = {
  maxQueues: { whole: true, min: 0, max: QUEUE_LIMITS.queues_max_besides_default },
  maxTasks: { whole: true, min: 0, max: 1_000_000 },
  maxGroups: { whole: true, min: 1, max: 100 },
  startSecondsMax: { whole: false, min: 0, max: SECONDS_MAX },
  maxCommands: { whole: true, min: 0, max: 1_000 },
  atSecondsMax: { whole: false, min: 0, max: SECONDS_MAX },
  errorRateMax: { whole: false, min: 0, max: 1 },
  timeoutRateMax: { whole: false, min: 0, max: 1 },
};

/** Checks every numeric option of `options` the kit knows against its range; `arbitrary` names the caller. */
export function checkKitOptions(arbitrary: string, options: object): void {
  for (const [option, range] of Object.entries(KIT_OPTION_RANGES)) {
    const value: unknown = (options as Record<string, unknown>)[option];
    if (value === undefined) continue;
    const fits = typeof value === 'number' && (range.whole ? Number.isSafeInteger(value) : Number.isFinite(value)) && value >= range.min && value <= range.max;
    if (!fits) {
      const what = range.whole ? 'a whole number' : 'a number';
      throw new RangeError(`${arbitrary}: ${option} must be ${what} from ${range.min} to ${range.max}; got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
    }
  }
}

/** The queues an arbitrary draws from: at least one. */
export function requireQueues(arbitrary: string, queues: unknown): readonly string[] {
  if (Array.isArray(queues) && queues.length > 0) return queues as readonly string[];
  throw new RangeError(`${arbitrary}: queues must name at least one queue to draw from; got ${JSON.stringify(queues)}`);
}
