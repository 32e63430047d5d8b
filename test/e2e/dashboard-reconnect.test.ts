/**
 * The dashboard when its server is not there, in Debian's Chromium (playwright-core), against the
 * real CLI (`pushq serve --data DIR`, a child process):
 * - the first read of the source (timeline.json) fails: the page says so and reads it again until
 *   it answers, then shows the service (the failure is a network error made by the browser's
 *   request interception on that one read: the page and its scripts came from the server);
 * - the charts' stream drops (the server is stopped): the charts say so, not "live", and the
 *   stream is opened again once the server is back on its port (started again on the same data
 *   directory), the charts advancing again without a reload;
 * - a stream asked for and not answered (held by the browser's request interception: a server or a
 *   network that takes the connection and says nothing) is not "live": the label says it is
 *   connecting, or, after a drop, that it dropped, until the server answers.
 *
 * Chromium is required, not optional (as in dashboard.test.ts).
 */
import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startServe } from '../helpers/serve-process.js';
import { dashboardFixture } from '../helpers/dashboard-fixture.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const POLL = { timeout: 15_000, interval: 100 };

const fx = dashboardFixture('pushq-dashboard-reconnect-', { queueYaml: 'queue:\n- name: orders\n  rate: 5/s\n', worker: 'none', serve: () => serveArgs(), serveStartMs: 30_000 });
const errors: string[] = [];

/** Its data directory, on `port` when given (started again where it was). */
function serveArgs(port?: string): string[] {
  return ['--config', fx.queueYaml, '--data', join(fx.dir, 'data'), ...(port === undefined ? [] : ['--port', port])];
}

async function newPage(): Promise<Page> {
  const page = await fx.browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.setDefaultTimeout(EVENT_BOUND_MS);
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  return page;
}

const queueRows = (page: Page) => page.locator('#queues tbody tr').count();
const alertText = (page: Page) => page.locator('#poll-error').evaluate((e) => (e.classList.contains('shown') ? (e.textContent ?? '') : ''));

describe('the dashboard without its server (pushq serve, Chromium)', () => {
  it('reads its source again when the first read fails, and then shows the service', async () => {
    const page = await newPage();
    let reads = 0;
    // The first read fails; the next ones wait until the test has seen the failure said.
    let release = (): void => {};
    const released = new Promise<void>((r) => (release = r));
    await page.route('**/pushq/timeline.json', async (route) => {
      if (reads++ === 0) return route.abort('connectionrefused');
      await released;
      return route.continue();
    });
    await page.goto(`${fx.serve.url}/`);
    await expect.poll(() => alertText(page), POLL).toMatch(/The dashboard cannot read its source: .*trying again in 1 s/);
    expect(await page.locator('#conn').textContent()).toBe('offline');
    // The read is tried again (without a reload): the queue table comes, the alert goes.
    await expect.poll(() => reads, POLL).toBeGreaterThanOrEqual(2);
    release();
    await expect.poll(() => queueRows(page), POLL).toBe(2);
    await expect.poll(() => alertText(page), POLL).toBe('');
    await expect.poll(() => page.locator('#conn').textContent(), POLL).toBe('live');
    await page.close();
    expect(errors).toEqual([]);
  });

  it('says when the stream of the charts drops, and opens it again once the server is back', async () => {
    const page = await newPage();
    await page.goto(`${fx.serve.url}/`);
    const label = page.locator('#charts-state');
    const updates = async () => Number((await page.locator('#charts').getAttribute('data-updates')) ?? 0);
    await expect.poll(updates, POLL).toBeGreaterThanOrEqual(2);
    expect(await label.textContent()).toBe('live, every 2 s');

    // The server goes away: the charts say so (and not "live").
    const port = new URL(fx.serve.url).port;
    fx.serve.child.kill('SIGTERM');
    await fx.serve.exited;
    await expect.poll(() => label.textContent(), POLL).toMatch(/^disconnected: the stream dropped, reconnecting every 3 s$/);
    expect(await label.getAttribute('data-stream')).toBe('down');
    expect(await label.evaluate((e) => e.classList.contains('bad'))).toBe(true);
    const before = await updates();

    // Back on its port (the same data directory): the stream is opened again, no reload.
    fx.serve = await startServe(serveArgs(port), 30_000);
    await expect.poll(updates, POLL).toBeGreaterThanOrEqual(before + 2);
    expect(await label.textContent()).toBe('live, every 2 s');
    expect(await label.getAttribute('data-stream')).toBe('open');
    expect(await label.evaluate((e) => e.classList.contains('bad'))).toBe(false);
    await page.close();
    expect(errors).toEqual([]);
  });

  it('does not say "live" over a stream the server has not answered: first connecting, and after a drop still disconnected', async () => {
    const page = await newPage();
    // While `gate` is set, each stream request is held (nothing answered) until it is opened.
    let gate: { opened: Promise<void>; open: () => void } | null = null;
    const newGate = () => {
      let open = (): void => {};
      const opened = new Promise<void>((r) => (open = r));
      return { opened, open };
    };
    let held = 0;
    await page.route('**/pushq/series/stream*', async (route) => {
      const g = gate;
      if (g !== null) {
        held++;
        await g.opened;
      }
      await route.continue().catch(() => undefined); // a request the page gave up on meanwhile
    });
    const label = page.locator('#charts-state');
    const updates = async () => Number((await page.locator('#charts').getAttribute('data-updates')) ?? 0);

    gate = newGate();
    await page.goto(`${fx.serve.url}/`);
    await expect.poll(() => held, POLL).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(await label.textContent()).toBe('connecting to the stream…');
    expect(await label.getAttribute('data-stream')).toBe('connecting');
    gate.open();
    gate = null;
    await expect.poll(updates, POLL).toBeGreaterThanOrEqual(1);
    await expect.poll(() => label.textContent(), POLL).toBe('live, every 2 s');

    // The server goes away; the page's next attempt (3 s on) is held: still "disconnected", not "live".
    gate = newGate();
    const heldBefore = held;
    const port = new URL(fx.serve.url).port;
    fx.serve.child.kill('SIGTERM');
    await fx.serve.exited;
    await expect.poll(() => label.textContent(), POLL).toMatch(/^disconnected: the stream dropped/);
    await expect.poll(() => held, POLL).toBeGreaterThan(heldBefore);
    await new Promise((r) => setTimeout(r, 500));
    expect(await label.textContent()).toBe('disconnected: the stream dropped, reconnecting every 3 s');
    expect(await label.getAttribute('data-stream')).toBe('down');

    // The server is back and the attempt goes through: live again.
    fx.serve = await startServe(serveArgs(port), 30_000);
    const before = await updates();
    gate.open();
    gate = null;
    await expect.poll(updates, POLL).toBeGreaterThanOrEqual(before + 1);
    await expect.poll(() => label.textContent(), POLL).toBe('live, every 2 s');
    await page.close();
    expect(errors).toEqual([]);
  });
});
