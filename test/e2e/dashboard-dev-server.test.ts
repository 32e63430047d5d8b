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
 * Chromium is required, not optional (as in dashboard.test.ts).
 */
import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { api } from '../helpers/serve-process.js';
import { dashboardFixture, serveInMemory } from '../helpers/dashboard-fixture.js';

const POLL = { timeout: 5000, interval: 100 };

const fx = dashboardFixture('pushq-dashboard-dev-server-', {
  queueYaml: 'queue:\n- name: fast\n  rate: 5/s\n  bucket_size: 5\n  max_concurrent_requests: 2\n- name: held\n  rate: 0\n',
  serve: serveInMemory('--dev-server'),
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
});
