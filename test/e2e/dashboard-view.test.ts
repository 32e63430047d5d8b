/**
 * What the dashboard shows besides the cursor, in Debian's Chromium (playwright-core), over a log
 * written by `pushq simulate --log` (examples/retries/flaky-worker.yaml: queues `default` and
 * `flaky`, tasks that gave up after four attempts) and served by `pushq replay LOG --ui`:
 * - the queue selected (a row pressed): its tasks listed and its charts drawn; whatever moves the
 *   list or the charts elsewhere (the list's picker, its Reset, the charts' picker) leaves no row
 *   pressed for a queue no longer shown, and a click on a row then selects it;
 * - the view in the URL beside the cursor (`?at=…&queue=…&state=…&sort=…&task=…`): a reload, and
 *   the same URL in another page (a link shared), show the same queue, list and story at the same
 *   instant; Back and Forward step through the views (the story closed, the order before).
 *
 * Chromium is required, not optional (as in dashboard.test.ts).
 */
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFlakyReplay, type FlakyReplay, type ReplayUiProcess } from '../helpers/replay-ui-process.js';
import { launchChromium } from '../helpers/chromium.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const POLL = { timeout: EVENT_BOUND_MS, interval: 100 };

/** The example's log, its replay UI and directory. */
let flaky: FlakyReplay;
let ui: ReplayUiProcess;
let browser: Browser;
/** A task that gave up, with its attempts (pushq replay --tasks gave-up). */
let doomed: { task: string; attempts: number };
const errors: string[] = [];

beforeAll(async () => {
  flaky = await startFlakyReplay('pushq-dashboard-view-');
  ({ ui, doomed } = flaky);
  expect(doomed.attempts).toBe(4);
  browser = await launchChromium('the dashboard test');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await flaky?.stop();
});

async function open(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.setDefaultTimeout(EVENT_BOUND_MS);
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  await page.goto(url);
  await expect.poll(() => page.locator('#queues tbody tr').count(), POLL).toBe(2);
  return page;
}

/** The queues whose row is pressed (selected). */
const pressed = (page: Page) => page.locator('#queues tbody tr').evaluateAll((rows) => rows.filter((r) => r.querySelector('td.name button')?.getAttribute('aria-pressed') === 'true' || r.classList.contains('selected')).map((r) => r.getAttribute('data-queue')));
const charted = (page: Page) => page.locator('#chart-queue').inputValue();
const listed = (page: Page) => page.locator('#tasks-queue').textContent();
const pick = (page: Page, queue: string) => page.locator(`#queues tr[data-queue="${queue}"] td.name button`).click();

describe('the queue selected (pushq replay --ui, Chromium)', () => {
  it('follows the task list\'s picker and Reset, and the charts\' picker', async () => {
    const page = await open(`${ui.url}/`);
    await pick(page, 'flaky');
    await expect.poll(() => listed(page), POLL).toBe('flaky');
    expect(await pressed(page)).toEqual(['flaky']);
    expect(await charted(page)).toBe('flaky');

    // Another queue in the list's picker: that queue is selected, its charts with it.
    await page.locator('#task-queue').selectOption('default');
    await expect.poll(() => listed(page), POLL).toBe('default');
    expect(await charted(page)).toBe('default');
    expect(await pressed(page)).toEqual(['default']);

    // Reset: every queue, no row pressed, every queue's charts.
    await page.locator('#close-tasks').click();
    await expect.poll(() => listed(page), POLL).toBe('all queues');
    expect(await pressed(page)).toEqual([]);
    expect(await charted(page)).toBe('*');

    // A click on a row now selects it (it was not selected: not "again, every queue").
    await pick(page, 'flaky');
    await expect.poll(() => listed(page), POLL).toBe('flaky');
    expect(await pressed(page)).toEqual(['flaky']);
    expect(await charted(page)).toBe('flaky');

    // The charts' own picker elsewhere: the row is no longer pressed (the list stays on flaky),
    // and a click on it selects it again, charts and all.
    await page.locator('#chart-queue').selectOption('*');
    await expect.poll(() => pressed(page), POLL).toEqual([]);
    expect(await listed(page)).toBe('flaky');
    await pick(page, 'flaky');
    await expect.poll(() => charted(page), POLL).toBe('flaky');
    expect(await pressed(page)).toEqual(['flaky']);
    expect(await listed(page)).toBe('flaky');
    await page.close();
    expect(errors).toEqual([]);
  });
});

