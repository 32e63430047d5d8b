/**
 * The dashboard of a cluster in a real browser: two `pushq serve --cluster` nodes on the real
 * PostgreSQL, Debian's Chromium driven by playwright-core. One node's page shows the queues of
 * both nodes, each with the node that owns it and its figures; a pause clicked there for a queue
 * the other node owns takes effect at the owner; the charts of that queue come from its owner; the
 * story of one of its tasks opens. The nodes run with --auth-token and the browser logs in on one
 * node's page: its session carries to the queues' services and to the other node.
 *
 * Time travel on the cluster's axis (docs/dashboard.md, "In cluster mode"): the timeline's controls
 * are shown; after an instant S, a queue is added by a reload (its stream begins after S) and tasks
 * are added to the queue the other node owns. A shared URL `/?at=S` keeps `at` and shows the queue
 * table as it was at S (the late queue absent; each row's counts those of
 * `GET /pushq/dashboard.json?at=S` from the same node, the other node's queue's differing from
 * now's); the slider and the step button move the cursor, the URL's `at` and the figures with it;
 * "Live" goes back to now. No console error. The screenshot is kept in test-artifacts/.
 *
 * Chromium is required, not optional: without it this file fails with the command that installs
 * it (a skipped test would hide that the page went untested).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/serve-process.js';
import { startWorker } from '../helpers/worker.js';
import { ownerFor } from '../../src/cluster/rendezvous.js';
import { clusterFixture, queueYaml, startNodesEachOwning, waitUntil, writeQueueYaml, type Node } from '../cluster/cluster-harness.js';
import { launchChromium } from '../helpers/chromium.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const ARTIFACTS = join(ROOT, 'test-artifacts');
const QUEUES = Array.from({ length: 7 }, (_, i) => `q${i}`);
const ALL = ['default', ...QUEUES];
/** Added by a reload after the instant the page is later opened at: its stream begins after it. */
const LATE = `q${QUEUES.length}`;
const TOKEN = 'cluster-dashboard-e2e-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** The queues a node owns now (its /pushq/health, with the token). */
async function owns(node: Node): Promise<string[]> {
  const res = await fetch(`${node.proc.url}/pushq/health`, { headers: AUTH });
  return ((await res.json()) as { owns: string[] }).owns;
}

/** Placement settled: each node owns what rendezvous hashing gives it of `all`. */
async function settled(two: readonly Node[], all: readonly string[]): Promise<boolean> {
  try {
    const held = await Promise.all(two.map(owns));
    return two.every((n, i) => held[i]!.join() === all.filter((q) => ownerFor(q, two.map((x) => x.id)) === n.id).sort().join());
  } catch {
    return false;
  }
}

/**
 * Creates a task through `node`, as a Cloud Tasks client does: an UNAVAILABLE answer (a queue
 * changing hands: under CI load a lease renewal can come late, docs/cluster.md) is retried, and a
 * retry that finds the task already there (its first try was written after all) is its success.
 */
