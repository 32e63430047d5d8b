/**
 * The dashboard of `pushq serve --dev-server`, in Debian's Chromium (playwright-core), against the
 * real CLI: in dev-server mode rate, bucket_size and max_concurrent_requests are not applied
 * (docs/serve.md, Dev-server mode: one task at a time for the whole app), so the queue table shows
 * no token count, which would mean nothing there, but "—" with a title saying why; `dashboard.json`
 * says the mode (`devServer`). Before, the table showed each queue's bucket filling (5.0 / 5) as if
 * it held tasks back. Nor does it show the rate and the cap of in flight as if they applied ("—",
 * the configured values in the title), nor the charts a rate line, a cap line or tokens: their
 * titles say the mode.
 *
 * The mode records a pause and does not apply it (docs/serve.md): the rows offer no Pause, whose
 * click seemed to work (the badge read "paused") while the queue went on being dispatched, and a
 * queue paused through the API says the pause is not applied. The wait by cause draws only the
 * causes the mode can hold a task by (before: tokens, paused and transport too, always empty).
 *
 * Chromium is required, not optional (as in dashboard.test.ts).
 */
import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { api } from '../helpers/serve-process.js';
import { dashboardFixture, serveInMemory } from '../helpers/dashboard-fixture.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const POLL = { timeout: EVENT_BOUND_MS, interval: 100 };

const fx = dashboardFixture('pushq-dashboard-dev-server-', {
  queueYaml: 'queue:\n- name: fast\n  rate: 5/s\n  bucket_size: 5\n  max_concurrent_requests: 2\n- name: held\n  rate: 0\n',
  serve: serveInMemory('--dev-server'),
  // Tasks under /slow/ are answered after a while, so that the next one waits for the app's one at a time.
  worker: (r) => (r.url.startsWith('/slow/') ? { status: 200, delayMs: 300 } : 200),
});

/** Opens the dashboard in a new page, runs `check` on it, and checks that no script error came meanwhile; the page is closed however it ends. */
async function onDashboard(check: (page: Page) => Promise<void>): Promise<void> {
  const page = await fx.browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`${fx.serve.url}/`);
    await check(page);
    expect(errors).toEqual([]);
  } finally {
    await page.close();
  }
}

