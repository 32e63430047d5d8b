/**
 * A cluster dashboard's row for a queue no node owns now offers no command it cannot carry out.
 * Two `pushq serve --cluster` nodes on the real PostgreSQL, Debian's Chromium driven by
 * playwright-core: node B is killed (-9), and until its leases run out its queues have no owner.
 * Node A's page then shows each of them without Pause, Resume or Purge (the API refuses them:
 * QUEUE_OWNER_UNAVAILABLE or _UNKNOWN), saying why in their place, as a queue its configuration
 * stops says why it offers no Resume; A's own queues keep theirs. The task list of such a queue,
 * open on the page, offers no Run or Delete either (they go to the owner too; the list cannot be
 * read again meanwhile, so its rows stay as last read) and says why in the same words. Once A takes
 * B's queues, their commands are back, the tasks' too.
 *
 * Chromium is required, not optional: without it this file fails with the command that installs it.
 */
import { type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ownerFor } from '../../src/cluster/rendezvous.js';
import { api } from '../helpers/serve-process.js';
import { clusterFixture, ownedBy, postTask, queueYaml, startNodesEachOwning, waitUntil, writeQueueYaml, type Node } from '../cluster/cluster-harness.js';
import { launchChromium } from '../helpers/chromium.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

/** queueYaml's q0..q4, and the default queue every configuration has. */
const ALL = ['default', 'q0', 'q1', 'q2', 'q3', 'q4'];
/** B's tasks, due long after the test: they stay pending, so the task list offers Run and Delete. */
const TASKS = ['t1', 't2'];
/** Long enough for the page to be read while B's queues have no owner; short enough to see them taken. */
const LEASE_SECONDS = 10;
const POLL = { timeout: EVENT_BOUND_MS, interval: 100 };

const fx = clusterFixture('pushq-dashboard-no-owner-');
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
});

describe('the cluster dashboard, a queue without owner', () => {
  it('offers no Pause, Resume or Purge, nor Run or Delete in its task list, and says why; they come back when a node takes the queue', async () => {
    const yaml = await writeQueueYaml(fx.dir, queueYaml(ALL.length - 1, 10, 5));
    const args = ['--config', yaml, '--store', await fx.pg.database(), '--lease-seconds', String(LEASE_SECONDS)];
    const [a, b] = (await startNodesEachOwning(fx.nodes, args, ALL)) as [Node, Node];
    const ofNode = (node: Node): string[] => ALL.filter((q) => ownerFor(q, [a.id, b.id]) === node.id);
    const ofB = ofNode(b);
    const ofA = ofNode(a);
    expect(ofA.length > 0 && ofB.length > 0, `both nodes own queues: ${ofA} / ${ofB}`).toBe(true);
    await waitUntil('the queues spread over the 2 nodes', async () => {
      try {
        return (await ownedBy(b)).join() === [...ofB].sort().join() && (await ownedBy(a)).join() === [...ofA].sort().join();
      } catch {
        return false;
      }
    }, 30_000);

    browser = await launchChromium('this test');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(EVENT_BOUND_MS);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
    const row = (queue: string) => page.locator(`#queues tr[data-queue="${queue}"]`);
    const commands = (queue: string) => row(queue).locator('td.actions').getByRole('button');
    await page.goto(`${a.proc.url}/`);
    for (const q of ALL) await expect.poll(() => commands(q).allTextContents(), POLL).toEqual(['Pause', 'Purge']);
    // The task list of one of B's queues, open on the page: its pending tasks can be run or deleted.
    const listed = ofB[0]!;
    for (const name of TASKS) expect((await postTask(b, listed, name, { delayMs: 600_000 })).status, name).toBe(200);
    const taskRow = (name: string) => page.locator(`#tasks tr[data-queue="${listed}"][data-task="${name}"]`);
    const taskActions = (name: string) => taskRow(name).locator('td.actions');
    await expect.poll(() => row(listed).locator('td[data-field="pending"]').textContent(), POLL).toBe(String(TASKS.length));
    await row(listed).locator('td[data-field="pending"] button').click();
    for (const name of TASKS) await expect.poll(() => taskActions(name).getByRole('button').allTextContents(), POLL).toEqual(['Story', 'Run', 'Delete']);

    b.proc.child.kill('SIGKILL');
    await b.proc.exited;
    for (const q of ofB) {
      await expect.poll(() => row(q).locator('td[data-field="state"]').textContent(), POLL).toBe('no owner');
      // No command: each goes to the owner, and there is none (the API says so).
      expect(await commands(q).count(), q).toBe(0);
      expect(await row(q).locator('.hold').textContent()).toBe('no owner to run commands');
      expect(await row(q).locator('.hold').getAttribute('title')).toContain('Pause, Resume and Purge are carried out by its owner');
    }
    // Nor Run or Delete for its tasks (each goes to the owner): the same words, the title saying which commands.
    for (const name of TASKS) {
      await expect.poll(() => taskActions(name).getByRole('button').allTextContents(), POLL).toEqual(['Story']);
      expect(await taskActions(name).locator('.hold').textContent(), name).toBe('no owner to run commands');
      expect(await taskActions(name).locator('.hold').getAttribute('title')).toContain('Run and Delete are carried out by its owner');
    }
    const refused = await api('POST', `${a.api}/${ofB[0]}:resume`, {});
    expect([refused.status, refused.json.error.message], 'while B\'s lease lasts').toEqual([503, expect.stringMatching(/\(QUEUE_OWNER_(UNKNOWN|UNAVAILABLE)\)$/)]);
    for (const q of ofA) expect(await commands(q).allTextContents(), q).toEqual(['Pause', 'Purge']);

    // A takes B's queues when B's leases run out: the commands are back.
    for (const q of ofB) await expect.poll(() => commands(q).allTextContents(), { timeout: (LEASE_SECONDS + 15) * 1000, interval: 200 }).toEqual(['Pause', 'Purge']);
    expect(await row(ofB[0]!).locator('.hold').textContent()).toBe('');
    for (const name of TASKS) await expect.poll(() => taskActions(name).getByRole('button').allTextContents(), POLL).toEqual(['Story', 'Run', 'Delete']);
    expect(await taskActions(TASKS[0]!).locator('.hold').count()).toBe(0);
    expect(errors).toEqual([]);
  }, 120_000);
});
