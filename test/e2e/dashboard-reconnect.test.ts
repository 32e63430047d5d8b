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
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { launchChromium } from '../helpers/chromium.js';

const POLL = { timeout: 15_000, interval: 100 };
const QUEUE_YAML = 'queue:\n- name: orders\n  rate: 5/s\n';

let dir: string;
let serve: ServeProcess;
let browser: Browser;
const errors: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-dashboard-reconnect-'));
  await writeFile(join(dir, 'queue.yaml'), QUEUE_YAML);
  serve = await startServe(serveArgs(), 30_000);
  browser = await launchChromium('the dashboard test');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  if (dir) await rm(dir, { recursive: true, force: true });
});

function serveArgs(port?: string): string[] {
  return ['--config', join(dir, 'queue.yaml'), '--data', join(dir, 'data'), ...(port === undefined ? [] : ['--port', port])];
}

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.setDefaultTimeout(10_000);
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
    await page.goto(`${serve.url}/`);
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
    await page.goto(`${serve.url}/`);
    const label = page.locator('#charts-state');
    const updates = async () => Number((await page.locator('#charts').getAttribute('data-updates')) ?? 0);
    await expect.poll(updates, POLL).toBeGreaterThanOrEqual(2);
    expect(await label.textContent()).toBe('live, every 2 s');

    // The server goes away: the charts say so (and not "live").
    const port = new URL(serve.url).port;
    serve.child.kill('SIGTERM');
    await serve.exited;
    await expect.poll(() => label.textContent(), POLL).toMatch(/^disconnected: the stream dropped, reconnecting every 3 s$/);
    expect(await label.getAttribute('data-stream')).toBe('down');
    expect(await label.evaluate((e) => e.classList.contains('bad'))).toBe(true);
    const before = await updates();

    // Back on its port (the same data directory): the stream is opened again, no reload.
    serve = await startServe(serveArgs(port), 30_000);
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
    await page.goto(`${serve.url}/`);
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
    const port = new URL(serve.url).port;
    serve.child.kill('SIGTERM');
    await serve.exited;
    await expect.poll(() => label.textContent(), POLL).toMatch(/^disconnected: the stream dropped/);
    await expect.poll(() => held, POLL).toBeGreaterThan(heldBefore);
    await new Promise((r) => setTimeout(r, 500));
    expect(await label.textContent()).toBe('disconnected: the stream dropped, reconnecting every 3 s');
    expect(await label.getAttribute('data-stream')).toBe('down');

    // The server is back and the attempt goes through: live again.
    serve = await startServe(serveArgs(port), 30_000);
    const before = await updates();
    gate.open();
    gate = null;
    await expect.poll(updates, POLL).toBeGreaterThanOrEqual(before + 1);
    await expect.poll(() => label.textContent(), POLL).toBe('live, every 2 s');
    await page.close();
    expect(errors).toEqual([]);
  });
});