async function create(node: Node, queue: string, name: string, delayMs = 0): Promise<void> {
  const body = JSON.stringify({ task: { name: `projects/p/locations/l/queues/${queue}/tasks/${name}`, ...(delayMs > 0 ? { scheduleTime: new Date(Date.now() + delayMs).toISOString() } : {}), appEngineHttpRequest: { relativeUri: `/t/${queue}/${name}` } } });
  const until = Date.now() + 15_000;
  for (let retried = false; ; retried = true) {
    const res = await fetch(`${node.api}/${queue}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json', ...AUTH }, body });
    const text = await res.text();
    if (res.status === 200 || (retried && res.status === 409)) return;
    if (res.status !== 503 || Date.now() > until) expect(res.status, text).toBe(200);
    await sleep(250);
  }
}

interface Figures {
  now: string;
  at: number | null;
  atSeconds: number | null;
  queues: { name: string; owner: string | null; tasks: Record<string, number> }[];
}

/** `GET /pushq/dashboard.json` from `node`, now or at `at` (seconds on the cluster's axis). */
async function figures(node: Node, at: string | null = null): Promise<Figures> {
  const res = await fetch(`${node.proc.url}/pushq/dashboard.json${at === null ? '' : `?at=${at}`}`, { headers: AUTH });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as Figures;
}

const POLL = { timeout: EVENT_BOUND_MS, interval: 100 };
const COUNTS = ['pending', 'dispatching', 'backoff', 'succeeded', 'gaveUp', 'deleted'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const urlAt = (page: Page): string | null => new URL(page.url()).searchParams.get('at');

/** The queue table as the page shows it: each row's queue and its counts, in order. */
async function tableShown(page: Page): Promise<{ name: string; tasks: Record<string, number> }[]> {
  return page.locator('#queues tbody tr').evaluateAll((trs, fields) =>
    trs.map((tr) => ({
      name: tr.getAttribute('data-queue') ?? '',
      tasks: Object.fromEntries(fields.map((f) => [f, Number(tr.querySelector(`td[data-field="${f}"]`)?.textContent)])),
    })), COUNTS);
}

/**
 * Waits for the page to show the instant `at` (the URL's), then checks its queue table against
 * `dashboard.json?at=` from `node` (the node the page was opened on): the same queues in the same
 * order, each with the same counts. Returns those figures.
 */
async function expectShownAt(page: Page, node: Node, at: string): Promise<Figures> {
  expect(urlAt(page)).toBe(at);
  await expect.poll(async () => Math.abs(Number(await page.locator('#queues').getAttribute('data-at')) - Number(at)), POLL).toBeLessThan(1e-6);
  const want = await figures(node, at);
  expect(want.at).toBe(Number(at));
  expect(await tableShown(page), `the queue table at ${at}`).toEqual(want.queues.map((q) => ({ name: q.name, tasks: Object.fromEntries(COUNTS.map((f) => [f, q.tasks[f]])) })));
  expect(await page.locator('#conn').textContent()).toBe('past');
  expect(await page.locator('#tl-at').textContent()).toMatch(/ after the first event$/);
  return want;
}

/**
 * Sets the timeline's slider to `seconds` as a user's drag does (an input event); returns the
 * URL's `at` once it moved there (the slider's step rounds the value, the cursor rounds it to the µs).
 */
async function slideTo(page: Page, seconds: number): Promise<string> {
  const was = urlAt(page);
  const took = await page.locator('#tl-slider').evaluate((el, v) => {
    const input = el as unknown as { value: string; dispatchEvent(e: Event): boolean };
    input.value = String(v);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    return input.value;
  }, seconds);
  await expect.poll(() => urlAt(page), POLL).not.toBe(was);
  const at = urlAt(page)!;
  expect(Math.abs(Number(at) - Number(took))).toBeLessThan(1e-6);
  return at;
}

const fx = clusterFixture('pushq-dashboard-cluster-');
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
});

describe('the dashboard on a cluster node, in Chromium', () => {
  it('shows the queues of both nodes with their owners, pauses a queue the other node owns, its charts and a story; travels in time on the cluster\'s axis; no console error', async () => {
    const url = await fx.pg.database();
    const w = await startWorker(() => 200);
    fx.workers.push(w);
    const yaml = await writeQueueYaml(fx.dir, queueYaml(QUEUES.length, 50, 10));
    const args = ['--config', yaml, '--store', url, '--lease-seconds', '4', '--target', `default=${w.url}`, '--auth-token', TOKEN];
    // Both nodes own queues (a node left none by its random id is replaced).
    const [a, b] = (await startNodesEachOwning(fx.nodes, args, ALL)) as [Node, Node];
    await waitUntil('the queues spread over the 2 nodes', () => settled([a, b], ALL), 20_000);
    const ownsB = await owns(b);
    const ownsA = await owns(a);
    expect(ownsA.length > 0 && ownsB.length > 0, `both nodes own queues: ${ownsA} / ${ownsB}`).toBe(true);
    const remote = ownsB.find((q) => q !== 'default') ?? ownsB[0]!;
    // Each queue: one task delivered at once, two an hour from now; through node A.
    for (const q of QUEUES) for (let j = 0; j < 3; j++) await create(a, q, `${q}-${j}`, j > 0 ? 3_600_000 : 0);
    await w.waitFor((r) => r.length >= QUEUES.length, 20_000, 'the immediate tasks delivered');

    browser = await launchChromium('this test');
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(EVENT_BOUND_MS);
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${a.proc.url}/`);
    // The login page: the token once; the session is node A's port's cookie.
    await page.locator('#token').fill(TOKEN);
    await page.locator('#submit').click();
    await page.locator('#queues tbody tr').first().waitFor();
    // The login page itself is answered 401 (by design), which Chromium logs; nothing else may be.
    expect(errors).toEqual(['console: Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
    errors.length = 0;

    // Every queue of the cluster, each row naming the node that owns it: both nodes appear.
    const row = (q: string) => page.locator(`#queues tr[data-queue="${q}"]`);
    await expect.poll(() => page.locator('#queues tbody tr').count(), { timeout: EVENT_BOUND_MS }).toBe(ALL.length);
    for (const q of ALL) {
      const owner = ownsB.includes(q) ? b.id : a.id;
      await expect.poll(() => row(q).locator('.owner').textContent(), { timeout: EVENT_BOUND_MS }).toBe(`on ${owner}`);
    }
    await expect.poll(() => row(remote).locator('[data-field="succeeded"]').textContent(), { timeout: EVENT_BOUND_MS }).toBe('1');
    expect(await row(remote).locator('[data-field="pending"]').textContent()).toBe('2');
    expect(await page.locator('#origin').textContent()).toContain(`cluster node ${a.id}`);
    // The time-travel controls, on the page of node A (which does not own `remote`).
    expect(await page.locator('body').getAttribute('data-time-travel')).toBe('on');
    for (const id of ['tl-slider', 'tl-back', 'tl-fwd', 'tl-end']) expect(await page.locator(`#${id}`).isVisible(), id).toBe(true);
    expect(await page.locator('#conn').textContent()).toBe('live');

    // Pause, clicked on node A's page, for a queue node B owns: B's queue is paused. On a loaded
    // machine (a full test run) a lease renewal can come late and the queue change hands while the
    // command travels: the page then says the owner was unavailable (QUEUE_OWNER_…), and the user
    // clicks again, as a Cloud Tasks client retries UNAVAILABLE. Any other alert fails the test.
    const stateOnB = async () => ((await (await fetch(`${b.api}/${remote}`, { headers: AUTH })).json()) as { state: string }).state;
    for (let click = 1; ; click++) {
      await row(remote).locator('button', { hasText: 'Pause' }).click();
      const deadline = Date.now() + EVENT_BOUND_MS;
      let alert = '';
      while (Date.now() < deadline && (await stateOnB()) !== 'PAUSED') {
        alert = (await page.locator('#action-error').isVisible()) ? ((await page.locator('#action-error .text').textContent()) ?? '') : '';
        if (alert !== '') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      if ((await stateOnB()) === 'PAUSED') break;
      expect(alert, `Pause ${remote} (click ${click}) did not pause it`).toMatch(/QUEUE_OWNER_(UNAVAILABLE|UNKNOWN)/);
      expect(click, `Pause ${remote}: the owner was unavailable ${click} times: ${alert}`).toBeLessThan(3);
      await page.locator('#action-error button').click();
      await expect.poll(() => row(remote).locator('button', { hasText: 'Pause' }).isVisible(), { timeout: 20_000 }).toBe(true);
    }
    expect(errors.filter((e) => !/503/.test(e))).toEqual([]);
    errors.length = 0;
    await expect.poll(() => row(remote).locator('[data-field="state"]').textContent(), { timeout: EVENT_BOUND_MS }).toBe('paused');

    // The queue's charts (pushed by node A from B's series) and its tasks.
    await row(remote).locator('td.name').click();
    await expect.poll(() => page.locator('#chart-queue').inputValue()).toBe(remote);
    await expect.poll(() => page.locator('#charts figure[data-chart="backlog"]').count(), { timeout: EVENT_BOUND_MS }).toBe(1);
    await expect.poll(() => page.locator('#tasks tbody tr').count(), { timeout: EVENT_BOUND_MS }).toBe(2);
    // A task's story from its owner.
    await page.locator('#tasks tbody tr').first().click();
    await expect.poll(() => page.locator('#story-task').textContent(), { timeout: EVENT_BOUND_MS }).toBe(`${remote}-1`);
    expect(await page.locator('#story-error').isVisible()).toBe(false);

    // The instant S: everything above done, nothing below begun (0.6 s either side).
    const before = (await figures(a)).atSeconds!;
    await sleep(600);
    const at = String(Math.round((before + 0.3) * 1000) / 1000);
    await sleep(600);
    // After S: a queue added by a reload of both nodes (its stream begins now), and a task in it. The reload
    // resumes `remote` (a queue.yaml upload resumes a paused queue whose rate is above 0: docs/reference.md);
    // two more tasks in it, one delivered at once, one an hour from now.
    await writeQueueYaml(fx.dir, queueYaml(QUEUES.length + 1, 50, 10));
    for (const n of [a, b]) {
      const res = await fetch(`${n.proc.url}/pushq/reload`, { method: 'POST', headers: { 'content-type': 'application/json', ...AUTH }, body: '{}' });
      expect(res.status, await res.text()).toBe(200);
    }
    const ALL_NOW = [...ALL, LATE];
    await waitUntil('the late queue placed', () => settled([a, b], ALL_NOW), 20_000);
    await create(a, LATE, `${LATE}-0`);
    await create(a, remote, `${remote}-later-0`);
    await create(a, remote, `${remote}-later-1`, 3_600_000);
    await w.waitFor((r) => [LATE, remote].every((q) => r.some((x) => x.url === `/t/${q}/${q === LATE ? `${LATE}-0` : `${remote}-later-0`}`)), 20_000, 'the tasks added after S delivered');
    // The worker has the request before its owner logs the success: wait for the figures now to say so.
    await expect.poll(async () => (await figures(a)).queues.find((q) => q.name === remote)?.tasks['succeeded'], POLL).toBe(2);
    const now = await figures(a);
    expect(now.queues.map((q) => q.name)).toEqual(ALL_NOW);

    // A shared URL with S: `at` stays, no alert, the queue table as it was at S.
    await page.goto(`${a.proc.url}/?at=${at}`);
    const atS = await expectShownAt(page, a, at);
    expect(await page.locator('#action-error.shown').count()).toBe(0);
    // The same instant as the API shows times (dashboard.json's `now` at S, RFC 3339 to the µs): the
    // cluster reads it (one parser), the page shows S, its URL in seconds on the cluster's axis.
    await page.goto(`${a.proc.url}/?at=${atS.now}`);
    await expect.poll(() => urlAt(page), POLL).toBe(at);
    await expectShownAt(page, a, at);
    expect(await page.locator('#at-error.shown').count()).toBe(0);
    expect(atS.queues.map((q) => q.name), 'the late queue had not begun at S').toEqual(ALL);
    expect(await page.locator(`#queues tr[data-queue="${LATE}"]`).count()).toBe(0);
    const remoteAt = (f: Figures) => f.queues.find((q) => q.name === remote)!;
    expect(remoteAt(atS).owner).toBe(b.id);
    expect(remoteAt(atS).tasks).toMatchObject({ pending: 2, succeeded: 1 });
    expect(remoteAt(now).tasks).toMatchObject({ pending: 3, succeeded: 2 });
    expect(await row(remote).locator('[data-field="pending"]').textContent()).toBe('2');
    expect(await row(remote).locator('[data-field="state"]').textContent()).toBe('paused');
    // No queue command at an instant of the past: its Resume would follow S's state, not now's.
    expect(await row(remote).locator('td.actions').isVisible()).toBe(false);
    expect(await page.locator('#queues th.now-only').isVisible()).toBe(false);
    // The task list at S: the live tasks then (from every owner), not those added after.
    const listAt = async (): Promise<string[]> => (await page.locator('#tasks tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-task') ?? ''))).sort();
    await expect.poll(listAt, POLL).toEqual(QUEUES.flatMap((q) => [`${q}-1`, `${q}-2`]).sort());

    // The slider to the end of the span: the late queue and the tasks added after S are there.
    const end = await page.locator('#tl-slider').getAttribute('max');
    const atEnd = await slideTo(page, Number(end));
    expect(atEnd).not.toBe(at);
    const figuresEnd = await expectShownAt(page, a, atEnd);
    expect(figuresEnd.queues.map((q) => q.name)).toEqual(ALL_NOW);
    expect(remoteAt(figuresEnd).tasks).toMatchObject({ pending: 3, succeeded: 2 });
    expect(await row(remote).locator('[data-field="state"]').textContent()).toBe('running');
    await expect.poll(listAt, POLL).toContain(`${remote}-later-1`);
    // One step back: the URL's `at` and the figures one interval earlier.
    await page.locator('#tl-back').click();
    await expect.poll(() => Number(urlAt(page)), POLL).toBeLessThan(Number(atEnd));
    await expectShownAt(page, a, urlAt(page)!);
    // The slider back to S: the late queue's row goes, the counts are S's again.
    const atBack = await slideTo(page, Number(at));
    expect(Math.abs(Number(atBack) - Number(at))).toBeLessThan(0.1);
    const figuresBack = await expectShownAt(page, a, atBack);
    expect(figuresBack.queues.map((q) => q.name)).toEqual(ALL);
    expect(remoteAt(figuresBack).tasks).toEqual(remoteAt(atS).tasks);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-cluster-at.png'), fullPage: true });

    // "Live": now again, `at` dropped from the URL, the late queue back.
    await page.locator('#tl-end').click();
    await expect.poll(() => urlAt(page), POLL).toBe(null);
    await expect.poll(() => page.locator('#conn').textContent(), POLL).toBe('live');
    await expect.poll(() => page.locator('#queues tbody tr').count(), POLL).toBe(ALL_NOW.length);
    expect(await row(remote).locator('[data-field="succeeded"]').textContent()).toBe('2');
    // Following now again: the queue commands are back, the remote queue offering Pause (it runs now).
    expect(await row(remote).locator('td.actions').isVisible()).toBe(true);
    expect(await row(remote).locator('td.actions button', { hasText: 'Pause' }).isVisible()).toBe(true);

    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-cluster.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 90_000);
});
