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
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/run.js';
import { parseScenario } from '../../src/scenario/parse.js';
import { runSeeds } from '../../src/experiments/run-seeds.js';
import { renderBandsReport } from '../../src/simulate/report/bands.js';
import { DEV_SERVER_HOLD_CAUSES } from '../../src/projections/series-types.js';
import { formatCount } from '../../src/simulate/report/figures-table.js';
import type { ReportInput } from '../../src/simulate/report/render.js';
import { writeReportFile } from '../../src/simulate/report/write.js';
import { fixtureReport } from './report-fixture.js';
import { launchChromium } from '../helpers/chromium.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';
import { DEV_SERVER_CONTRAST_SCENARIO } from '../helpers/dev-server-scenario.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CHART_KEYS = ['backlog', 'dispatch', 'tokens', 'in_flight', 'retries', 'wait_cause', 'percentiles'];

let dir: string;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-report-browser-'));
  browser = await launchChromium('the report test');
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
  page.setDefaultTimeout(EVENT_BOUND_MS);
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
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < pixels.length; i += 4) {
          const r = pixels[i] as number, g = pixels[i + 1] as number, b = pixels[i + 2] as number, a = pixels[i + 3] as number;
          if (a > 128 && Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
        }
      }
      return { key: f.getAttribute('data-chart') ?? '', coloured, note: f.querySelector('.note')?.textContent ?? null };
    }),
  );
}

/** The queue whose charts are shown (the script sets body[data-rendered] once they are drawn). */
const rendered = (page: Page) => page.locator('body').getAttribute('data-rendered');

async function waitRendered(page: Page, queue: string): Promise<void> {
  await page.waitForSelector(`body[data-rendered="${queue.replace(/["\\]/g, '\\$&')}"]`);
}

async function choose(page: Page, queue: string): Promise<void> {
  await page.selectOption('#queue', queue);
  await waitRendered(page, queue);
}

const queueOptions = (page: Page) => page.locator('#queue option').evaluateAll((options) => options.map((o) => o.getAttribute('value') ?? ''));

/** Every queue in the selector, with its charts once chosen. */
async function everyQueuesCharts(page: Page): Promise<Map<string, ChartState[]>> {
  const names = await queueOptions(page);
  const out = new Map<string, ChartState[]>();
  for (const name of names) {
    await choose(page, name);
    out.set(name, await chartStates(page));
  }
  return out;
}

const cell = (page: Page, table: string, queue: string, field: string) =>
  page.locator(`#${table} tr[data-queue="${queue}"] td[data-field="${field}"]`).textContent();

/** examples/default.yaml, run as `pushq simulate` runs it, as the report's input. */
async function defaultScenarioReport(): Promise<ReportInput> {
  const file = 'examples/default.yaml';
  const { scenario } = await loadScenario(join(ROOT, file));
  if (scenario === null) throw new Error(`${file} does not load`);
  const started = performance.now();
  const run = runScenario(scenario);
  const wallSeconds = (performance.now() - started) / 1000;
  expect(run.stoppedBy).toBe('idle');
  return { scenario: { file, text: await readFile(join(ROOT, file), 'utf8') }, seed: run.seed, stats: { ...run.stats, wall_seconds: wallSeconds }, series: run.simulation.series() };
}

/** A table cell's number, as shown (rounded to three figures). */
async function shownNumber(page: Page, table: string, queue: string, field: string): Promise<number> {
  const text = await cell(page, table, queue, field);
  expect(text, `${queue} ${field}`).toMatch(/^-?[0-9.]+$/);
  return Number(text);
}

/** Equal to three significant figures (the tables' rounding). */
function expectShown(shown: number, value: number | null, what: string): void {
  expect(value, what).not.toBeNull();
  expect(Math.abs(shown - (value as number)), `${what}: ${shown} shown for ${value}`).toBeLessThanOrEqual(Math.abs(value as number) * 0.005 + 1e-9);
}

