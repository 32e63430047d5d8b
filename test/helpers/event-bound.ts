/**
 * How long a test waits for an event that will come (a dispatch, an answer, a line on stdout, a page
 * render, a queue taken over, a figure read back) before it gives up. The wait ends at the event, so
 * a passing test is no slower for a generous bound: it only says when to stop waiting and name what
 * was waited for. On an idle machine these events take milliseconds to a second or two; on CI's
 * loaded 2-core machine (two test files side by side, PostgreSQL, a browser, load 13-20) a process
 * gets a tenth of a core and bounds of 3-10 s ran out (see SERVE_START_BOUND_MS, serve-process.ts,
 * for the start of a process). Half the default test timeout (vitest.config.ts, 60 s), so a wait
 * that runs out says what it waited for before the test's own timeout would.
 *
 * Not for bounds that are what a test checks (an answer within a documented timeout) nor for
 * "nothing happens within X" checks: those keep their own figures.
 */
export const EVENT_BOUND_MS = 30_000;
