/**
 * The debugging UI end to end, in Debian's Chromium driven by playwright-core, over a log recorded
 * as a user records one (`pushq serve --data DIR` with a real worker): `pushq replay LOG --ui` as a
 * child process; the cursor moved with the slider, the step buttons, a drag on the timeline, a
 * marker and Play, and at each instant the queue table checked against `pushq replay LOG --at S
 * --json`; the counts of the queue table opening their lists (deleted, succeeded, pending then);
 * a task found by its payload; the gave-up list opening a story (what held each attempt, the
 * payload decoded); a log written by `pushq simulate --log` (virtual clock: instants in seconds
 * since the start, figures as `replay --at`, its gave-up list and a story); and `pushq serve`'s
 * charts advancing without a reload; a restart with new settings marked as a settings change, not
 * as a configuration applied. No console error on any
 * page. Screenshots are kept in test-artifacts/ (PUSHQ_UPDATE_SCREENSHOTS=1 also writes the ones
 * docs/dashboard.md shows, in docs/images/).
 *
 * Chromium is required, not optional: without it this file fails with the command that installs it.
 */
import { copyFile, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';
import { replayJson } from '../helpers/replay-json.js';
import { RECORDED_QUEUE_YAML, startReplayUi, task, type ReplayUiProcess } from '../helpers/replay-ui-process.js';
import { ROOT, api, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { dashboardFixture } from '../helpers/dashboard-fixture.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const POLL = { timeout: EVENT_BOUND_MS, interval: 100 };
/** What Chromium logs when a read is refused (a 400): the one console error expected, where a test asks for one. */
const REFUSED = 'console: Failed to load resource: the server responded with a status of 400 (Bad Request)';

// Chromium starts while the log is recorded and the live service (its own describe's) starts.
const fx = dashboardFixture('pushq-dashboard-replay-', { queueYaml: RECORDED_QUEUE_YAML, worker: (r) => (r.url.startsWith('/fail/') ? 500 : { status: 200, delayMs: 20 }), recordLog: true, serveStartMs: 60_000 });
let ui: ReplayUiProcess;
/** Console errors and page errors of every page opened here. */
const errors: string[] = [];
/**
 * Pages done with (done), on about:blank: the next open goes to its URL in one of them, as a user
 * pastes a link in a tab, rather than in a new page (a new page and its context cost ~1-2 s at load,
 * and this file opens about 20).
 */
const idle: Page[] = [];

async function open(url: string, width = 1280): Promise<Page> {
  let page = idle.pop();
  if (page === undefined) {
    page = await fx.browser.newPage({ viewport: { width, height: 1000 } });
    page.setDefaultTimeout(EVENT_BOUND_MS);
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
    page.on('dialog', (d) => void d.accept());
  } else await page.setViewportSize({ width, height: 1000 });
  await page.goto(url);
  await page.locator('#queues tbody tr').first().waitFor();
  return page;
}

/** Done with `page`: it leaves the dashboard (its scripts, timers and streams end with it) and waits for the next open. */
async function done(page: Page): Promise<void> {
  await page.goto('about:blank');
  idle.push(page);
}

async function screenshot(page: Page, name: string, docs?: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  await page.evaluate('window.scrollTo(0, 0)'); // the sticky header at the top of a full-page shot
  await page.screenshot({ path, fullPage: true });
  if (docs !== undefined && process.env['PUSHQ_UPDATE_SCREENSHOTS'] === '1') await copyFile(path, join(ROOT, 'docs', 'images', docs));
}

/** The log written by `pushq simulate --log` (virtual clock) and its replay UI, for its describe below. */
let simLog: string;
let simUi: ReplayUiProcess;

// The two replay UIs start side by side (each a process of its own).
beforeAll(async () => {
  [ui, simUi] = await Promise.all([startReplayUi(fx.log, ['--port', '0']), simulatedUi()]);
});

afterAll(async () => {
  for (const started of [ui, simUi]) started?.child.kill('SIGINT');
  if (ui) expect(await ui.exited).toBe(0);
  if (simUi) expect(await simUi.exited).toBe(0);
});

async function simulatedUi(): Promise<ReplayUiProcess> {
  simLog = join(fx.dir, 'flaky.jsonl');
  const r = await pushq(['simulate', join(ROOT, 'examples', 'retries', 'flaky-worker.yaml'), '--log', simLog]);
  expect(r.code, r.stderr).toBe(0);
  return startReplayUi(simLog, ['--port', '0']);
}

/** The queue table's count cells as `pushq replay --json` names the states. */
async function countsShown(page: Page, queue: string): Promise<Record<string, number>> {
  const cell = async (field: string) => Number(await page.locator(`#queues tr[data-queue="${queue}"] td[data-field="${field}"]`).textContent());
  return { pending: await cell('pending'), dispatching: await cell('dispatching'), backoff: await cell('backoff'), succeeded: await cell('succeeded'), failed: await cell('gaveUp'), deleted: await cell('deleted') };
}

/**
 * Waits for the page to show instant `at` (seconds), then checks it against `pushq replay --at`
 * (by default on the log recorded by pushq serve and its server).
 */
async function checkAgainstReplay(page: Page, at: string, on: { log: string; url: string; queues: string[] } = { log: fx.log, url: ui.url, queues: ['orders', 'mail'] }): Promise<void> {
  await expect.poll(() => page.locator('#queues').getAttribute('data-at'), POLL).toBe(at);
  expect(new URL(page.url()).searchParams.get('at')).toBe(at);
  const replayed = await replayJson([on.log, '--at', at]);
  for (const queue of on.queues) expect(await countsShown(page, queue), `${queue} at ${at}`).toEqual(replayed.queues[queue].tasks);
  // The read API behind the page gives replay's figures, all of them, for every queue.
  const figures = await api('GET', `${on.url}/pushq/dashboard.json?at=${at}`);
  expect(figures.json.summary).toEqual(replayed.queues);
}

describe('pushq replay LOG --ui (a log recorded by pushq serve, Chromium)', () => {
  it('prints its URL and serves the page read-only: no Cloud Tasks API, no command', async () => {
    expect(ui.stdout()).toMatch(new RegExp(`^pushq replay: dashboard http://127\\.0\\.0\\.1:\\d+/ · ${fx.log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\d+ events over [\\d.]+ s \\(wall clock\\)`));
    expect((await api('GET', `${ui.url}/v2/projects/p/locations/l/queues`)).status).toBe(404);
    expect((await api('POST', `${ui.url}/v2/projects/p/locations/l/queues/orders:pause`, {})).status).toBe(404);
    const page = await open(`${ui.url}/`);
    expect(await page.locator('#conn').textContent()).toBe('recorded');
    // Read-only: no command on the page.
    for (const name of ['Pause', 'Resume', 'Purge', 'Run', 'Delete']) expect(await page.getByRole('button', { name, exact: true, includeHidden: true }).count(), name).toBe(0);
    expect(await page.locator('#auto').isVisible()).toBe(false);
    await done(page);
    expect(errors).toEqual([]);
  });

  it('moves the cursor (slider, step, drag, a marker) and shows the figures of `pushq replay --at` at each instant', async () => {
    const page = await open(`${ui.url}/`);
    const timeline = (await api('GET', `${ui.url}/pushq/timeline.json`)).json;
    expect(timeline.mode).toBe('recorded');
    expect(timeline.markers.map((m: { kind: string }) => m.kind)).toEqual(['config', 'pause', 'resume', 'purge']);
    // The series run from the first event (seconds since it, as the cursor), to the end.
    const series = (await api('GET', `${ui.url}/pushq/series.json?queue=orders`)).json;
    for (const s of series.series) {
      expect(s.columns.t_seconds[0]).toBeLessThanOrEqual(series.resolutionSeconds + 1e-9);
      expect(s.columns.t_seconds.at(-1)).toBeGreaterThanOrEqual(timeline.endSeconds - 1e-6);
      expect(s.columns.t_seconds.at(-1)).toBeLessThanOrEqual(timeline.endSeconds + series.resolutionSeconds + 1e-6);
    }
    expect(series.series.map((s: { queue: string }) => s.queue)).toEqual(['*', 'orders']);
    expect(series.series[1].failures.http_5xx.reduce((a: number, b: number) => a + b, 0)).toBe(9);
    await page.locator('#timeline-marks .mark').first().waitFor({ state: 'attached' });
    expect(await page.locator('#timeline-marks .mark').evaluateAll((ms) => ms.map((m) => m.getAttribute('data-kind')))).toEqual(['config', 'pause', 'resume', 'purge']);

    // The slider, at several instants of the log.
    const slider = page.locator('#tl-slider');
    for (const fraction of [0.05, 0.3, 0.6, 0.95]) {
      const set = await slider.evaluate((el, f) => {
        const input = el as unknown as { value: string; max: string; dispatchEvent(e: Event): boolean };
        input.value = String(Number(input.max) * f);
        input.dispatchEvent(new Event('input', { bubbles: true }));
        return input.value;
      }, fraction);
      await checkAgainstReplay(page, String(Number(set)));
    }
    await screenshot(page, 'dashboard-replay.png', 'dashboard-replay.png');

    // One step back: one interval of the series earlier.
    const before = Number(new URL(page.url()).searchParams.get('at'));
    await page.locator('#tl-back').click();
    await expect.poll(() => Number(new URL(page.url()).searchParams.get('at')), POLL).toBeLessThan(before);
    await checkAgainstReplay(page, new URL(page.url()).searchParams.get('at') as string);

    // A drag on the timeline's chart.
    const over = page.locator('#timeline .u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.45, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => Number(new URL(page.url()).searchParams.get('at')), POLL).toBeGreaterThan(timeline.endSeconds * 0.3);
    await checkAgainstReplay(page, new URL(page.url()).searchParams.get('at') as string);

    // The purge's marker: the cursor goes to it, and the purged tasks are deleted there.
    const purge = timeline.markers.find((m: { kind: string }) => m.kind === 'purge');
    await page.locator('#timeline-marks .mark[data-kind="purge"]').click();
    await checkAgainstReplay(page, String(purge.atSeconds));
    expect((await countsShown(page, 'mail')).deleted).toBe(3);

    // The URL carries the instant: opened again, the page shows it.
    const shared = page.url();
    const again = await open(shared);
    await expect.poll(() => again.locator('#queues').getAttribute('data-at'), POLL).toBe(String(purge.atSeconds));
    await done(again);
    // `at` is plain seconds or an instant, as the server reads it: mid-span written with an exponent is neither; the page
    // says so, naming `at`, and shows the end.
    const logged = errors.length;
    const exponent = await open(`${ui.url}/?at=${(timeline.endSeconds / 2) * 10}e-1`);
    await expect.poll(() => exponent.locator('#queues').getAttribute('data-at'), POLL).toBe(String(timeline.endSeconds));
    expect(await exponent.locator('#at-error').textContent()).toMatch(/^The link's at="[\d.]+e-1" names no instant of this log \(at: "[\d.]+e-1" is neither a number of seconds/);
    await done(exponent);
    expect(errors.splice(logged)).toEqual([REFUSED]); // the refusal's answer, which Chromium logs
    await done(page);
    expect(errors).toEqual([]);
  });

  it('opens a link whose at is an ISO 8601 instant (as the API and the logs show times) at that instant, its URL then in seconds; a bad at is said, naming at', async () => {
    const timeline = (await api('GET', `${ui.url}/pushq/timeline.json`)).json;
    const atMs = Date.parse(timeline.first) + Math.round(timeline.endSeconds * 600); // 60% into the span
    const instant = new Date(atMs).toISOString();
    // The server reads the instant (its one parser); the page shows what it answers, in seconds.
    const seconds = (await api('GET', `${ui.url}/pushq/dashboard.json?at=${instant}`)).json.atSeconds as number;
    expect(seconds).toBeGreaterThan(0);
    const page = await open(`${ui.url}/?at=${instant}&queue=orders&state=all`);
    await checkAgainstReplay(page, String(seconds));
    expect(await page.locator('#conn').textContent()).toBe('recorded');
    expect(await page.locator('#at-error').isVisible()).toBe(false);
    // The rest of the view is kept beside it.
    expect(new URL(page.url()).searchParams.get('queue')).toBe('orders');
    expect(new URL(page.url()).searchParams.get('state')).toBe('all');
    // The same instant with an offset, pasted as is: its `+` is a plus, not a space.
    const offset = new Date(atMs + 3_600_000).toISOString().replace('Z', '+01:00');
    await page.goto(`${ui.url}/?at=${offset}`);
    await checkAgainstReplay(page, String(seconds));
    // A reload keeps it (the URL is in seconds now).
    await page.reload();
    await checkAgainstReplay(page, String(seconds));
    expect(await page.locator('#at-error').isVisible()).toBe(false);

    // Neither seconds nor an instant, an instant outside the log, a negative number of seconds or one past the end: said on the page,
    // naming `at` and what it takes, and the end shown, `at` left out of the URL (the rest kept).
    const refused: [string, RegExp][] = [
      ['yesterday', /at: "yesterday" is neither a number of seconds since the log's first event/],
      [new Date(Date.parse(timeline.first) - 86_400_000).toISOString(), /is outside this log's span, 0 to [\d.]+ seconds since its first event/],
      ['-5', /at: -5 is outside this log's span/],
      // Plain seconds past the end are refused as the server refuses them (not shown as the end, silently).
      [String(Math.ceil(timeline.endSeconds) + 100), /at: \d+ is outside this log's span, 0 to [\d.]+ seconds since its first event/],
      ['2026-02-30T12:00:00Z', /is not an instant: a date, hour, minute, second or zone out of its range/],
    ];
    const logged = errors.length;
    for (const [asked, why] of refused) {
      await page.goto(`${ui.url}/?at=${encodeURIComponent(asked)}&queue=mail`);
      await expect.poll(() => page.locator('#at-error').isVisible(), POLL).toBe(true);
      const said = (await page.locator('#at-error .text').textContent()) ?? '';
      expect(said, asked).toMatch(why);
      expect(said).toMatch(new RegExp(`^The link's at=${JSON.stringify(asked).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} names no instant of this log \\(`));
      expect(said).toMatch(/\)\. at takes seconds since the log's first event \(at=12\.5\) or an ISO 8601 instant with its zone \(at=2026-11-23T12:00:00Z\)\. Showing the log's end\.$/);
      await expect.poll(() => page.locator('#queues').getAttribute('data-at'), POLL).toBe(String(timeline.endSeconds));
      expect(new URL(page.url()).searchParams.has('at')).toBe(false);
      expect(new URL(page.url()).searchParams.get('queue')).toBe('mail');
    }
    expect(errors.splice(logged)).toEqual(refused.map(() => REFUSED)); // the refusals' answers, which Chromium logs

    // Seconds finer than the µs are the instant to the µs, as the cursor moves (not sent back as "1e-7", which the server refuses).
    await page.goto(`${ui.url}/?at=0.0000001&queue=mail`);
    await expect.poll(() => page.locator('#queues').getAttribute('data-at'), POLL).toBe('0');
    await expect.poll(() => page.locator('#tasks-queue').textContent(), POLL).toBe('mail');
    expect(new URL(page.url()).searchParams.get('at')).toBe('0');
    expect(await page.locator('.alert.shown').count()).toBe(0);
    await done(page);
    expect(errors).toEqual([]);
  });

  it('plays the log: the cursor advances by itself; paused, it stands, and the page shows `pushq replay --at` there', async () => {
    const page = await open(`${ui.url}/?at=0`);
    await checkAgainstReplay(page, '0');
    const at = () => Number(new URL(page.url()).searchParams.get('at'));
    await page.locator('#tl-play').click();
    expect(await page.locator('#tl-play').textContent()).toBe('⏸ Pause');
    await expect.poll(at, POLL).toBeGreaterThan(0);
    const first = at();
    await expect.poll(at, POLL).toBeGreaterThan(first); // more than one step, with no input
    await page.locator('#tl-play').click();
    expect(await page.locator('#tl-play').textContent()).toBe('▶ Play');
    const stopped = new URL(page.url()).searchParams.get('at') as string;
    await page.waitForTimeout(1200); // three ticks of play
    expect(new URL(page.url()).searchParams.get('at')).toBe(stopped);
    await checkAgainstReplay(page, stopped);
    await done(page);
    expect(errors).toEqual([]);
  });

  it('each count of the queue table opens the list of those tasks, in that state, at the cursor', async () => {
    const page = await open(`${ui.url}/`);
    const listed = () => page.locator('#tasks tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task')));
    const states = () => page.locator('#tasks tbody td[data-field="state"]').allTextContents();
    // The purged mail: deleted.
    expect(await page.locator('#queues tr[data-queue="mail"] td[data-field="deleted"]').textContent()).toBe('3');
    await page.locator('#queues tr[data-queue="mail"] td[data-field="deleted"] button').click();
    await expect.poll(listed, POLL).toEqual(['later-0', 'later-1', 'later-2']);
    expect(await page.locator('#task-state').inputValue()).toBe('deleted');
    expect(await states()).toEqual(['deleted', 'deleted', 'deleted']);
    // Orders that succeeded: as many rows as the count says.
    const succeeded = Number(await page.locator('#queues tr[data-queue="orders"] td[data-field="succeeded"]').textContent());
    expect(succeeded).toBe(12);
    await page.locator('#queues tr[data-queue="orders"] td[data-field="succeeded"] button').click();
    await expect.poll(() => listed().then((l) => l.length), POLL).toBe(succeeded);
    expect(await page.locator('#task-state').inputValue()).toBe('succeeded');
    expect(new Set(await states())).toEqual(new Set(['succeeded']));
    // At the purge's instant the later mail is still there: the pending count lists it.
    const purge = (await api('GET', `${ui.url}/pushq/timeline.json`)).json.markers.find((m: { kind: string }) => m.kind === 'purge');
    const before = Math.round((purge.atSeconds - 0.000001) * 1e6) / 1e6;
    const then = await open(`${ui.url}/?at=${before}`);
    await expect.poll(() => then.locator('#queues').getAttribute('data-at'), POLL).toBe(String(before));
    await then.locator('#queues tr[data-queue="mail"] td[data-field="pending"] button').click();
    await expect.poll(() => then.locator('#tasks tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task'))), POLL).toEqual(['later-0', 'later-1', 'later-2']);
    await done(then);
    await done(page);
    expect(errors).toEqual([]);
  });

  it('finds a task by a text of its payload, and shows the payload decoded', async () => {
    const page = await open(`${ui.url}/`);
    await page.locator('#task-state').selectOption('all');
    await page.locator('#task-search').fill('NEEDLE-7731');
    await expect.poll(() => page.locator('#tasks tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task'))), POLL).toEqual(['order-7']);
    expect(await page.locator('#tasks tr[data-task="order-7"]').getAttribute('class')).toContain('matched-payload');
    // A name prefix finds by name.
    await page.locator('#task-search').fill('doomed-');
    await expect.poll(() => page.locator('#tasks tbody tr').count(), POLL).toBe(3);
    await page.locator('#task-search').fill('needle-7731');
    await page.locator('#tasks tr[data-task="order-7"] td[data-field="name"]').click();
    await expect.poll(() => page.locator('#story-payload pre').textContent(), POLL).toBe(JSON.stringify({ order: 7, customer: 'bob', note: 'needle-7731 inside' }, null, 2));
    expect(await page.locator('#story-payload').getAttribute('data-kind')).toBe('json');
    expect(await page.locator('#story-request .line').textContent()).toBe('POST /orders/7');

    // Text with markup is text; binary is a hex dump.
    await page.locator('#task-search').fill('note-1');
    await page.locator('#tasks tr[data-task="note-1"] td[data-field="name"]').click();
    await expect.poll(() => page.locator('#story-payload pre').textContent(), POLL).toBe('Hello <b>friend</b> number 1');
    expect(await page.locator('#story-panel b:not(#story-head b)').count()).toBe(0);
    await page.locator('#task-search').fill('blob');
    await page.locator('#tasks tr[data-task="blob"] td[data-field="name"]').click();
    await expect.poll(() => page.locator('#story-payload pre').textContent(), POLL).toBe('00000000  00 01 02 ff fe 80 41 42                           |......AB|');
    expect(await page.locator('#story-payload').getAttribute('data-kind')).toBe('binary');
    await done(page);
    expect(errors).toEqual([]);
  });

  it('the gave-up count opens the list of tasks that gave up, and a row opens its story: what held each attempt, why it gave up', async () => {
    const page = await open(`${ui.url}/`);
    await page.locator('#queues tr[data-queue="orders"] td[data-field="gaveUp"] button').click();
    await expect.poll(() => page.locator('#tasks tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task'))), POLL).toEqual(['doomed-0', 'doomed-1', 'doomed-2']);
    expect(await page.locator('#task-state').inputValue()).toBe('failed');
    expect(await page.locator('#tasks tr[data-task="doomed-0"] td[data-field="state"]').textContent()).toBe('gave up');
    await page.locator('#tasks tr[data-task="doomed-0"] td[data-field="name"]').click();
    await expect.poll(() => page.locator('#story-end').textContent(), POLL).toMatch(/^gave up at \d\d:\d\d:\d\d\.\d{3}: task_retry_limit 2 exceeded \(3 attempts = 2 retries\) and task_age_limit unlimited$/);
    const column = (field: string) => page.locator(`#story-attempts tr.attempt td[data-field="${field}"]`).allTextContents();
    expect(await column('outcome')).toEqual(['500', '500', '500']);
    expect(await column('retryCount')).toEqual(['0', '1', '2']);
    // Each attempt's wait and what held it, as `pushq replay --task` tells them.
    const told = await replayJson([fx.log, '--task', 'doomed-0']);
    const waited = (a: { waited_seconds: number; held_by_seconds: Record<string, number> }) =>
      a.waited_seconds > 0 ? `${Math.round(a.waited_seconds * 1e6) / 1e6} s${Object.keys(a.held_by_seconds).length === 0 ? '' : ` (${Object.entries(a.held_by_seconds).map(([c, s]) => `${c} ${Math.round(s * 1e6) / 1e6} s`).join(', ')})`}` : '—';
    expect(await column('waited')).toEqual(told.attempts.map(waited));
    expect(await page.locator('#story-payload pre').textContent()).toContain('"customer": "carol"');
    await screenshot(page, 'dashboard-replay-story.png', 'dashboard-story.png');

    // The CLI lists the same tasks.
    const listed = await replayJson([fx.log, '--tasks', 'gave-up']);
    expect(listed.tasks.map((t: { task: string }) => t.task)).toEqual(['doomed-0', 'doomed-1', 'doomed-2']);
    expect(listed.tasks[0]).toMatchObject({ queue: 'orders', state: 'failed', attempts: 3, retries: 2, last_status: 500 });
    await done(page);
    expect(errors).toEqual([]);
  });

  it('from 900 px wide, nothing needs sideways scrolling', async () => {
    const page = await open(`${ui.url}/`, 900);
    await page.locator('#charts figure').first().waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(900);
    for (const id of ['timeline-panel', 'queues-panel', 'tasks-panel']) {
      const [scroll, client] = await page.locator(`#${id}`).evaluate((s) => [s.scrollWidth, s.clientWidth]);
      expect(scroll, id).toBeLessThanOrEqual(client as number);
    }
    await screenshot(page, 'dashboard-replay-900.png');
    await done(page);
    expect(errors).toEqual([]);
  });
});

