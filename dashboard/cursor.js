// @ts-check
/**
 * The page's cursor in time, one for everything on it: null shows now (a live service) or the
 * log's end (a recorded log); a number shows the state that many seconds after the log's first
 * event. The URL carries it (`?at=SECONDS`), so a view can be shared and reloaded; every panel
 * reads it through `atParam()` and hears changes through `onCursor`. A link may also give an
 * RFC 3339 instant (`?at=2026-12-05T12:00:10.5Z`): the server reads it, and the URL is rewritten
 * in seconds (askedAt, settleAsked).
 *
 * Also what the page knows of its source (live or recorded, the log's clock), and the times it
 * shows: seconds since the start for a virtual-clock log; clock times otherwise.
 */
import { stamp, when } from './dom.js';

export const source = {
  /** @type {'live' | 'recorded'} */
  mode: 'live',
  /** @type {'virtual' | 'wall'} */
  clock: 'wall',
  /** Seconds from the first event to the last (recorded) or now (live). */
  endSeconds: 0,
  /** Seconds per interval of the series (a step of the cursor). */
  stepSeconds: 1,
  /** The log's file name, or null. */
  log: /** @type {string | null} */ (null),
  /** False for a source that shows now only (timeline.json's `timeTravel`; every pushq source travels in time today). */
  timeTravel: true,
};

/**
 * The URL's `at` when it is not plain seconds: an RFC 3339 instant (as the API and the logs show
 * times), or a value to refuse. The page does not parse it: the server does (read-source.ts
 * parseAtText, the one parser of `at`), and the page takes the instant from its answer
 * (dashboard.js, settleAsked). Null once settled, or when the URL gave plain seconds or nothing.
 * @type {string | null}
 */
let asked = null;
/**
 * The URL's `at` as written when it is plain seconds: sent to the server as well when it lies past
 * the source's end (askedAt), so that the server's answer decides, as for any other `at`.
 * @type {string | null}
 */
let plain = null;
/** @type {number | null} */
let at = readUrl();
/** @type {((at: number | null) => void)[]} */
const listeners = [];

/** @returns {number | null} */
function readUrl() {
  const raw = urlAt();
  if (raw === null || raw.trim() === '') return null;
  // Plain decimal seconds are the cursor as it is (the server reads them so: read-source.ts,
  // secondsParam); anything else is asked of the server.
  // Rounded to the µs as every move of the cursor is (setCursor): a finer value would be sent back
  // as the server refuses it (String(0.0000001) is "1e-7").
  if (/^(\d+(\.\d*)?|\.\d+)$/.test(raw.trim())) {
    plain = raw;
    return Math.round(Number(raw) * 1e6) / 1e6;
  }
  asked = raw;
  return null;
}

/**
 * `at` as the URL writes it. A `+` is a plus here, not the space of a form's encoding: an instant
 * pasted with its zone (`?at=2026-12-05T13:00:10.5+01:00`) keeps it; the page writes `at` back in
 * seconds, and the server is sent the text encoded (`%2B`).
 * @returns {string | null}
 */
function urlAt() {
  for (const part of location.search.slice(1).split('&')) {
    const eq = part.indexOf('=');
    if (decoded(eq < 0 ? part : part.slice(0, eq)) === 'at') return eq < 0 ? '' : decoded(part.slice(eq + 1));
  }
  return null;
}

/** @param {string} text */
function decoded(text) {
  try {
    return decodeURIComponent(text);
  } catch (e) {
    return text; // a stray %: the text as written, which the server then refuses, naming it
  }
}

/**
 * The URL's `at` the server has to read (an instant, or a value it refuses), or null. Plain seconds
 * past the source's end (known once timeline.json is read) are the server's to read too: it refuses
 * them as it refuses an instant outside the span (or, live, takes them if now has reached them
 * meanwhile), rather than the page showing the end without a word.
 */
export function askedAt() {
  if (asked === null && plain !== null && at !== null && at > source.endSeconds) return plain;
  return asked;
}

/**
 * The instant the server read from the URL's `at` (seconds since the first event), or null when
 * it refused it: the cursor, and the URL rewritten in seconds (or without `at`).
 * @param {number | null} seconds
 */
export function settleAsked(seconds) {
  asked = null;
  plain = null;
  setCursor(seconds);
  writeUrl();
}

/** The cursor: seconds since the first event, or null for now / the end. */
export function cursor() {
  return at;
}

/** The `at` parameter of a read (null: none). */
export function atParam() {
  return at === null ? null : String(at);
}

/** @param {(at: number | null) => void} fn */
export function onCursor(fn) {
  listeners.push(fn);
}

/**
 * Moves the cursor (clamped to the log's span; rounded to the microsecond) and says so.
 * @param {number | null} seconds
 */
export function setCursor(seconds) {
  let next = seconds;
  if (next !== null && !source.timeTravel) return;
  if (next !== null) {
    next = Math.round(Math.min(Math.max(0, next), source.endSeconds) * 1e6) / 1e6;
    // A recorded log's end is what null shows: keep the URL short.
    if (source.mode === 'recorded' && next >= source.endSeconds) next = null;
  }
  if (next === at) return;
  at = next;
  writeUrl();
  for (const fn of listeners) fn(at);
}

function writeUrl() {
  const url = new URL(location.href);
  if (at === null) url.searchParams.delete('at');
  else url.searchParams.set('at', String(at));
  history.replaceState(null, '', url.pathname + url.search + url.hash);
}

/**
 * Writes the cursor into the URL (the current history entry). Back and Forward step through views
 * (view.js), not instants: a move of the cursor replaces the current entry's `?at=`, so the entry
 * Back returns to holds the instant of when it was left; the cursor stays where the user put it.
 */
export function keepCursorInUrl() {
  writeUrl();
}

/** Whether the page follows a live service's now (nothing to fetch but on a timer). */
export function following() {
  return source.mode === 'live' && at === null;
}

/** Seconds as text: 12.5 s, 2 min 05 s, 1 h 02 min. @param {number} v */
export function duration(v) {
  if (!isFinite(v)) return '–';
  const s = Math.round(v);
  if (Math.abs(v) < 60) return String(Math.round(v * 1000) / 1000) + ' s';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const two = (/** @type {number} */ n) => (n < 10 ? '0' : '') + n;
  return h > 0 ? h + ' h ' + two(m) + ' min' : m + ' min ' + two(r) + ' s';
}

/**
 * A time from the API (RFC 3339) as the page shows it: seconds since the start in a virtual-clock
 * log, else a clock time; relative to now only while following a live service.
 * @param {string | null | undefined} iso
 */
export function timeText(iso) {
  if (iso === null || iso === undefined) return '–';
  if (source.clock === 'virtual') {
    const ms = Date.parse(iso);
    return isNaN(ms) ? iso : duration(ms / 1000);
  }
  return following() ? when(iso) : stamp(iso);
}

/**
 * An instant as the page states it, never relative: seconds since the start in a virtual-clock
 * log, else a clock time (with the date when it is not today).
 * @param {string | null | undefined} iso
 */
export function instantText(iso) {
  if (iso === null || iso === undefined) return '–';
  if (source.clock === 'virtual') {
    const ms = Date.parse(iso);
    return isNaN(ms) ? iso : duration(ms / 1000);
  }
  return stamp(iso);
}
