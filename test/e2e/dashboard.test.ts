/**
 * The dashboard end to end: the real CLI as a child process, a real worker on loopback, and
 * Debian's Chromium driven by playwright-core. What a user sees and clicks is checked against the
 * API and against what the worker receives.
 *
 * Chromium is required, not optional: without it this file fails with the command that installs
 * it (a skipped test would hide that the dashboard went untested).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, startServe } from '../helpers/serve-process.js';
import { dashboardFixture } from '../helpers/dashboard-fixture.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const QUEUE_YAML = `
queue:
- name: shown
  rate: 7/s
  bucket_size: 3
  max_concurrent_requests: 2
- name: flow
  rate: 20/s
- name: flaky
  rate: 50/s
  retry_parameters:
    task_retry_limit: 1
    min_backoff_seconds: 0.1
    max_backoff_seconds: 0.1
- name: held
  rate: 10/s
- name: storied
  rate: 50/s
  retry_parameters:
    min_backoff_seconds: 1
`;

const fx = dashboardFixture('pushq-dashboard-', {
  queueYaml: QUEUE_YAML,
  // /twice-503/*: 503, 503, then 200.
  worker: (r, nth) => (r.url.startsWith('/always-500') ? 500 : r.url.startsWith('/twice-503/') && nth < 2 ? 503 : 200),
});
let page: Page;
const pageErrors: string[] = [];
/** The page's reads of a task list sent and not yet answered: a refresh under way. */
const listReads = new Set<unknown>();

beforeAll(async () => {
  page = await fx.browser.newPage();
  page.setDefaultTimeout(EVENT_BOUND_MS);
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('request', (r) => void (/^\/pushq\/queues\/[^/]+\/tasks$/.test(new URL(r.url()).pathname) && listReads.add(r)));
  page.on('requestfinished', (r) => void listReads.delete(r));
  page.on('requestfailed', (r) => void listReads.delete(r));
  page.on('dialog', (d) => void d.accept()); // Purge asks for confirmation
  await page.goto(`${fx.serve.url}/`);
});

const tasksOf = (queue: string) => `${fx.serve.api}/${queue}/tasks`;
const taskName = (queue: string, id: string) => `projects/p/locations/l/queues/${queue}/tasks/${id}`;
const queueRow = (queue: string) => page.locator(`#queues tr[data-queue="${queue}"]`);
const taskRow = (task: string) => page.locator(`#tasks tr[data-task="${task}"]`);
const cell = (queue: string, field: string) => queueRow(queue).locator(`td[data-field="${field}"]`).textContent();

async function create(queue: string, task: Record<string, unknown>): Promise<void> {
  const r = await api('POST', tasksOf(queue), { task });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
}

const POLL = { timeout: EVENT_BOUND_MS, interval: 100 };
const future = () => new Date(Date.now() + 3600_000).toISOString();