describe('pushq replay LOG --ui over a log written by pushq simulate --log (virtual clock, Chromium)', () => {
  it('shows the simulated run in seconds since its start, the figures of `pushq replay --at` at each instant, and the tasks that gave up', async () => {
    expect(simUi.stdout()).toMatch(/flaky\.jsonl: \d+ events over [\d.]+ s \(virtual clock\)/);
    const page = await open(`${simUi.url}/`);
    expect(await page.locator('#conn').textContent()).toBe('recorded');
    const timeline = (await api('GET', `${simUi.url}/pushq/timeline.json`)).json;
    expect(timeline).toMatchObject({ mode: 'recorded', clock: 'virtual', first: 0 });
    const on = { log: simLog, url: simUi.url, queues: ['flaky'] };
    for (const seconds of [10, 30.5, 59.25]) {
      await page.goto(`${simUi.url}/?at=${seconds}`);
      await checkAgainstReplay(page, String(seconds), on);
      // A virtual clock's instants are seconds since the start, not clock times.
      expect(await page.locator('#tl-at').textContent()).toBe(`showing ${seconds} s after the first event`);
    }
    await page.goto(`${simUi.url}/`);
    await page.locator('#queues tr[data-queue="flaky"] td[data-field="gaveUp"] button').click();
    const told = await replayJson([simLog, '--tasks', 'gave-up']);
    expect(told.total).toBe(9);
    await expect.poll(() => page.locator('#tasks tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task'))), POLL).toEqual(
      [...told.tasks.map((t: { task: string }) => t.task)].sort((a: string, b: string) => Number(a.slice(4)) - Number(b.slice(4))),
    );
    const first = told.tasks[0].task as string;
    await page.locator(`#tasks tr[data-task="${first}"] td[data-field="name"]`).click();
    await expect.poll(() => page.locator('#story-attempts tr.attempt').count(), POLL).toBe(told.tasks[0].attempts);
    expect(await page.locator('#story-end').textContent()).toMatch(/^gave up at [\d.]+ s: /);
    await screenshot(page, 'dashboard-replay-simulated.png');
    await done(page);
    expect(errors).toEqual([]);
  });

  it('a link whose at is a clock time, in a virtual-clock log, is said to take seconds only', async () => {
    const logged = errors.length;
    const page = await open(`${simUi.url}/?at=2026-11-23T12:00:00Z&queue=flaky`);
    await expect.poll(() => page.locator('#at-error').isVisible(), POLL).toBe(true);
    expect(await page.locator('#at-error .text').textContent()).toBe(
      'The link\'s at="2026-11-23T12:00:00Z" names no instant of this log (at: "2026-11-23T12:00:00Z" is not a number of seconds since the log\'s first event (e.g. at=12.5) (INVALID_FIELD)). ' +
        "at takes seconds since the log's first event (at=12.5). Showing the log's end.",
    );
    const timeline = (await api('GET', `${simUi.url}/pushq/timeline.json`)).json;
    await expect.poll(() => page.locator('#queues').getAttribute('data-at'), POLL).toBe(String(timeline.endSeconds));
    expect(new URL(page.url()).search).toBe('?queue=flaky');
    await done(page);
    expect(errors.splice(logged)).toEqual([REFUSED]);
  });
});

