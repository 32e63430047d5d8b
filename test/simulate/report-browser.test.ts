/**
 * The HTML report in a real browser: Debian's Chromium driven by playwright-core, launched as the
 * dashboard's e2e test launches it. The report is written by writeReportFile and opened from disk
 * (file://), as a user opens it.
 *
 * Checked: every chart of every queue draws (its canvas holds coloured pixels: the series, not
 * only the grey axes and grid), nothing is logged as a console error or page error, the tables
 * show the queue's figures, the page makes no request but for its own file, and 20 queues of
 * 1,000 points stay quick to browse. A screenshot is kept in test-artifacts/report.png
 * (PUSHQ_UPDATE_SCREENSHOTS=1 also writes docs/images/simulate-report.png for the README).
 *
 * Chromium is required, not optional: without it this file fails with the command that installs it.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCount, formatNumber } from '../../src/simulate/report/figures-table.js';
import type { ReportInput } from '../../src/simulate/report/render.js';
import { writeReportFile } from '../../src/simulate/report/write.js';
import { fixtureReport } from './report-fixture.js';

const CHROMIUM = process.env['PUSHQ_CHROMIUM'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ROOT = join(import.meta.dirname, '..', '..');
const CHART_KEYS = ['backlog', 'dispatch', 'tokens', 'in_flight', 'retries', 'wait_cause', 'percentiles'];

let dir: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the report test drives a real Chromium, and there is none at ${CHROMIUM}.\n` +
        'Install it: apt-get install chromium   (Debian/Ubuntu, as root; or set PUSHQ_CHROMIUM to its path)',
    );
  }
  dir = await mkdtemp(join(tmpdir(), 'pushq-report-browser-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 20_000 });
});

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  url: string;
  /** Console errors and page errors, in order. */
  errors: string[];
  /** Every request the page made, by URL. */
  requests: string[];
}

async function open(path: string, fragment = ''): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  const url = pathToFileURL(path).href;
  await page.goto(url + fragment);
  await page.waitForSelector('body[data-rendered]');
  return { page, url, errors, requests };
}

async function write(name: string, input: ReportInput): Promise<string> {
  const path = join(dir, name);
  await writeReportFile(path, input);
  return path;
}

interface ChartState {
  key: string;
  /** Pixels of the chart's canvas that are clearly coloured (axes, grid and text are grey). */
  coloured: number;
  note: string | null;
}

/** The charts shown now, each with how much of its canvas is drawn in colour. */
function chartStates(page: Page): Promise<ChartState[]> {
  return page.$$eval('figure.chart', (figures) =>
    figures.map((f) => {
      const canvas = f.querySelector('canvas');
      let coloured = 0;
      if (canvas !== null) {
        const pixels = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < pixels.length; i += 4) {
          const r = pixels[i] as number, g = pixels[i + 1] as number, b = pixels[i + 2] as number, a = pixels[i + 3] as number;
          if (a > 128 && Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
        }
      }
      return { key: (f as HTMLElement).dataset['chart'] ?? '', coloured, note: f.querySelector('.note')?.textContent ?? null };
    }),
  );
}

async function choose(page: Page, queue: string): Promise<void> {
  await page.selectOption('#queue', queue);
  await page.waitForFunction((q) => document.body.dataset['rendered'] === q, queue);
}

/** Every queue in the selector, with its charts once chosen. */
async function everyQueuesCharts(page: Page): Promise<Map<string, ChartState[]>> {
  const names = await page.$$eval('#queue option', (options) => options.map((o) => (o as HTMLOptionElement).value));
  const out = new Map<string, ChartState[]>();
  for (const name of names) {
    await choose(page, name);
    out.set(name, await chartStates(page));
  }
  return out;
}

const cell = (page: Page, table: string, queue: string, field: string) =>
  page.locator(`#${table} tr[data-queue="${queue}"] td[data-field="${field}"]`).textContent();

