/**
 * The story panel follows the cursor, in Debian's Chromium (playwright-core), over a log written by
 * `pushq simulate --log` and served by `pushq replay LOG --ui`:
 * - a read of the story that fails (the task did not exist yet at that instant) while the cursor
 *   has already moved on is not the last word: the story is read again at the instant now shown;
 * - at an instant before the task was added, the panel says so and shows nothing of another
 *   instant (no attempts, no end, no payload of the story read before).
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
/** A task that gave up, and when it was added (seconds since the first event). */
let doomed: { task: string; attempts: number };
const errors: string[] = [];

beforeAll(async () => {
  flaky = await startFlakyReplay('pushq-story-cursor-');
  ({ ui, doomed } = flaky);
  expect(doomed.attempts).toBeGreaterThan(1);
  browser = await launchChromium('the dashboard test');
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await flaky?.stop();
});

/** The page at the log's end with the story of the task that gave up open. */
async function storyOpen(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.setDefaultTimeout(EVENT_BOUND_MS);
  page.on('console', (m) => {
    // The story read at an instant before the task was added is a 404 the page expects and shows.
    if (m.type() === 'error' && !/status of 404/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  await page.goto(`${ui.url}/`);
  await page.locator('#queues tr[data-queue="flaky"] td[data-field="gaveUp"] button').click();
  await page.locator(`#tasks tr[data-task="${doomed.task}"] td[data-field="name"]`).click();
  await expect.poll(() => page.locator('#story-attempts tr.attempt').count(), POLL).toBe(doomed.attempts);
  return page;
}

const alertShown = (page: Page) => page.locator('#story-error').evaluate((e) => e.classList.contains('shown'));

describe('the story panel follows the cursor (pushq replay --ui, Chromium)', () => {
  it('a read that fails after the cursor moved on is read again at the instant shown', async () => {
    const page = await storyOpen();
    // « Start (the task does not exist yet: that read fails), then End » before it answers.
    await page.evaluate(() => {
      const d = (globalThis as unknown as { document: { getElementById(id: string): { click(): void } } }).document;
      d.getElementById('tl-start').click();
      d.getElementById('tl-end').click();
    });
    await expect.poll(() => page.locator('#tl-at').textContent(), POLL).toMatch(/^showing the end/);
    await expect.poll(() => page.locator('#story-end').textContent(), POLL).toMatch(/^gave up at /);
    // The end is shown, and the story of the end with it: no error of the instant left behind.
    await new Promise((r) => setTimeout(r, 500));
    expect(await alertShown(page)).toBe(false);
    expect(await page.locator('#story-attempts tr.attempt').count()).toBe(doomed.attempts);
    await page.close();
    expect(errors).toEqual([]);
  });

  it('before the task was added, the panel says so and shows nothing of the story read before', async () => {
    const page = await storyOpen();
    await page.locator('#tl-start').click();
    await expect.poll(() => alertShown(page), POLL).toBe(true);
    expect(await page.locator('#story-error .text').textContent()).toContain('not found');
    expect(await page.locator('#story-attempts tbody tr').count()).toBe(0);
    expect(await page.locator('#story-end').textContent()).toBe('');
    expect(await page.locator('#story-payload').textContent()).toBe('');
    expect(await page.locator('#story-sub').textContent()).not.toMatch(/attempt/);
    // Back at the end, the story is told again.
    await page.locator('#tl-end').click();
    await expect.poll(() => page.locator('#story-attempts tr.attempt').count(), POLL).toBe(doomed.attempts);
    expect(await alertShown(page)).toBe(false);
    await page.close();
    expect(errors).toEqual([]);
  });
});