describe('pushq serve: live charts (Chromium)', () => {
  // The fixture's: the queue.yaml in memory, tasks to the worker.
  let serve: ServeProcess;
  beforeAll(() => {
    serve = fx.serve;
  });

  it('the charts advance with the service, without a reload; paused, they stand still', async () => {
    const page = await open(`${serve.url}/`);
    await page.evaluate('window.stayed = true');
    await page.locator('#charts-interval').selectOption('1');
    const end = () => page.locator('#charts figure[data-chart="backlog"]').getAttribute('data-end').then(Number);
    const updates = () => page.locator('#charts').getAttribute('data-updates').then(Number);
    await page.locator('#charts figure[data-chart="backlog"]').waitFor();
    const first = await end();
    let n = 0;
    const adding = setInterval(() => void api('POST', `${serve.api}/orders/tasks`, { task: task('orders', `live-${n++}`, `/orders/live/${n}`, '{"live":true}') }), 200);
    try {
      await expect.poll(end, { timeout: EVENT_BOUND_MS, interval: 200 }).toBeGreaterThan(first + 1.5);
      await expect.poll(() => page.locator('#queues tr[data-queue="orders"] td[data-field="succeeded"]').textContent().then(Number), POLL).toBeGreaterThan(3);
    } finally {
      clearInterval(adding);
    }
    expect(await page.evaluate('window.stayed')).toBe(true); // no reload
    expect(await page.locator('#conn').textContent()).toBe('live');
    // The commands are there, and every queue's are in view at 900 px.
    await page.setViewportSize({ width: 900, height: 1000 });
    await page.waitForTimeout(300);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(900);
    for (const b of await page.locator('#queues td.actions button').all()) {
      const box = (await b.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(900);
    }
    await screenshot(page, 'dashboard-live.png', 'dashboard-live.png');

    await page.locator('#charts-paused').check();
    await page.waitForTimeout(300);
    const paused = await updates();
    await page.waitForTimeout(2500);
    expect(await updates()).toBe(paused);
    await page.locator('#charts-paused').uncheck();
    await expect.poll(updates, POLL).toBeGreaterThan(paused + 1);
    await done(page);
    expect(errors).toEqual([]);
  });

  it('opens a link whose at is an instant of the service\'s past (as the API shows times) there, not now: `past`, the URL in seconds', async () => {
    await new Promise((r) => setTimeout(r, 500));
    const timeline = (await api('GET', `${serve.url}/pushq/timeline.json`)).json;
    const instant = new Date(Date.parse(timeline.first) + Math.round(timeline.endSeconds * 500)).toISOString(); // halfway to now
    const asked = await api('GET', `${serve.url}/pushq/dashboard.json?at=${instant}`);
    expect(asked.status, JSON.stringify(asked.json)).toBe(200);
    const seconds = asked.json.atSeconds as number;
    const page = await open(`${serve.url}/?at=${instant}`);
    await expect.poll(() => page.locator('#queues').getAttribute('data-at'), POLL).toBe(String(seconds));
    expect(new URL(page.url()).searchParams.get('at')).toBe(String(seconds));
    expect(await page.locator('#conn').textContent()).toBe('past');
    // No queue command at an instant of the past (a row's Resume would follow that instant's state).
    expect(await page.locator('#queues td.actions').first().isVisible()).toBe(false);
    expect(await page.locator('#at-error').isVisible()).toBe(false);
    // One in the future is refused, named, and the page follows now.
    const logged = errors.length;
    await page.goto(`${serve.url}/?at=${new Date(Date.now() + 3_600_000).toISOString()}`);
    await expect.poll(() => page.locator('#at-error').isVisible(), POLL).toBe(true);
    expect(await page.locator('#at-error .text').textContent()).toMatch(/^The link's at="[^"]+" names no instant of this log \(at: [^ ]+ is outside this log's span, 0 to [\d.]+ seconds since its first event \(INVALID_FIELD\)\)\. .* Showing now\.$/);
    await expect.poll(() => page.locator('#conn').textContent(), POLL).toBe('live');
    expect(await page.locator('#queues td.actions').first().isVisible()).toBe(true);
    expect(new URL(page.url()).search).toBe('');
    await done(page);
    expect(errors.splice(logged)).toEqual([REFUSED]);
  });
});

