/**
 * A task name taken again on the dashboard, in Debian's Chromium (playwright-core), against the
 * real CLI (`pushq serve --allow-reset`, as a test suite runs it) and a real worker: a reset frees
 * every name, so a suite that names its tasks adds the same name once per test. The task list of
 * ended (or all) tasks then holds one row per task that had the name, and the story of the name
 * (the latest task with it, as the API reads it) follows that task, not an older one.
 *
 * Chromium is required, not optional (as in dashboard.test.ts).
 */
import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { api } from '../helpers/serve-process.js';
import { dashboardFixture, serveInMemory } from '../helpers/dashboard-fixture.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const POLL = { timeout: EVENT_BOUND_MS, interval: 100 };

const fx = dashboardFixture('pushq-reused-name-', {
  // rate 0: the tasks wait until run by hand.
  queueYaml: 'queue:\n- name: held\n  rate: 0\n',
  serve: serveInMemory('--allow-reset'),
});
const errors: string[] = [];

async function addDup(uri: string): Promise<void> {
  const r = await api('POST', `${fx.serve.api}/held/tasks`, { task: { name: 'projects/p/locations/l/queues/held/tasks/dup', appEngineHttpRequest: { relativeUri: uri } } });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
}

async function reset(): Promise<void> {
  const r = await api('POST', `${fx.serve.url}/pushq/reset`, {});
  expect(r.status, JSON.stringify(r.json)).toBe(200);
}

async function openPage(): Promise<Page> {
  const page = await fx.browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.setDefaultTimeout(EVENT_BOUND_MS);
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  await page.goto(`${fx.serve.url}/`);
  return page;
}

describe('a task name taken again (pushq serve --allow-reset, Chromium)', () => {
  it('lists every task that had the name, and the story follows the latest', async () => {
    await addDup('/first');
    await reset();
    await addDup('/second');
    await reset();
    await addDup('/third');
    const page = await openPage();
    // The queue's option comes with the first read of the figures.
    await expect.poll(() => page.locator('#task-queue option[value="held"]').count(), POLL).toBe(1);
    await page.locator('#task-queue').selectOption('held');
    await page.locator('#task-state').selectOption('all');
    // One row per task, in the order added: the API's list, not the last of them only.
    const rows = page.locator('#tasks tbody tr');
    await expect.poll(() => rows.evaluateAll((trs) => trs.map((tr) => tr.querySelector('td[data-field="request"]')?.textContent)), POLL).toEqual(['POST /first', 'POST /second', 'POST /third']);
    expect(await page.locator('#tasks-count').textContent()).toBe('3 tasks');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.querySelector('td[data-field="state"]')?.textContent))).toEqual(['deleted', 'deleted', 'pending']);

    // The story of the name is the latest task's (pending, no attempt); run it, and the story,
    // which the page reads again when the list shows its task changed, tells the attempt.
    await rows.nth(2).locator('td[data-field="name"]').click();
    await expect.poll(() => page.locator('#story-sub').textContent(), POLL).toBe('queue held · 0 attempts');
    expect(await page.locator('#story-request').textContent()).toContain('POST /third');
    const run = await api('POST', `${fx.serve.api}/held/tasks/dup:run`, {});
    expect(run.status, JSON.stringify(run.json)).toBe(200);
    await fx.worker.waitFor((rs) => rs.some((r) => r.url === '/third'), EVENT_BOUND_MS, 'the run of the latest dup');
    await expect.poll(() => page.locator('#story-attempts tr.attempt').count(), POLL).toBe(1);
    await expect.poll(() => page.locator('#story-end').textContent(), POLL).toMatch(/^succeeded at /);
    await page.close();
    expect(errors).toEqual([]);
  });
});