describe('the dashboard in dev-server mode (pushq serve --dev-server, Chromium)', () => {
  it('shows that tokens do not apply, for every queue, with a title saying why', async () => {
    const figures = await api('GET', `${fx.serve.url}/pushq/dashboard.json`);
    expect(figures.json.devServer).toBe(true);
    // The causes the mode can hold a task by: the one list (series-types.ts), which the wait chart draws.
    expect(figures.json.holdCauses).toEqual(['concurrency', 'disabled', 'not_running']);
    await onDashboard(async (page) => {
      for (const queue of ['fast', 'held']) {
        const tokens = page.locator(`#queues tr[data-queue="${queue}"] td[data-field="tokens"]`);
        await expect.poll(() => tokens.textContent(), POLL).toBe('—');
        expect(await tokens.getAttribute('title')).toBe('Dev-server mode: rate and bucket_size are not applied (one task at a time for the whole app), so tokens do not apply');
      }
    });
  });

  it('shows rate and the cap of in flight as not applied, with the configured values in their titles', async () => {
    await onDashboard(async (page) => {
      const cell = (queue: string, field: string) => page.locator(`#queues tr[data-queue="${queue}"] td[data-field="${field}"]`);
      await expect.poll(() => cell('fast', 'rate').textContent(), POLL).toBe('—');
      expect(await cell('fast', 'rate').getAttribute('title')).toBe('Dev-server mode: rate is not applied (queue.yaml: 5/s, max burst 5); one task at a time for the whole app');
      expect(await cell('fast', 'inFlight').textContent()).toBe('0 / —');
      expect(await cell('fast', 'inFlight').getAttribute('title')).toBe('Dev-server mode: max_concurrent_requests (2) is not applied; one task at a time for the whole app');
      expect(await cell('held', 'rate').textContent()).toBe('—');
    });
  });

  it('draws no rate line, cap line or tokens on the charts, and their titles say why', async () => {
    await onDashboard(async (page) => {
      // The queue with a rate, a bucket and a cap of 2 (a cap line is drawn when it is in scale).
      await expect.poll(() => page.locator('#chart-queue option[value="fast"]').count(), POLL).toBe(1);
      await page.locator('#chart-queue').selectOption('fast');
      const chart = (key: string) => page.locator(`#charts figure[data-chart="${key}"]`);
      await expect.poll(() => chart('dispatch').locator('figcaption').textContent(), POLL).toBe('Dispatch rate (per second; dev-server mode: the configured rate is not applied)');
      expect(await chart('dispatch').locator('.u-legend').innerText()).not.toContain('rate (queue.yaml)');
      expect(await chart('tokens').locator('.u-legend').count()).toBe(0);
      expect(await chart('tokens').locator('p.note').textContent()).toBe('Dev-server mode: rate and bucket_size are not applied (one task at a time for the whole app), so there are no tokens to show.');
      expect(await chart('in_flight').locator('figcaption').textContent()).toBe('In flight (dev-server mode: one task at a time for the whole app; max_concurrent_requests is not applied)');
      expect(await chart('in_flight').locator('.u-legend').innerText()).not.toContain('max_concurrent_requests');
    });
  });

  it('offers no Pause, saying a pause is not applied; a queue paused through the API reads so, is dispatched, and offers Resume, which clears the pause', async () => {
    await onDashboard(async (page) => {
      const row = (queue: string) => page.locator(`#queues tr[data-queue="${queue}"]`);
      const toggle = (queue: string) => row(queue).locator('td.actions button.act:not(.danger)');
      const state = (queue: string) => row(queue).locator('td[data-field="state"]');
      // `held` (rate 0) runs in this mode: it is offered no Pause either.
      for (const queue of ['fast', 'held']) {
        await expect.poll(() => row(queue).locator('.hold').textContent(), POLL).toBe('pause not applied');
        expect(await row(queue).locator('.hold').getAttribute('title')).toBe(
          'Dev-server mode ignores a pause, as dev_appserver did: a paused queue is dispatched as any other (one task at a time for the whole app). ' +
            'The API still records a pause (the queue then reads PAUSED); it holds tasks only if this data directory is started again without --dev-server.',
        );
        expect(await toggle(queue).isHidden()).toBe(true);
        expect(await state(queue).textContent()).toBe('running');
      }
      // The API records and answers a pause (docs/serve.md, Dev-server mode).
      expect((await api('POST', `${fx.serve.api}/fast:pause`, {})).json.state).toBe('PAUSED');
      await expect.poll(() => state('fast').textContent(), POLL).toBe('paused (not applied)');
      expect(await state('fast').getAttribute('title')).toBe('Paused by a command, but dev-server mode does not apply a pause: this queue is dispatched as any other. Resume clears the pause.');
      expect(await row('fast').locator('.hold').textContent()).toBe('');
      expect(await toggle('fast').textContent()).toBe('Resume');
      expect(await toggle('fast').getAttribute('title')).toBe('Clear the pause (not applied in dev-server mode: the queue is dispatched either way)');
      // What the page says is so: the paused queue is dispatched.
      expect((await api('POST', `${fx.serve.api}/fast/tasks`, { task: { appEngineHttpRequest: { relativeUri: '/while-paused' } } })).status).toBe(200);
      await fx.worker.waitFor((rs) => rs.some((r) => r.url === '/while-paused' && r.answered === 200), EVENT_BOUND_MS, 'the task of the paused queue');
      await toggle('fast').click();
      await expect.poll(() => state('fast').textContent(), POLL).toBe('running');
      expect((await api('GET', `${fx.serve.api}/fast`)).json.state).toBe('RUNNING');
      expect(await row('fast').locator('.hold').textContent()).toBe('pause not applied');
      expect(await toggle('fast').isHidden()).toBe(true);
      expect(await page.locator('#action-error').isVisible()).toBe(false);
    });
  });

  it('draws the wait by cause for the causes the mode can hold a task by only, its title saying what concurrency is there', async () => {
    // Three slow tasks at once: each waits for the one before it (the app's one at a time).
    const created = await Promise.all([0, 1, 2].map((i) => api('POST', `${fx.serve.api}/fast/tasks`, { task: { appEngineHttpRequest: { relativeUri: `/slow/${i}` } } })));
    expect(created.map((r) => r.status)).toEqual([200, 200, 200]);
    await fx.worker.waitFor((rs) => rs.filter((r) => r.url.startsWith('/slow/') && r.answered === 200).length === 3, EVENT_BOUND_MS, 'the three slow tasks');
    await onDashboard(async (page) => {
      const wait = page.locator('#charts figure[data-chart="wait_cause"]');
      await expect.poll(() => wait.getAttribute('data-categories'), POLL).toBe('concurrency disabled not_running');
      expect(await wait.locator('figcaption').textContent()).toBe(
        'Wait by cause (ready-task-seconds, so far; dev-server mode: a ready task waits for the one task at a time of the whole app, counted as concurrency, never for tokens or a pause)',
      );
      const figures = await api('GET', `${fx.serve.url}/pushq/dashboard.json`);
      expect(figures.json.summary.fast.stats.wait_by_cause_task_seconds.concurrency).toBeGreaterThan(0);
    });
  });

  it("tells a task's story with what held it in this mode: the app's one task at a time, not concurrency", async () => {
    // Two slow tasks at once in two queues: the second waits for the first, though its own queue
    // (`held`: rate 0, cap 1000) has nothing in flight and applies no limit in this mode.
    const first = await api('POST', `${fx.serve.api}/fast/tasks`, { task: { appEngineHttpRequest: { relativeUri: '/slow/story-first' } } });
    const second = await api('POST', `${fx.serve.api}/held/tasks`, { task: { appEngineHttpRequest: { relativeUri: '/slow/story-second' } } });
    expect([first.status, second.status]).toEqual([200, 200]);
    await fx.worker.waitFor((rs) => rs.some((r) => r.url === '/slow/story-second' && r.answered === 200), 10_000, 'the second slow task');
    const name = String(second.json.name).split('/').pop()!;
    const page = await fx.browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${fx.serve.url}/?queue=held&task=held/${encodeURIComponent(name)}`);
      const waited = page.locator('#story-attempts tr.attempt[data-attempt="1"] td[data-field="waited"]');
      await expect.poll(() => waited.textContent(), POLL).toMatch(/^[\d.]+\ss \(the app's one task at a time \(dev-server mode\) [\d.]+\ss\)$/);
      expect(await waited.textContent()).not.toContain('concurrency');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
