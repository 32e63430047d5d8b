/**
 * `pushq replay LOG --at TIME` and the fold every replay output reads.
 *
 * TIME, in both clocks, is a number of seconds since the log's first event (`12.5`), or a duration
 * since it in the scenario files' form (`12.5s`, `500ms`, `1m`, `2h`: scenario/values.ts's
 * parseDuration, the one definition): the same instant the dashboard's `?at=12.5` shows. In a
 * wall-clock log it may also be an ISO 8601
 * instant with its zone (`2026-11-23T12:00:00Z`, `...+01:00`), taken as it is. The outputs say
 * which reading was used. The form is checked once the header says the clock (a usage error before
 * any event is read); the instant is known at the first event.
 */
import type { EngineEvent } from '../core/events.js';
import { US_PER_SECOND } from '../core/time.js';
import { DURATION_FORM_REASON, parseDuration } from '../scenario/values.js';
import type { LogHeader } from '../log/event-log.js';
import { scanEventLog, type Recovered } from '../log/log-reader.js';
import { EventFold } from '../projections/fold.js';
import { timeFormatter, type TimeFormat } from '../projections/queue-summary.js';
import type { Projection } from '../projections/projection.js';
import { isoInstantUs, looksLikeIsoInstant, outsideSpan, spanEndUs } from '../server/instant-span.js';
import { CliUsageError } from './args.js';
import { counted } from './counted.js';

type AtBasis = 'seconds_since_first_event' | 'absolute';

export interface ResolvedAt {
  /** µs in the log's clock. */
  us: number;
  basis: AtBasis;
  /** As given. */
  text: string;
}

const SECONDS = /^\d+(\.\d+)?$/;
const SINCE_FIRST_EVENT = "seconds since the log's first event (e.g. 12.5) or a duration since it (e.g. 500ms, 1m, 2h)";

/**
 * TIME as µs since the log's first event: bare seconds, or a duration as scenario files write it;
 * null when it is neither. A duration out of the scenario's range is a usage error saying why.
 */
function sinceFirstUs(text: string): number | null {
  if (SECONDS.test(text)) return Math.round(Number(text) * US_PER_SECOND);
  const duration = parseDuration(text);
  if (duration.ok) return duration.value;
  if (duration.reason !== DURATION_FORM_REASON) throw new CliUsageError(`--at ${text}: a duration since the log's first event, but ${duration.reason}`);
  return null;
}

/** Which reading TIME has in this clock; a usage error when it has none. */
function atBasis(text: string, clock: LogHeader['clock']): AtBasis {
  if (sinceFirstUs(text) !== null) return 'seconds_since_first_event';
  if (clock === 'virtual') throw new CliUsageError(`--at ${text}: expected ${SINCE_FIRST_EVENT}; this log has a virtual clock, which counts seconds since the start of the run`);
  if (isoInstantUs(text) !== null) return 'absolute';
  if (looksLikeIsoInstant(text)) throw new CliUsageError(`--at ${text}: not an instant: a date, hour, minute, second or zone out of its range (e.g. a day its month does not have)`);
  throw new CliUsageError(`--at ${text}: expected ${SINCE_FIRST_EVENT} or an ISO 8601 instant with its zone (e.g. 2026-11-23T12:00:00Z)`);
}

/** TIME as µs in the log's clock, given the first event's time. */
export function resolveAt(text: string, clock: LogHeader['clock'], firstUs: number): ResolvedAt {
  const basis = atBasis(text, clock);
  if (basis === 'seconds_since_first_event') return { us: firstUs + (sinceFirstUs(text) as number), basis, text };
  return { us: isoInstantUs(text) as number, basis, text };
}

/**
 * TIME must fall within the log's span, from its first event to its last: later (or earlier) there
 * is no state the log could show. A usage error (exit 2) naming TIME and the log's first and last
 * events' times, in the words the dashboard's `?at=` uses (server/instant-span.ts). `firstUs`,
 * `lastUs`: NaN for a log without events (then only 0 is within it). `nowUs`, for a store's log
 * (which a service may be writing still): the span runs to now instead, as the live dashboard's
 * does, so `pushq replay STORE --at S` (and `--ui --at S`, replay-ui.ts) answers every instant
 * that dashboard answers.
 */