/** What the page shows: the list, its filters, the selection, the charts, the story, the instant. */
async function shown(page: Page): Promise<Record<string, unknown>> {
  await expect.poll(() => page.locator('#story-attempts tr.attempt').count(), POLL).toBe(doomed.attempts);
  return {
    listed: await listed(page),
    state: await page.locator('#task-state').inputValue(),
    sort: await page.locator('#task-sort').inputValue(),
    search: await page.locator('#task-search').inputValue(),
    pressed: await pressed(page),
    charted: await charted(page),
    story: await page.locator('#story-task').textContent(),
    storyShown: await page.locator('#story-panel').isVisible(),
    storyEnd: await page.locator('#story-end').textContent(),
    at: await page.locator('#tl-at').textContent(),
  };
}

describe('the view in the URL (pushq replay --ui, Chromium)', () => {
  it('a reload and a shared link show the same queue, list and story at the same instant; Back steps back', async () => {
    const page = await open(`${ui.url}/`);
    const params = () => Object.fromEntries(new URL(page.url()).searchParams);
    // The tasks of flaky that gave up (its count), most attempts first; one's story, a step back in time.
    await page.locator('#queues tr[data-queue="flaky"] td[data-field="gaveUp"] button').click();
    await expect.poll(() => listed(page), POLL).toBe('flaky');
    await page.locator('#task-sort').selectOption('attempts');
    await page.locator(`#tasks tr[data-task="${doomed.task}"] td[data-field="name"]`).click();
    await page.locator('#tl-back').click();
    await expect.poll(params, POLL).toMatchObject({ queue: 'flaky', state: 'failed', sort: 'attempts', task: `flaky/${doomed.task}` });
    const at = params()['at'];
    expect(Number(at)).toBeGreaterThan(0);
    const view = await shown(page);
    expect(view).toMatchObject({ listed: 'flaky', state: 'failed', sort: 'attempts', pressed: ['flaky'], charted: 'flaky', story: doomed.task, storyShown: true });
    expect(view['storyEnd']).toMatch(/^gave up at /);

    // Reloaded: the same view.
    await page.reload();
    await expect.poll(() => page.locator('#queues tbody tr').count(), POLL).toBe(2);
    expect(await shown(page)).toEqual(view);
    expect(params()).toMatchObject({ at, queue: 'flaky', state: 'failed', sort: 'attempts', task: `flaky/${doomed.task}` });

    // The link in another page: the same view.
    const other = await open(page.url());
    expect(await shown(other)).toEqual(view);
    await other.close();

    // Back: the story closed (the list as it was); again: the order before; Forward: back again.
    await page.goBack();
    await expect.poll(() => page.locator('#story-panel').isVisible(), POLL).toBe(false);
    expect(params()).toEqual({ at, queue: 'flaky', state: 'failed', sort: 'attempts' });
    expect(await page.locator('#task-sort').inputValue()).toBe('attempts');
    await page.goBack();
    await expect.poll(() => page.locator('#task-sort').inputValue(), POLL).toBe('id');
    expect(params()).toEqual({ at, queue: 'flaky', state: 'failed' });
    await page.goForward();
    await expect.poll(() => page.locator('#task-sort').inputValue(), POLL).toBe('attempts');
    await page.goForward();
    expect(await shown(page)).toEqual(view);

    // A search is kept (the current entry replaced, not one per pause in typing); Reset (every
    // queue's live tasks, no search; the order kept) leaves the instant, the order and the story.
    await page.locator('#task-search').fill(doomed.task);
    await expect.poll(params, POLL).toMatchObject({ q: doomed.task });
    await page.locator('#close-tasks').click();
    await expect.poll(params, POLL).toEqual({ at, sort: 'attempts', task: `flaky/${doomed.task}` });
    await page.close();
    expect(errors).toEqual([]);
  });

  it('a URL naming what the page does not offer shows the defaults, without an error', async () => {
    const page = await open(`${ui.url}/?queue=no%2Fqueue&state=bogus&sort=nope&charts=%3Cb%3E&task=nameless`);
    await expect.poll(() => listed(page), POLL).toBe('all queues');
    expect(await page.locator('#task-state').inputValue()).toBe('live');
    expect(await page.locator('#task-sort').inputValue()).toBe('id');
    expect(await charted(page)).toBe('*');
    expect(await page.locator('#story-panel').isVisible()).toBe(false);
    await page.close();
    expect(errors).toEqual([]);
  });
});