describe('dashboard (pushq serve child process, real worker, Chromium)', () => {
  it('is served at / and /dashboard, and the startup line names it', async () => {
    expect(fx.serve.stdout()).toContain(`dashboard ${fx.serve.url}/`);
    for (const path of ['/', '/dashboard']) {
      const res = await fetch(`${fx.serve.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toContain("connect-src 'self'");
      expect(await res.text()).toContain('<title>pushq dashboard</title>');
    }
  });

  it('lists the queues of queue.yaml with their figures', async () => {
    await expect.poll(() => page.locator('#queues tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-queue'))), POLL).toEqual(['default', 'shown', 'flow', 'flaky', 'held', 'storied']);
    expect(await cell('shown', 'state')).toBe('running');
    expect(await cell('shown', 'rate')).toBe('7/s');
    expect(await cell('shown', 'tokens')).toBe('3.0 / 3');
    expect(await cell('shown', 'inFlight')).toBe('0 / 2');
    expect(await cell('default', 'rate')).toBe('5/s'); // the default queue: 5/s, bucket 5
    expect(await cell('default', 'tokens')).toBe('5.0 / 5');
    expect(await page.locator('#conn').textContent()).toBe('live');
  });

  it('shows counts change as tasks are created through the API and dispatched', async () => {
    for (let i = 0; i < 3; i++) await create('held', { scheduleTime: future(), appEngineHttpRequest: { relativeUri: `/held/later${i}` } });
    await expect.poll(() => cell('held', 'pending'), POLL).toBe('3');

    for (let i = 0; i < 4; i++) await create('shown', { appEngineHttpRequest: { relativeUri: `/shown/${i}` } });
    await fx.worker.waitFor((rs) => rs.filter((r) => r.url.startsWith('/shown/') && r.answered === 200).length === 4, EVENT_BOUND_MS, 'four shown tasks');
    await expect.poll(() => cell('shown', 'succeeded'), POLL).toBe('4');
    expect(await cell('shown', 'attempts')).toBe('4');
    expect(await cell('shown', 'retries')).toBe('0');
    expect(await cell('shown', 'pending')).toBe('0');
    expect(Number(await cell('shown', 'recentRate'))).toBeGreaterThan(0); // 4 dispatches in the last 10 s

    // task_retry_limit 1: two attempts, one retry, then given up.
    await create('flaky', { appEngineHttpRequest: { relativeUri: '/always-500/f' } });
    await expect.poll(() => cell('flaky', 'gaveUp'), POLL).toBe('1');
    expect(await cell('flaky', 'attempts')).toBe('2');
    expect(await cell('flaky', 'retries')).toBe('1');
    expect(fx.worker.forUrl('/always-500/f')).toHaveLength(2);
  });

  it('pause stops dispatch at the worker until resume', async () => {
    await queueRow('flow').getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => cell('flow', 'state'), POLL).toBe('paused');
    expect((await api('GET', `${fx.serve.api}/flow`)).json.state).toBe('PAUSED');

    for (let i = 0; i < 3; i++) await create('flow', { appEngineHttpRequest: { relativeUri: `/flow/${i}` } });
    await expect.poll(() => cell('flow', 'pending'), POLL).toBe('3');
    await new Promise((r) => setTimeout(r, 500)); // at 20/s, 3 tokens in the bucket: all would be sent at once
    expect(fx.worker.forUrl('/flow/')).toHaveLength(0);
    expect(await cell('flow', 'pending')).toBe('3');

    await queueRow('flow').getByRole('button', { name: 'Resume' }).click();
    await fx.worker.waitFor((rs) => rs.filter((r) => r.url.startsWith('/flow/')).length === 3, EVENT_BOUND_MS, 'the three flow tasks after resume');
    await expect.poll(() => cell('flow', 'state'), POLL).toBe('running');
    await expect.poll(() => cell('flow', 'succeeded'), POLL).toBe('3');
    expect(await cell('flow', 'pending')).toBe('0');
  });

  it('lists a queue’s tasks, deletes one, runs one, and shows user text as text', async () => {
    await create('held', { name: taskName('held', 'keep'), scheduleTime: future(), appEngineHttpRequest: { relativeUri: '/held/keep' } });
    await create('held', { name: taskName('held', 'gone'), scheduleTime: future(), appEngineHttpRequest: { relativeUri: '/held/gone' } });
    await create('held', { name: taskName('held', 'markup'), scheduleTime: future(), appEngineHttpRequest: { relativeUri: '/held/m?<b>x</b>' } });
    // A task name cannot carry markup ([A-Za-z0-9_-]): the API refuses it.
    expect((await api('POST', tasksOf('held'), { task: { name: taskName('held', '<b>x</b>'), appEngineHttpRequest: {} } })).status).toBe(400);

    await queueRow('held').locator('td.name').click();
    await expect.poll(() => page.locator('#tasks-queue').textContent(), POLL).toBe('held');
    await taskRow('keep').waitFor();
    expect(await taskRow('keep').locator('td[data-field="state"]').textContent()).toBe('pending');
    expect(await taskRow('keep').locator('td[data-field="request"]').textContent()).toBe('POST /held/keep');
    expect(await taskRow('keep').locator('td[data-field="dispatchCount"]').textContent()).toBe('0');
    expect(await taskRow('keep').locator('td[data-field="scheduleTime"]').textContent()).toMatch(/\(in (59|60) min\)$/);
    expect(await page.locator('#tasks tbody tr').count()).toBe(6); // the three from before, and these three

    // The URL is shown as text: no <b> element, the angle brackets visible.
    expect(await taskRow('markup').locator('td[data-field="request"]').textContent()).toBe('POST /held/m?<b>x</b>');
    expect(await page.locator('#tasks b, #queues b').count()).toBe(0);

    await taskRow('gone').getByRole('button', { name: 'Delete' }).click();
    await taskRow('gone').waitFor({ state: 'detached' });
    expect((await api('GET', `${tasksOf('held')}/gone`)).status).toBe(404);
    expect((await api('GET', `${tasksOf('held')}/keep`)).status).toBe(200);

    await taskRow('keep').getByRole('button', { name: 'Run' }).click(); // ignores the ETA an hour ahead
    await fx.worker.waitFor((rs) => rs.some((r) => r.url === '/held/keep'), EVENT_BOUND_MS, 'the task run from the page');
    await taskRow('keep').waitFor({ state: 'detached' });
    expect((await api('GET', `${tasksOf('held')}/keep`)).status).toBe(404);
  });

  it('selects a queue from the keyboard as a click does: Tab to its name, Enter (again: every queue)', async () => {
    const pick = queueRow('flow').locator('td.name button');
    await pick.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#tasks-queue').textContent(), POLL).toBe('flow');
    expect(await queueRow('flow').getAttribute('class')).toContain('selected');
    expect(await pick.getAttribute('aria-pressed')).toBe('true');
    await page.keyboard.press('Space');
    await expect.poll(() => pick.getAttribute('aria-pressed'), POLL).toBe('false');
    expect(await queueRow('flow').getAttribute('class')).not.toContain('selected');
    // Back to the queue the next test expects.
    await queueRow('held').locator('td.name').click();
    await expect.poll(() => page.locator('#tasks-queue').textContent(), POLL).toBe('held');
  });

  it('shows an API error on the page', async () => {
    await taskRow('markup').waitFor();
    await page.locator('#auto').uncheck(); // hold the table still: the row stays after the task goes
    // A refresh already under way could read the list after the delete and take the row away (met on a
    // loaded machine; the click then waited for a row that never came back): let it end. None starts unticked.
    await expect.poll(() => listReads.size, POLL).toBe(0);
    expect((await api('DELETE', `${tasksOf('held')}/markup`)).status).toBe(200);
    await taskRow('markup').getByRole('button', { name: 'Delete' }).click();
    const alert = page.locator('#action-error');
    await alert.waitFor({ state: 'visible' });
    expect(await alert.locator('.text').textContent()).toMatch(/^Delete markup failed: NOT_FOUND: task name "markup" was used by a task that ended recently.*\(TOMBSTONED_TASK\)$/);
    await page.locator('#auto').check();
    await taskRow('markup').waitFor({ state: 'detached' });
  });

  it('purges a queue from the page', async () => {
    await expect.poll(() => cell('held', 'pending'), POLL).toBe('3');
    await queueRow('held').getByRole('button', { name: 'Purge' }).click();
    await expect.poll(() => cell('held', 'pending'), POLL).toBe('0');
    expect((await api('GET', tasksOf('held'))).json.tasks ?? []).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('opens the story of a task that retried: its attempts with the counts and statuses, the backoffs, the end', async () => {
    await queueRow('storied').locator('td.name').click();
    await expect.poll(() => page.locator('#tasks-queue').textContent(), POLL).toBe('storied');
    // min_backoff 1 s: the task stays listed for 3 s (backoffs of 1 s and 2 s), time to click it.
    await create('storied', { name: taskName('storied', 'twice'), appEngineHttpRequest: { relativeUri: '/twice-503/x' } });
    await taskRow('twice').waitFor();
    await taskRow('twice').locator('td[data-field="name"]').click();
    await page.locator('#story-panel').waitFor({ state: 'visible' });
    expect(await page.locator('#story-task').textContent()).toBe('twice');
    expect(await taskRow('twice').getAttribute('class')).toContain('selected');

    // The panel follows the task until it has ended, then stays though the task left the list.
    await expect.poll(() => page.locator('#story-end').textContent(), { timeout: EVENT_BOUND_MS, interval: 100 }).toMatch(/^succeeded at \d\d:\d\d:\d\d\.\d{3} after 3 attempts$/);
    await taskRow('twice').waitFor({ state: 'detached' });
    const column = (field: string) => page.locator(`#story-attempts tr.attempt td[data-field="${field}"]`).allTextContents();
    expect(await column('number')).toEqual(['1', '2', '3']);
    expect(await column('outcome')).toEqual(['503', '503', '200']);
    expect(await column('retryCount')).toEqual(['0', '1', '2']);
    expect(await column('executionCount')).toEqual(['0', '1', '2']);
    expect(await column('previousStatus')).toEqual(['—', '503', '503']);
    for (const latency of await column('latency')) expect(latency).toMatch(/^\d+(\.\d+)? s$/);
    const backoffs = await page.locator('#story-attempts tr.backoff').allTextContents();
    expect(backoffs).toHaveLength(2);
    const eta = '\\d\\d:\\d\\d:\\d\\d\\.\\d{3}';
    expect(backoffs[0]).toMatch(new RegExp(`^backoff: retry n=1, min_backoff 1 s, max_backoff 3600 s, max_doublings 16 → doublings 0 → delay min\\(3600 s, 1 s·2\\^0\\) = 1 s; next ETA ${eta}$`));
    expect(backoffs[1]).toMatch(new RegExp(`^backoff: retry n=2, min_backoff 1 s, max_backoff 3600 s, max_doublings 16 → doublings 1 → delay min\\(3600 s, 1 s·2\\^1\\) = 2 s; next ETA ${eta}$`));
    // The backoff line sits under the attempt it followed.
    expect(await page.locator('#story-attempts tbody tr').evaluateAll((rows) => rows.map((r) => r.className))).toEqual(['attempt has-backoff', 'backoff', 'attempt has-backoff', 'backoff', 'attempt']);
    expect(await page.locator('#story-head').textContent()).toContain('state succeeded');

    // What the page shows is what the worker saw.
    const seen = fx.worker.forUrl('/twice-503/x');
    expect(seen.map((r) => [r.headers['x-appengine-taskretrycount'], r.headers['x-appengine-taskexecutioncount'], r.answered])).toEqual([
      ['0', '0', 503],
      ['1', '1', 503],
      ['2', '2', 200],
    ]);

    await page.locator('#close-story').click();
    await page.locator('#story-panel').waitFor({ state: 'hidden' });
    expect(pageErrors).toEqual([]);
  });

  it('reads an open story again only when its task changes (each read is a pass over the log)', async () => {
    expect((await api('POST', `${fx.serve.api}/storied:pause`, {})).status).toBe(200);
    await create('storied', { name: taskName('storied', 'waits'), appEngineHttpRequest: { relativeUri: '/waits' } });
    await taskRow('waits').waitFor();
    const reads: string[] = [];
    const onRequest = (r: { url(): string }) => {
      if (r.url().endsWith('/story')) reads.push(r.url());
    };
    page.on('request', onRequest);
    try {
      await taskRow('waits').locator('td[data-field="name"]').click();
      await expect.poll(() => page.locator('#story-sub').textContent(), POLL).toBe('queue storied · 0 attempts');
      await page.waitForTimeout(3500); // three refreshes of a task that does not change
      expect(reads).toHaveLength(1);
      // Resumed, it is dispatched: the task list shows the change, and the story is read again.
      expect((await api('POST', `${fx.serve.api}/storied:resume`, {})).status).toBe(200);
      await expect.poll(() => page.locator('#story-end').textContent(), { timeout: EVENT_BOUND_MS, interval: 100 }).toMatch(/^succeeded at /);
      expect(reads.length).toBeGreaterThan(1);
    } finally {
      page.off('request', onRequest);
    }
    expect(pageErrors).toEqual([]);
  });

  it('a queue its configuration stops (rate: 0, or removed by a reload) shows its bucket_size and why, and no Resume: the API refuses it', async () => {
    const yaml = join(fx.dir, 'held-by-config.yaml');
    await writeFile(yaml, 'queue:\n- name: stopped\n  rate: 0\n  bucket_size: 4\n- name: leaving\n  rate: 5/s\n');
    const own = await startServe(['--config', yaml, '--memory', '--target', `default=${fx.worker.url}`]);
    const p = await fx.browser.newPage();
    p.setDefaultTimeout(EVENT_BOUND_MS);
    p.on('pageerror', (e) => pageErrors.push(e.message));
    const row = (queue: string) => p.locator(`#queues tr[data-queue="${queue}"]`);
    const at = (queue: string, field: string) => row(queue).locator(`td[data-field="${field}"]`).textContent();
    try {
      await p.goto(`${own.url}/`);
      await expect.poll(() => at('stopped', 'state'), POLL).toBe('paused');
      // Its bucket_size is the configuration's, as the API's maxBurstSize; rate 0 fills no bucket.
      const figures = (await api('GET', `${own.url}/pushq/dashboard.json`)).json.queues.find((q: { name: string }) => q.name === 'stopped');
      expect(figures).toMatchObject({ state: 'paused', tokens: null, bucketSize: 4, configHold: 'rate-zero' });
      expect((await api('GET', `${own.api}/stopped`)).json.rateLimits.maxBurstSize).toBe(4);
      expect(await at('stopped', 'tokens')).toBe('– / 4');
      expect(await row('stopped').locator('td[data-field="rate"]').getAttribute('title')).toBe('max burst 4');
      // No Resume, which the API refuses; the row says why instead.
      expect(await row('stopped').getByRole('button', { name: 'Resume' }).count()).toBe(0);
      expect(await row('stopped').locator('.hold').textContent()).toBe('rate 0 in queue.yaml');
      expect(await row('stopped').locator('.hold').getAttribute('title')).toContain('give it a rate above 0 and reload');
      const refused = await api('POST', `${own.api}/stopped:resume`, {});
      expect([refused.status, refused.json.error.status]).toEqual([400, 'FAILED_PRECONDITION']);
      expect(refused.json.error.message).toMatch(/\(QUEUE_NOT_RESUMABLE\)$/);
      // A queue paused by a command is resumable: Resume, and no reason shown.
      await row('leaving').getByRole('button', { name: 'Pause' }).click();
      await row('leaving').getByRole('button', { name: 'Resume' }).waitFor();
      expect(await row('leaving').locator('.hold').textContent()).toBe('');

      // A reload gives `stopped` a rate (Pause, its tokens) and removes `leaving` (disabled): Cloud
      // Tasks' ResumeQueue resumes a DISABLED queue, so its row offers Resume, which runs it.
      await writeFile(yaml, 'queue:\n- name: stopped\n  rate: 2/s\n  bucket_size: 4\n');
      expect((await api('POST', `${own.url}/pushq/reload`, {})).status).toBe(200);
      await expect.poll(() => at('leaving', 'state'), POLL).toBe('disabled');
      expect(await row('leaving').locator('.hold').textContent()).toBe('');
      await row('leaving').getByRole('button', { name: 'Resume' }).click();
      await expect.poll(() => at('leaving', 'state'), POLL).toBe('running');
      await row('leaving').getByRole('button', { name: 'Pause' }).waitFor();
      await expect.poll(() => at('stopped', 'state'), POLL).toBe('running');
      expect(await at('stopped', 'tokens')).toBe('4.0 / 4');
      await row('stopped').getByRole('button', { name: 'Pause' }).waitFor();
      expect(await row('stopped').locator('.hold').textContent()).toBe('');
      expect(pageErrors).toEqual([]);
    } finally {
      await p.close();
      own.child.kill('SIGTERM');
      await own.exited;
    }
  });
});
