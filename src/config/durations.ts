/**
 * `task_age_limit`: a number and a unit s, m, h or d. The number may have a fraction and, as the
 * Java XSD allows, an exponent. App Engine converts it to whole seconds by truncation
 * (PY-QI `ParseTaskAgeLimit`: `int(float(n) * unit)`) and then requires the result to be above
 * zero. JavaScript doubles are Python floats, so the truncation matches to the second.
 */
import { RATE_UNIT_SECONDS, type RateUnit } from './rate.js';

const AGE_PATTERN = /^(-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)([smhd])$/;

export type AgeLimitParse = { ok: true; seconds: number } | { ok: false; reason: string };

const FORMAT_REASON = 'expected a number followed by s, m, h or d, such as `30s`, `2.5m` or `2d`';

/** The seconds `<number><unit>` names, exactly; null when the text is not of that form. */
function ageSeconds(text: string): number | null {
  const match = AGE_PATTERN.exec(text);
  if (match === null) return null;
  const [, number = '', unit = 's'] = match;
  return Number(number) * RATE_UNIT_SECONDS[unit as RateUnit];
}

export function parseTaskAgeLimit(text: string): AgeLimitParse {
  const exact = ageSeconds(text);
  if (exact === null) return { ok: false, reason: FORMAT_REASON };
  const seconds = Math.trunc(exact);
  if (!Number.isSafeInteger(seconds)) return { ok: false, reason: 'it is too large' };
  if (seconds <= 0) {
    return {
      ok: false,
      reason: exact > 0 ? 'it is less than one second, which App Engine truncates to 0; it must be greater than zero' : 'it must be greater than zero',
    };
  }
  return { ok: true, seconds };
}

/**
 * A task's own `task_age_limit`, in the same syntax, kept exact: the SDKs take a task's retry
 * options as a number of seconds and the Python SDK rounds it up (`math.ceil`, reference §3.2),
 * which the engine does (checkRetryOptions). So `2.5s` is 3 s for a task, 2 s for a queue.
 */
export function parseTaskAgeLimitExact(text: string): AgeLimitParse {
  const seconds = ageSeconds(text);
  if (seconds === null) return { ok: false, reason: FORMAT_REASON };
  if (!Number.isFinite(seconds) || seconds > Number.MAX_SAFE_INTEGER) return { ok: false, reason: 'it is too large' };
  if (!(seconds > 0)) return { ok: false, reason: 'it must be greater than zero' };
  return { ok: true, seconds };
}
