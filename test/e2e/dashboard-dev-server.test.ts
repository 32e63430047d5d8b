/**
 * The dashboard of `pushq serve --dev-server`, in Debian's Chromium (playwright-core), against the
 * real CLI: in dev-server mode rate and bucket_size are not applied (docs/serve.md, Dev-server
 * mode), so the queue table shows no token count, which would mean nothing there, but "—" with a
 * title saying why; `dashboard.json` says the mode (`devServer`). Before, the table showed each
 * queue's bucket filling (5.0 / 5) as if it held tasks back.
 *
 * Chromium is required, not optional (as in dashboard.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { api } from '../helpers/serve-process.js';
import { dashboardFixture, serveInMemory } from '../helpers/dashboard-fixture.js';

const POLL = { timeout: 5000, interval: 100 };

const fx = dashboardFixture('pushq-dashboard-dev-server-', {
  queueYaml: 'queue:\n- name: fast\n  rate: 5/s\n  bucket_size: 5\n- name: held\n  rate: 0\n',
  serve: serveInMemory('--dev-server'),
});

describe('the dashboard in dev-server mode (pushq serve --dev-server, Chromium)', () => {
  it('shows that tokens do not apply, for every queue, with a title saying why', async () => {
    const figures = await api('GET', `${fx.serve.url}/pushq/dashboard.json`);
    expect(figures.json.devServer).toBe(true);
    const page = await fx.browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${fx.serve.url}/`);
      for (const queue of ['fast', 'held']) {
        const tokens = page.locator(`#queues tr[data-queue="${queue}"] td[data-field="tokens"]`);
        await expect.poll(() => tokens.textContent(), POLL).toBe('—');
        expect(await tokens.getAttribute('title')).toBe('Dev-server mode: rate and bucket_size are not applied (one task at a time for the whole app), so tokens do not apply');
      }
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
