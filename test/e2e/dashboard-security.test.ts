/**
 * The dashboard against markup in a task's data, and its login, in Debian's Chromium
 * (playwright-core) against a real PushqService on 127.0.0.1 and a real worker:
 * - `<img src=x onerror=...>` and friends in a task's URL, header values and payload are shown as
 *   text where the dashboard shows them (task list, story panel): no element is made from them,
 *   no script runs, and the Content-Security-Policy is not even needed (no violation is reported).
 * - The policy is the second line: markup injected into the page by hand does not run either.
 * - With a token, the page asks for it once, then works as without.
 *
 * Chromium is required, not optional (as in dashboard.test.ts).
 */
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQueueConfig, requireValidConfig } from '../../src/index.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { PushqService } from '../../src/server/service.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { launchChromium } from '../helpers/chromium.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const TOKEN = 'dashboard-token-0123456789abcdef';

const config = requireValidConfig(parseQueueConfig('queue:\n- name: held\n  rate: 0\n', { file: 'queue.yaml' }));
const newLog = () => new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });

/** Each payload, if it ever ran, would count itself in window.__pwned. */
const MARKUP = [
  `<img src=x onerror="window.__pwned=(window.__pwned||0)+1">`,
  `<script>window.__pwned=(window.__pwned||0)+1</script>`,
  `<svg onload="window.__pwned=(window.__pwned||0)+1"></svg>`,
  `"><iframe srcdoc="<script>parent.__pwned=1</script>">`,
];
const URL_MARKUP = '/x?<img/src=x/onerror=window.__pwned=1>';

let worker: Worker;
let browser: Browser;
const services: PushqService[] = [];

beforeAll(async () => {
  worker = await startWorker();
  browser = await launchChromium('the dashboard test');
});

afterAll(async () => {
  await browser?.close();
  for (const s of services) await s.close(500);
  await worker?.close();
});

async function start(options: { authToken?: string } = {}): Promise<PushqService> {
  const s = await PushqService.start({ config, targets: { default: { scaling: 'automatic', url: worker.url } }, log: newLog(), ...options });
  services.push(s);
  return s;
}

/** What the tests use of a page's globals. */
interface Browserish {
  __violations: string[];
  __pwned?: number;
  document: { addEventListener(type: string, f: (e: any) => void): void; createElement(tag: string): { innerHTML: string }; body: { appendChild(e: unknown): void }; cookie: string };
}

/** A page that records script errors and Content-Security-Policy violations. */
async function openPage(url: string): Promise<{ page: Page; errors: string[]; violations: () => Promise<string[]> }> {
  const page = await browser.newPage();
  page.setDefaultTimeout(EVENT_BOUND_MS);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // (These functions run in the page: the browser's globals, untyped here.)
  await page.addInitScript(() => {
    const w = globalThis as unknown as Browserish;
    w.__violations = [];
    w.document.addEventListener('securitypolicyviolation', (e: { violatedDirective: string; sample: string }) => w.__violations.push(`${e.violatedDirective}: ${e.sample}`));
  });
  await page.goto(url);
  return { page, errors, violations: () => page.evaluate(() => (globalThis as unknown as Browserish).__violations) };
}

const POLL = { timeout: EVENT_BOUND_MS, interval: 100 };

describe('markup in a task is text on the dashboard', () => {
  it('in the URL, header values and payload: shown verbatim, no element made, no script run', async () => {
    const service = await start();
    const api = `${service.url}/v2/projects/p/locations/l/queues/held/tasks`;
    const headers = Object.fromEntries(MARKUP.map((m, i) => [`X-Markup-${i}`, m]));
    const payload = MARKUP.join('\n');
    const r = await fetch(api, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task: { name: 'projects/p/locations/l/queues/held/tasks/marked', appEngineHttpRequest: { relativeUri: URL_MARKUP, headers, body: Buffer.from(payload).toString('base64') } } }),
    });
    expect(r.status, await r.clone().text()).toBe(200);

    const { page, errors, violations } = await openPage(`${service.url}/`);
    await page.locator('#queues tr[data-queue="held"] td.name').click();
    const row = page.locator('#tasks tr[data-task="marked"]');
    await row.waitFor();
    expect(await row.locator('td[data-field="request"]').textContent()).toBe(`POST ${URL_MARKUP}`);

    await row.locator('td[data-field="name"]').click();
    const request = page.locator('#story-request');
    await expect.poll(() => page.locator('#story-payload .payload').textContent(), POLL).toBe(payload);
    expect(await request.locator('.line').textContent()).toBe(`POST ${URL_MARKUP}`);
    expect(await request.locator('.header').allTextContents()).toEqual(MARKUP.map((m, i) => `X-Markup-${i}: ${m}`));

    // Nothing was parsed as markup: the page has no element of these kinds at all.
    expect(await page.locator('img, svg, iframe, main script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as Browserish).__pwned)).toBeUndefined();
    expect(await violations()).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('markup injected into the page by hand does not run: the policy forbids inline script', async () => {
    const service = await start();
    const { page, violations } = await openPage(`${service.url}/`);
    await page.locator('#queues tr[data-queue="held"]').waitFor();
    await page.evaluate((markup) => {
      const { document } = globalThis as unknown as Browserish;
      const div = document.createElement('div');
      div.innerHTML = markup.join('');
      document.body.appendChild(div);
    }, MARKUP);
    await expect.poll(async () => (await violations()).length, POLL).toBeGreaterThan(0);
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (globalThis as unknown as Browserish).__pwned)).toBeUndefined();
    expect((await violations()).every((v) => /^script-src/.test(v))).toBe(true);
    await page.close();
  });
});

describe('the dashboard with --auth-token', () => {
  it('asks for the token once, then works; a wrong token is refused on the page', async () => {
    const service = await start({ authToken: TOKEN });
    const { page, errors } = await openPage(`${service.url}/`);
    await page.locator('#login').waitFor();
    expect(await page.locator('#queues').count()).toBe(0);

    await page.locator('#token').fill('not the token');
    await page.locator('#submit').click();
    await expect.poll(() => page.locator('#login-error .text').textContent(), POLL).toMatch(/not this server's token \(AUTH_REQUIRED\)$/);

    await page.locator('#token').fill(TOKEN);
    await page.locator('#submit').click();
    await page.locator('#queues tr[data-queue="held"]').waitFor();
    await expect.poll(() => page.locator('#conn').textContent(), POLL).toBe('live');
    // Commands work with the session: pause is a POST.
    await page.locator('#queues tr[data-queue="default"]').getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => page.locator('#queues tr[data-queue="default"] td[data-field="state"]').textContent(), POLL).toBe('paused');
    const cookies = await page.context().cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ name: `pushq_session_${service.port}`, httpOnly: true, sameSite: 'Strict' });
    expect(cookies[0]!.value).not.toContain(TOKEN);
    // The script cannot read it.
    expect(await page.evaluate(() => (globalThis as unknown as Browserish).document.cookie)).toBe('');
    expect(errors).toEqual([]);
    await page.close();
  });
});