describe('pushq serve whose log file is moved away under it', () => {
  it('a link whose at is an instant opens the page at now, saying the past cannot be read (not offline, tried again for ever)', async () => {
    const data = join(fx.dir, 'moved');
    const serve = await startServe(['--config', join(fx.dir, 'queue.yaml'), '--data', data, '--target', `default=${fx.worker.url}`]);
    const path = join(data, 'events.log');
    try {
      expect((await api('POST', `${serve.api}/orders/tasks`, { task: task('orders', 'moved-0', '/orders/moved/0', '{}') })).status).toBe(200);
      const instant = (await api('GET', `${serve.url}/pushq/dashboard.json`)).json.now as string; // within the span from here on
      await rename(path, `${path}.away`); // the service still writes through its open file
      const logged = errors.length;
      const page = await open(`${serve.url}/?at=${instant}&queue=orders`);
      await expect.poll(() => page.locator('#at-error').isVisible(), POLL).toBe(true);
      expect(await page.locator('#at-error .text').textContent()).toMatch(
        new RegExp(`^The link's at="${instant.replace(/[.+]/g, '\\$&')}" cannot be shown: the server cannot read its past \\(.*events\\.log: no such file.*\\(LOG_NOT_FOUND\\)\\)\\. Showing now\\.$`),
      );
      await expect.poll(() => page.locator('#conn').textContent(), POLL).toBe('live');
      expect(new URL(page.url()).search).toBe('?queue=orders');
      expect(await page.locator('#poll-error').isVisible()).toBe(false);
      await done(page);
      expect(errors.splice(logged)).toEqual(['console: Failed to load resource: the server responded with a status of 500 (Internal Server Error)']);
    } finally {
      await rename(`${path}.away`, path).catch(() => undefined);
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
    expect(errors).toEqual([]);
  });
});

describe('a restart with new settings (pushq serve, then again with another --target)', () => {
  it('is marked on the timeline as a start (pushq was not running before it) and a settings change, not as a configuration applied', async () => {
    const data = join(fx.dir, 'restarted');
    for (const target of [fx.worker.url, `${fx.worker.url}/elsewhere`]) {
      const serve = await startServe(['--config', join(fx.dir, 'queue.yaml'), '--data', data, '--target', `default=${target}`]);
      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
    }
    const restarted = await startReplayUi(join(data, 'events.log'), ['--port', '0']);
    try {
      // The second start is logged first (ServiceStarted), then its settings.
      expect((await api('GET', `${restarted.url}/pushq/timeline.json`)).json.markers.map((m: { kind: string }) => m.kind)).toEqual(['config', 'restart', 'settings']);
      const page = await open(`${restarted.url}/`);
      const marks = page.locator('#timeline-marks .mark');
      await marks.nth(2).waitFor({ state: 'attached' });
      expect(await marks.evaluateAll((ms) => ms.map((m) => [m.getAttribute('data-kind'), m.className]))).toEqual([
        ['config', 'mark mark-config'],
        ['restart', 'mark mark-restart'],
        ['settings', 'mark mark-settings'],
      ]);
      expect(await marks.nth(0).getAttribute('title')).toMatch(/^configuration applied at /);
      expect(await marks.nth(1).getAttribute('title')).toMatch(/^pushq started again at .* \(pushq was not running from the last event before it until then: the waits in that span count as "not running"\)$/);
      expect(await marks.nth(2).getAttribute('title')).toMatch(/^settings changed at .* \(a restart with new settings, such as --target or --scaling; queue\.yaml not applied again, no queue changed state\)$/);
      expect(await page.locator('#timeline-legend').textContent()).toBe('1 × configuration applied · 1 × pushq started again · 1 × settings changed');
      await done(page);
    } finally {
      restarted.child.kill('SIGINT');
      expect(await restarted.exited).toBe(0);
    }
    expect(errors).toEqual([]);
  });
});