describe('the HTML report of examples/default.yaml in Chromium', () => {
  let input: ReportInput;
  let path: string;
  beforeAll(async () => {
    input = await defaultScenarioReport();
    path = await write('default.html', input);
  });

  it('draws every chart of every queue and of all queues, with no console or page error', async () => {
    const { page, errors } = await open(path);
    expect(await rendered(page)).toBe('*');
    const charts = await everyQueuesCharts(page);
    expect([...charts.keys()]).toEqual(['*', 'emails', 'reports']);
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
    if (process.env['PUSHQ_UPDATE_SCREENSHOTS'] === '1') {
      // The README's copy (committed, so only when asked): the tables and the first four charts.
      const last = await page.locator('figure.chart[data-chart="in_flight"]').boundingBox();
      if (last === null) throw new Error('no in-flight chart to end the screenshot at');
      await mkdir(join(ROOT, 'docs', 'images'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'docs', 'images', 'simulate-report.png'), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: Math.ceil(last.y + last.height + 16) } });
    }
    await page.close();
  });

  it("shows each queue's figures in the tables, the scenario and the seed", async () => {
    const { page, errors } = await open(path);
    expect(await page.locator('#figures tbody th').allTextContents()).toEqual(['emails', 'reports']);
    for (const [name, q] of Object.entries(input.stats.queues)) {
      for (const field of ['tasks_added', 'succeeded', 'failed', 'pending', 'attempts', 'retries', 'backlog_max'] as const) {
        expect(await cell(page, 'figures', name, field), `${name} ${field}`).toBe(String(q[field]));
      }
      expectShown(await shownNumber(page, 'figures', name, 'drained_at_seconds'), q.drained_at_seconds, `${name} drained_at_seconds`);
      for (const p of ['p50', 'p90', 'p99', 'max', 'mean'] as const) expectShown(await shownNumber(page, 'figures', name, `wait_seconds.${p}`), q.wait_seconds[p], `${name} wait ${p}`);
      expectShown(await shownNumber(page, 'figures', name, 'latency_seconds.p99'), q.latency_seconds.p99, `${name} latency p99`);
      expectShown(await shownNumber(page, 'bound', name, 'bound.throughput_per_second'), q.bound.throughput_per_second, `${name} bound`);
      expectShown(await shownNumber(page, 'bound', name, 'dispatch_rate_mean_per_second'), q.dispatch_rate_mean_per_second, `${name} simulated`);
      expect(await cell(page, 'bound', name, 'bound.binding')).toBe(q.bound.binding);
    }
    // emails: 1000 tasks at once at 20/s behind a bucket of 40 wait for tokens, the rate binds
    expect(await cell(page, 'bound', 'emails', 'bound.binding')).toBe('rate');
    expect(await cell(page, 'bound', 'emails', 'wait_by_cause_task_seconds')).toMatch(/^tokens \(/);
    expect(await page.locator('#seed').textContent()).toBe('42');
    expect(await page.locator('#scenario-file').textContent()).toBe('examples/default.yaml');
    expect(await page.locator('#scenario-text').textContent()).toBe(input.scenario.text);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('makes no request but for its own file (and the recorder does see one when a page makes it)', async () => {
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

});

describe('the HTML report of a run shorter than one interval', () => {
  it('draws the one point of each series over time (--resolution 1h on a run of minutes)', async () => {
    const file = 'examples/default.yaml';
    const { scenario } = await loadScenario(join(ROOT, file));
    if (scenario === null) throw new Error(`${file} does not load`);
    const run = runScenario(scenario, { seriesResolutionUs: 3600e6 });
    const series = run.simulation.series();
    expect(series.queues['emails']!.t_seconds).toHaveLength(1);
    const path = await write('one-point.html', { scenario: { file, text: await readFile(join(ROOT, file), 'utf8') }, seed: run.seed, stats: run.stats, series });
    const { page, errors } = await open(path, '#q=emails');
    expect(await rendered(page)).toBe('emails');
    // Each chart over time has its one interval's values (621 failed attempts, the rate's 20/s,
    // the bucket's 40 tokens): a line of one point draws nothing, so the points must show.
    for (const s of await chartStates(page)) expect(s.coloured, s.key).toBeGreaterThan(20);
    expect(errors).toEqual([]);
    await page.close();
  });
});

/**
 * Records every uPlot a page builds (window.__plots), by wrapping the constructor as the inlined
 * library defines it; the page's own script is unchanged.
 */
const RECORD_PLOTS = `
window.__plots = [];
let real;
Object.defineProperty(window, 'uPlot', { configurable: true, get() { return real; }, set(v) {
  const Recorded = function (opts, data, target) { const u = new v(opts, data, target); window.__plots.push(u); return u; };
  Object.assign(Recorded, v);
  Recorded.prototype = v.prototype;
  real = Recorded;
} });
`;

interface TimeAxis {
  chart: string;
  labels: string[];
  /** Each label's width and its tick's position, in CSS pixels. */
  widths: number[];
  positions: number[];
}

/** The time axis of every chart over time drawn now: its tick labels, their widths and places. */
function timeAxes(page: Page): Promise<TimeAxis[]> {
  return page.evaluate(`window.__plots.filter((u) => u.root.isConnected && u.scales.x && u.scales.x.time === false && u.series[0].label === 'time').map((u) => {
    const axis = u.axes[0];
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = axis.font[0]; // as uPlot draws it: scaled by devicePixelRatio
    return {
      chart: u.root.parentElement.getAttribute('data-chart'),
      labels: axis._values.map(String),
      widths: axis._values.map((v) => ctx.measureText(String(v)).width / devicePixelRatio),
      positions: axis._splits.map((x) => u.valToPos(x, 'x')),
    };
  })`) as Promise<TimeAxis[]>;
}

describe('the time axis of a run of days', () => {
  // 72 tasks at 1/h: the run lasts 2 days and 19 hours of virtual time.
  const TEXT = `seed: 1
queue:
  - { name: slow, rate: 1/h, retry_parameters: { task_retry_limit: 0 } }
workload:
  - { queue: slow, count: 72 }
`;

  it('ticks at round durations whose labels do not run into each other, in both reports', async () => {
    const { scenario } = await parseScenario(TEXT, { file: 'days.yaml' });
    if (scenario === null) throw new Error('days.yaml does not load');
    const run = runScenario(scenario);
    expect(run.stats.virtual_seconds).toBeGreaterThan(2 * 86400);
    const one = await write('days.html', { scenario: { file: 'days.yaml', text: TEXT }, seed: run.seed, stats: run.stats, series: run.simulation.series() });
    const seeds = await runSeeds(scenario, { seeds: 2, series: true });
    const many = join(dir, 'days-seeds.html');
    await writeFile(many, renderBandsReport({ command: 'pushq simulate --seeds', seeds: seeds.seeds, variants: [{ label: 'days.yaml', text: TEXT, queues: seeds.queues, bands: seeds.series! }] }));
    for (const path of [one, many]) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.setDefaultTimeout(EVENT_BOUND_MS);
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.addInitScript({ content: RECORD_PLOTS });
      await page.goto(`${pathToFileURL(path).href}#q=slow`);
      if (path === many) await page.selectOption('#queue', 'slow');
      await waitRendered(page, 'slow');
      const axes = await timeAxes(page);
      expect(axes.length, path).toBeGreaterThanOrEqual(4);
      for (const axis of axes) {
        const what = `${path} ${axis.chart}: ${axis.labels.join(' ')}`;
        expect(axis.labels.length, what).toBeGreaterThanOrEqual(3);
        // Durations, at round steps: 12h, 1d, 1d12h, ... (not 25000 or 6h56m)
        for (const label of axis.labels) expect(label, what).toMatch(/^(\d+d)?(\d+h)?(\d+m)?(\d+s)?$/);
        for (const label of axis.labels) expect(label, what).not.toMatch(/\d+h\d+m/);
        for (let i = 1; i < axis.labels.length; i++) {
          // Centred on their ticks: the gap between two ticks holds half of each label, and 4 px.
          const room = axis.positions[i]! - axis.positions[i - 1]!;
          expect(room, what).toBeGreaterThanOrEqual((axis.widths[i]! + axis.widths[i - 1]!) / 2 + 4);
        }
      }
      expect(errors).toEqual([]);
      await page.close();
    }
  }, 120_000);
});

describe('the HTML report of a hand-made input in Chromium', () => {
  const HOSTILE = `x</script><b>"&'`;
  const input = fixtureReport({ names: ['emails', 'reports', HOSTILE] });

  it('draws the charts of a queue named like markup, opens the queue the URL names (#q=NAME), and a click on a table row shows that queue', async () => {
    const path = await write('hostile.html', input);
    const { page, errors } = await open(path, `#q=${encodeURIComponent(HOSTILE)}`);
    expect(await rendered(page)).toBe(HOSTILE);
    expect(await page.locator('#queue').inputValue()).toBe(HOSTILE);
    expect(await page.locator('#figures tbody th').allTextContents()).toEqual(['emails', 'reports', HOSTILE]);
    const selector = HOSTILE.replace(/["\\]/g, '\\$&');
    expect(await cell(page, 'figures', selector, 'tasks_added')).toBe(formatCount(input.stats.queues[HOSTILE]!.tasks_added));
    const states = await chartStates(page);
    expect(states.map((s) => s.key)).toEqual(CHART_KEYS);
    for (const s of states) expect(s.coloured, s.key).toBeGreaterThan(200);
    await page.locator('#bound tr[data-queue="reports"] th').click();
    await waitRendered(page, 'reports');
    expect(await page.locator('#figures tr.selected').getAttribute('data-queue')).toBe('reports');
    expect(new URL(page.url()).hash).toBe('#q=reports');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a scenario text that starts with a blank line as written, that line included', async () => {
    // HTML drops a line end just after <pre>: the text's own first (blank) line would go, and every
    // line of the scenario shown would be one above its line in the file.
    const text = `\n# a comment below a blank first line\n\nworkload:\n  - { count: 1 }\n`;
    const path = await write('blank-first.html', { ...fixtureReport({ queues: 1, points: 10 }), scenario: { file: 'blank.yaml', text } });
    const { page, errors } = await open(path);
    expect(await page.locator('#scenario-text').textContent()).toBe(text);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('stays quick with 20 queues of 1,000 points each', async () => {
    const big = fixtureReport({ queues: 20, points: 1000 });
    const path = await write('big.html', big);
    const { page, errors } = await open(path);
    // From the start of navigation to the first set drawn, on the page's clock.
    const loadMs = await page.evaluate(() => performance.now());
    const switches: number[] = [];
    const names = await queueOptions(page);
    expect(names).toHaveLength(21);
    for (const name of [...names.slice(1), '*']) {
      // Timed in the page: the change event's handler (destroy, then build the next set) and the
      // frame after it, not Playwright's round trips.
      switches.push(
        await page.locator('#queue').evaluate(async (select, q) => {
          const t0 = performance.now();
          select.value = q;
          select.dispatchEvent(new Event('change'));
          await new Promise((resolve) => select.ownerDocument.defaultView.requestAnimationFrame(resolve));
          return performance.now() - t0;
        }, name),
      );
      await waitRendered(page, name);
      const states = await chartStates(page);
      expect(states.filter((s) => s.note === null).every((s) => s.coloured > 200), name).toBe(true);
      // Only the shown queue's charts exist: the page's work does not grow with the queues.
      expect(await page.locator('canvas').count()).toBe(states.filter((s) => s.note === null).length);
    }
    const worst = Math.max(...switches);
    const bytes = (await readFile(path)).length;
    // Generous bounds for a shared, loaded two-core machine (unloaded: about 0.6 s and 30 ms); the
    // canvas count above is the exact check that a switch draws one set, whatever the queue count.
    console.log(`report, 20 queues × 1,000 points: ${(bytes / 1024).toFixed(0)} KiB, opened in ${loadMs.toFixed(0)} ms, switch worst ${worst.toFixed(0)} ms, mean ${(switches.reduce((a, b) => a + b, 0) / switches.length).toFixed(0)} ms`);
    expect(loadMs).toBeLessThan(10_000);
    expect(worst).toBeLessThan(2000);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('the wait by cause of a dev-server run', () => {
  const BODY = DEV_SERVER_CONTRAST_SCENARIO; // production holds mail by its tokens, held by its rate 0: the dev server neither

  /** The wait chart of `queue` in the report of BODY, run with `dev_server` as given: its categories and caption. */
  async function waitChart(devServer: boolean, queue: string): Promise<{ categories: string | null; caption: string | null; coloured: number; errors: string[] }> {
    const text = `dev_server: ${devServer}\n${BODY}`;
    const { scenario } = await parseScenario(text, { file: 'app.yaml' });
    if (scenario === null) throw new Error('app.yaml does not load');
    expect(scenario.devServer === true).toBe(devServer);
    const run = runScenario(scenario);
    const path = await write(`dev-${devServer}.html`, { scenario: { file: 'app.yaml', text }, seed: run.seed, stats: run.stats, series: run.simulation.series(), devServer });
    const { page, errors } = await open(path, `#q=${queue}`);
    await waitRendered(page, queue);
    const figure = page.locator('figure.chart[data-chart="wait_cause"]');
    const out = {
      categories: await figure.getAttribute('data-categories'),
      caption: await figure.locator('figcaption').textContent(),
      coloured: (await chartStates(page)).find((s) => s.key === 'wait_cause')!.coloured,
      errors,
    };
    await page.close();
    return out;
  }

  it('draws only the causes the mode can hold a task by (the dashboard\'s list, DEV_SERVER_HOLD_CAUSES), its caption saying what concurrency is there', async () => {
    for (const queue of ['*', 'mail', 'held']) {
      const dev = await waitChart(true, queue);
      expect(dev.categories, queue).toBe(DEV_SERVER_HOLD_CAUSES.join(' '));
      expect(dev.categories, queue).toBe('concurrency disabled not_running');
      expect(dev.caption, queue).toBe("Wait by cause (ready-task-seconds held by each limit; dev-server mode: the app's one task at a time counts as concurrency)");
      expect(dev.coloured, queue).toBeGreaterThan(200);
      expect(dev.errors, queue).toEqual([]);
    }
    // The same scenario in production: every cause, as before.
    const prod = await waitChart(false, 'mail');
    expect(prod.categories).toBe('tokens concurrency paused disabled transport not_running');
    expect(prod.caption).toBe('Wait by cause (ready-task-seconds held by each limit)');
    expect(prod.errors).toEqual([]);
  });
});
