/**
 * The dashboard of a cluster in a real browser: two `pushq serve --cluster` nodes on the real
 * PostgreSQL, Debian's Chromium driven by playwright-core. One node's page shows the queues of
 * both nodes, each with the node that owns it and its figures; a pause clicked there for a queue
 * the other node owns takes effect at the owner; the charts of that queue come from its owner; the
 * story of one of its tasks opens. The nodes run with --auth-token and the browser logs in on one
 * node's page: its session carries to the queues' services and to the other node. No console
 * error. The screenshot is kept in test-artifacts/.
 *
 * Chromium is required, not optional: without it this file fails with the command that installs
 * it (a skipped test would hide that the page went untested).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/serve-process.js';
import { startWorker } from '../helpers/worker.js';
import { ownerFor } from '../../src/cluster/rendezvous.js';
import { clusterFixture, queueYaml, startNode, waitUntil, writeQueueYaml, type Node } from '../cluster/cluster-harness.js';

const CHROMIUM = process.env['PUSHQ_CHROMIUM'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = join(ROOT, 'test-artifacts');
const QUEUES = Array.from({ length: 7 }, (_, i) => `q${i}`);
const ALL = ['default', ...QUEUES];
const TOKEN = 'cluster-dashboard-e2e-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** The queues a node owns now (its /pushq/health, with the token). */
async function owns(node: Node): Promise<string[]> {
  const res = await fetch(`${node.proc.url}/pushq/health`, { headers: AUTH });
  return ((await res.json()) as { owns: string[] }).owns;
}

/** Placement settled: each node owns what rendezvous hashing gives it. */
async function settled(two: readonly Node[]): Promise<boolean> {
  try {
    const held = await Promise.all(two.map(owns));
    return two.every((n, i) => held[i]!.join() === ALL.filter((q) => ownerFor(q, two.map((x) => x.id)) === n.id).sort().join());
  } catch {
    return false;
  }
}

const fx = clusterFixture('pushq-dashboard-cluster-');
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
});

describe('the dashboard on a cluster node, in Chromium', () => {
  it('shows the queues of both nodes with their owners, pauses a queue the other node owns, its charts and a story; no console error', async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`this test drives a real Chromium, and there is none at ${CHROMIUM}.\nInstall it: apt-get install chromium   (Debian/Ubuntu, as root; or set PUSHQ_CHROMIUM to its path)`);
    }
    const url = await fx.pg.database();
    const w = await startWorker(() => 200);
    fx.workers.push(w);
    const yaml = await writeQueueYaml(fx.dir, queueYaml(QUEUES.length, 50, 10));
    const args = ['--config', yaml, '--store', url, '--lease-seconds', '2', '--target', `default=${w.url}`, '--auth-token', TOKEN];
    for (let i = 0; i < 2; i++) fx.nodes.push(await startNode(args));
    const [a, b] = fx.nodes as [Node, Node];
    await waitUntil('the queues spread over the 2 nodes', () => settled([a, b]), 20_000);
    const ownsB = await owns(b);
    const ownsA = await owns(a);
    expect(ownsA.length > 0 && ownsB.length > 0, `both nodes own queues: ${ownsA} / ${ownsB}`).toBe(true);
    const remote = ownsB.find((q) => q !== 'default') ?? ownsB[0]!;
    // Each queue: one task delivered at once, two an hour from now; through node A.
    for (const q of QUEUES) {
      for (let j = 0; j < 3; j++) {
        const res = await fetch(`${a.api}/${q}/tasks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...AUTH },
          body: JSON.stringify({ task: { name: `projects/p/locations/l/queues/${q}/tasks/${q}-${j}`, ...(j > 0 ? { scheduleTime: new Date(Date.now() + 3_600_000).toISOString() } : {}), appEngineHttpRequest: { relativeUri: `/t/${q}/${j}` } } }),
        });
        expect(res.status, await res.text()).toBe(200);
      }
    }
    await w.waitFor((r) => r.length >= QUEUES.length, 20_000, 'the immediate tasks delivered');

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 20_000 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(8000);
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
    await expect.poll(() => page.locator('#queues tbody tr').count(), { timeout: 8000 }).toBe(ALL.length);
    for (const q of ALL) {
      const owner = ownsB.includes(q) ? b.id : a.id;
      await expect.poll(() => row(q).locator('.owner').textContent(), { timeout: 8000 }).toBe(`on ${owner}`);
    }
    await expect.poll(() => row(remote).locator('[data-field="succeeded"]').textContent(), { timeout: 8000 }).toBe('1');
    expect(await row(remote).locator('[data-field="pending"]').textContent()).toBe('2');
    expect(await page.locator('#origin').textContent()).toContain(`cluster node ${a.id}`);
    // Now only: no time-travel controls.
    expect(await page.locator('#tl-slider').isVisible()).toBe(false);

    // Pause, clicked on node A's page, for a queue node B owns: B's queue is paused.
    await row(remote).locator('button', { hasText: 'Pause' }).click();
    await expect.poll(async () => ((await (await fetch(`${b.api}/${remote}`, { headers: AUTH })).json()) as { state: string }).state, { timeout: 8000 }).toBe('PAUSED');
    await expect.poll(() => row(remote).locator('[data-field="state"]').textContent(), { timeout: 8000 }).toBe('paused');

    // The queue's charts (pushed by node A from B's series) and its tasks.
    await row(remote).locator('td.name').click();
    await expect.poll(() => page.locator('#chart-queue').inputValue()).toBe(remote);
    await expect.poll(() => page.locator('#charts figure[data-chart="backlog"]').count(), { timeout: 8000 }).toBe(1);
    await expect.poll(() => page.locator('#tasks tbody tr').count(), { timeout: 8000 }).toBe(2);
    // A task's story from its owner.
    await page.locator('#tasks tbody tr').first().click();
    await expect.poll(() => page.locator('#story-task').textContent(), { timeout: 8000 }).toBe(`${remote}-1`);
    expect(await page.locator('#story-error').isVisible()).toBe(false);

    // A shared URL with an instant: the page shows now, says why, and drops `at` from its address.
    await page.goto(`${a.proc.url}/?at=3`);
    await expect.poll(() => page.locator('#action-error.shown').textContent(), { timeout: 8000 }).toContain('?at= is not served in cluster mode');
    await expect.poll(() => page.locator('#queues tbody tr').count(), { timeout: 8000 }).toBe(ALL.length);
    expect(new URL(page.url()).searchParams.has('at')).toBe(false);
    await page.locator('#action-error button').click();

    await mkdir(ARTIFACTS, { recursive: true });
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-cluster.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 60_000);
});