describe('the HTML report in Chromium', () => {
  const HOSTILE = `x</script><b>"&'`;
  const input = fixtureReport({ names: ['emails', 'reports', HOSTILE] });

  it('draws every chart of every queue and of all queues, with no console or page error', async () => {
    const { page, errors } = await open(await write('report.html', input));
    expect(await page.evaluate(() => document.body.dataset['rendered'])).toBe('*');
    const charts = await everyQueuesCharts(page);
    expect([...charts.keys()]).toEqual(['*', 'emails', 'reports', HOSTILE]);
    for (const [queue, states] of charts) {
      expect(states.map((s) => s.key), queue).toEqual(CHART_KEYS);
      for (const s of states) {
        if (queue === '*' && s.key === 'percentiles') expect(s.note).toContain('Percentiles do not add up across queues');
        else expect(s.coloured, `${queue}: ${s.key}`).toBeGreaterThan(200);
      }
    }
    expect(errors).toEqual([]);

    await choose(page, 'emails');
    await mkdir(join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-artifacts', 'report.png'), fullPage: true });
    await page.close();
  });

  it("shows each queue's figures in the tables, the scenario and the seed", async () => {
    const { page, errors } = await open(await write('report.html', input));
    for (const [name, q] of Object.entries(input.stats.queues)) {
      const selector = name.replace(/["\\]/g, '\\$&');
      expect(await cell(page, 'figures', selector, 'tasks_added')).toBe(formatCount(q.tasks_added));
      expect(await cell(page, 'figures', selector, 'failed')).toBe(formatCount(q.failed));
      expect(await cell(page, 'figures', selector, 'backlog_max')).toBe(String(q.backlog_max));
      expect(Number(await cell(page, 'figures', selector, 'wait_seconds.p99'))).toBeCloseTo(q.wait_seconds.p99 as number, 1);
      expect(await cell(page, 'bound', selector, 'bound.throughput_per_second')).toBe(formatNumber(q.bound.throughput_per_second));
      expect(await cell(page, 'bound', selector, 'bound.binding')).toMatch(/^rate \(/);
    }
    expect(await page.locator('#figures tbody th').allTextContents()).toEqual(['emails', 'reports', HOSTILE]);
    expect(await page.locator('#seed').textContent()).toBe('7');
    expect(await page.locator('#scenario-text').textContent()).toBe(input.scenario.text);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('opens the queue the URL names (#q=NAME), and a click on a table row shows that queue', async () => {
    const path = await write('report.html', input);
    const { page, errors } = await open(path, `#q=${encodeURIComponent(HOSTILE)}`);
    expect(await page.evaluate(() => document.body.dataset['rendered'])).toBe(HOSTILE);
    expect(await page.locator('#queue').inputValue()).toBe(HOSTILE);
    await page.locator('#bound tr[data-queue="reports"] th').click();
    await page.waitForFunction(() => document.body.dataset['rendered'] === 'reports');
    expect(await page.locator('#figures tr.selected').getAttribute('data-queue')).toBe('reports');
    expect(await page.evaluate(() => location.hash)).toBe('#q=reports');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('makes no request but for its own file (and the recorder does see one when a page makes it)', async () => {
    const path = await write('report.html', input);
    const opened = await open(path);
    await everyQueuesCharts(opened.page);
    expect(opened.requests).toEqual([opened.url]);
    await opened.page.close();

    // Without the page's Content-Security-Policy (which would block a request before it is made),
    // the markup and the scripts themselves still ask for nothing.
    const html = await readFile(path, 'utf8');
    const noCsp = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
    expect(noCsp).not.toBe(html);
    await writeFile(join(dir, 'no-csp.html'), noCsp);
    const bare = await open(join(dir, 'no-csp.html'));
    await everyQueuesCharts(bare.page);
    expect(bare.requests).toEqual([bare.url]);
    expect(bare.errors).toEqual([]);
    await bare.page.close();

    await writeFile(join(dir, 'fetches.html'), noCsp.replace('<main>', '<main><img src="http://127.0.0.1:9/x.png" alt="">'));
    const fetching = await open(join(dir, 'fetches.html'));
    expect(fetching.requests).toContain('http://127.0.0.1:9/x.png');
    await fetching.page.close();
  });

  it('stays quick with 20 queues of 1,000 points each', async () => {
    const big = fixtureReport({ queues: 20, points: 1000 });
    const path = await write('big.html', big);
    const { page, errors } = await open(path);
    // From the start of navigation to the first set drawn, on the page's clock.
    const loadMs = await page.evaluate(() => performance.now());
    const switches: number[] = [];
    const names = await page.$$eval('#queue option', (options) => options.map((o) => (o as HTMLOptionElement).value));
    expect(names).toHaveLength(21);
    for (const name of [...names.slice(1), '*']) {
      // Timed in the page: the change event's handler (destroy, then build the next set) and the
      // frame after it, not Playwright's round trips.
      switches.push(
        await page.evaluate(async (q) => {
          const select = document.getElementById('queue') as HTMLSelectElement;
          const t0 = performance.now();
          select.value = q;
          select.dispatchEvent(new Event('change'));
          await new Promise((resolve) => requestAnimationFrame(resolve));
          return performance.now() - t0;
        }, name),
      );
      await page.waitForFunction((q) => document.body.dataset['rendered'] === q, name);
      const states = await chartStates(page);
      expect(states.filter((s) => s.note === null).every((s) => s.coloured > 200), name).toBe(true);
    }
    const worst = Math.max(...switches);
    const bytes = (await readFile(path)).length;
    // Generous bounds for a shared two-core machine: the point is that showing one queue does not
    // grow with the number of queues (each switch draws 7 charts, whatever the count).
    console.log(`report, 20 queues × 1,000 points: ${(bytes / 1024).toFixed(0)} KiB, opened in ${loadMs.toFixed(0)} ms, switch worst ${worst.toFixed(0)} ms, mean ${(switches.reduce((a, b) => a + b, 0) / switches.length).toFixed(0)} ms`);
    expect(loadMs).toBeLessThan(5000);
    expect(worst).toBeLessThan(1500);
    expect(errors).toEqual([]);
    await page.close();
  });
});

/** Writes the README's copy of the screenshot when asked (it is committed, so not on every run). */
afterAll(async () => {
  if (process.env['PUSHQ_UPDATE_SCREENSHOTS'] === '1' && existsSync(join(ROOT, 'test-artifacts', 'report.png'))) {
    await mkdir(join(ROOT, 'docs', 'images'), { recursive: true });
    await copyFile(join(ROOT, 'test-artifacts', 'report.png'), join(ROOT, 'docs', 'images', 'simulate-report.png'));
  }
});
