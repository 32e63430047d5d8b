/**
 * What the dashboard shows besides the cursor, in Debian's Chromium (playwright-core), over a log
 * written by `pushq simulate --log` (examples/retries/flaky-worker.yaml: queues `default` and
 * `flaky`, tasks that gave up after four attempts) and served by `pushq replay LOG --ui`:
 * - the queue selected (a row pressed): its tasks listed and its charts drawn; whatever moves the
 *   list or the charts elsewhere (the list's picker, its Reset, the charts' picker) leaves no row
 *   pressed for a queue no longer shown, and a click on a row then selects it.
 *
 * Chromium is required, not optional (as in dashboard.test.ts).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';
import { startReplayUi, type ReplayUiProcess } from '../helpers/replay-ui-process.js';
import { ROOT } from '../helpers/serve-process.js';

const CHROMIUM = process.env['PUSHQ_CHROMIUM'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const POLL = { timeout: 10_000, interval: 100 };

let dir: string;
let ui: ReplayUiProcess;
let browser: Browser;
const errors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the dashboard test drives a real Chromium, and there is none at ${CHROMIUM}.\nInstall it: apt-get install chromium   (Debian/Ubuntu, as root; or set PUSHQ_CHROMIUM to its path)`);
  }
  dir = await mkdtemp(join(tmpdir(), 'pushq-dashboard-view-'));
  const log = join(dir, 'flaky.log');
  const r = await pushq(['simulate', join(ROOT, 'examples', 'retries', 'flaky-worker.yaml'), '--log', log]);
  expect(r.code, r.stderr).toBe(0);
  ui = await startReplayUi(log, ['--port', '0']);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 20_000 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  ui?.child.kill('SIGINT');
  await ui?.exited;
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function open(url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.setDefaultTimeout(10_000);
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