export function checkAtInSpan(at: ResolvedAt, clock: LogHeader['clock'], firstUs: number, lastUs: number, nowUs?: number): void {
  const empty = Number.isNaN(firstUs);
  const first = empty ? 0 : firstUs;
  const outside = outsideSpan((at.us - first) / US_PER_SECOND, empty ? 0 : (spanEndUs(lastUs, nowUs) - first) / US_PER_SECOND);
  if (outside === null) return;
  const time = timeFormatter(clock);
  const events = empty ? 'it has no events' : `first event at ${time.text(firstUs)}, last at ${time.text(lastUs)}`;
  throw new CliUsageError(`--at ${at.text}: ${outside} (${events}${nowUs === undefined ? '' : `; now ${time.text(nowUs)}`})`);
}

/** How the text output names the reading. */
export function atBasisText(at: ResolvedAt): string {
  const since = SECONDS.test(at.text) ? 'seconds since the first event' : 'a duration since the first event';
  return `--at ${at.text} read as ${at.basis === 'absolute' ? 'an ISO 8601 instant' : since}`;
}

/**
 * What a text output adds to its first line when --at is given (the summary, a story, a list): the
 * instant and the reading, as the JSON's `at` and `at_basis` say; nothing without --at.
 */
export function atNote(at: ResolvedAt | null, time: TimeFormat): string {
  return at === null ? '' : ` (state at ${time.text(at.us)}: ${atBasisText(at)})`;
}

/** The JSON outputs' `at`, `at_basis` and `at_seconds` (null without --at); `firstUs` is the log's first event's time. */
export function atJson(at: ResolvedAt | null, time: TimeFormat, firstUs: number): { at: number | string | null; at_basis: AtBasis | null; at_seconds: number | null } {
  return at === null ? { at: null, at_basis: null, at_seconds: null } : { at: time.json(at.us), at_basis: at.basis, at_seconds: (at.us - (Number.isNaN(firstUs) ? 0 : firstUs)) / US_PER_SECOND };
}

export interface Replayed {
  fold: EventFold;
  header: LogHeader;
  recovered: Recovered;
  /** The first event's time (NaN for a log without events). */
  firstUs: number;
  /** --at, resolved; null without it. */
  at: ResolvedAt | null;
}

/**
 * Folds a log file through `projections` (complete batches only; a torn tail is dropped and
 * reported in `recovered`), up to --at when given (within the log's span, checkAtInSpan; to
 * `nowUs` when given). Throws
 * LogError, EventMisfitError, CliUsageError.
 */
export function replayFile(path: string, projections: readonly Projection[], options: { repair?: boolean; at?: string | undefined; nowUs?: number }): Replayed {
  const fold = new EventFold(projections);
  let header: LogHeader | undefined;
  let firstUs = NaN;
  let lastUs = NaN;
  let at: ResolvedAt | null = null;
  const onEvent = (e: EngineEvent): void => {
    lastUs = e.t;
    if (Number.isNaN(firstUs)) {
      firstUs = e.t;
      if (options.at !== undefined && header !== undefined) {
        at = resolveAt(options.at, header.clock, firstUs);
        fold.until = at.us;
      }
    }
    fold.apply(e);
  };
  const scan = scanEventLog(path, options.repair === true ? { repair: true } : {}, {
    onHeader: (h) => {
      header = h;
      if (options.at !== undefined) atBasis(options.at, h.clock);
    },
    onEvent,
  });
  if (options.at !== undefined && at === null) at = resolveAt(options.at, scan.header.clock, 0); // a log without events
  if (at !== null) checkAtInSpan(at, scan.header.clock, firstUs, lastUs, options.nowUs);
  return { fold, header: scan.header, recovered: scan.recovered, firstUs, at };
}

/** The torn-tail or repair warning, or null when nothing was dropped. */
export function droppedWarning(path: string, recovered: Recovered): string | null {
  if (recovered.droppedBytes === 0) return null;
  const where = recovered.repairedAt ? `repaired: cut at line ${recovered.repairedAt.line} (byte ${recovered.repairedAt.offset}: ${recovered.repairedAt.problem})` : 'torn tail (the run stopped mid-write)';
  return `pushq replay: warning: ${path}: ${where}: ${counted(recovered.droppedBytes, 'byte')} after the last complete batch ${recovered.droppedBytes === 1 ? 'was' : 'were'} dropped\n`;
}
