/**
 * The report of many runs (src/simulate/report/bands.ts), from real runs (`runSeeds`, `compare`):
 * its script type-checks with `// @ts-check` against the DOM's and uPlot's types, and in a real
 * Chromium (as the one-run report's test launches it) every chart of each queue draws the
 * variants' bands, with no console error and no request but for the file itself.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare } from '../../src/experiments/compare.js';
import { runSeeds } from '../../src/experiments/run-seeds.js';
import { parseScenario } from '../../src/scenario/parse.js';
import type { Scenario } from '../../src/scenario/types.js';
import { BANDS_SCRIPT } from '../../src/simulate/report/bands-script.js';
import { renderBandsReport } from '../../src/simulate/report/bands.js';
import { formatNumber } from '../../src/simulate/report/figures-table.js';
import { launchChromium } from '../helpers/chromium.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CHARTS = ['ready', 'dispatched', 'in_flight', 'backoff', 'failed_attempts', 'tokens'];

let dir: string;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-bands-report-'));
  browser = await launchChromium('the bands report test');
});

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const TEXT = `seed: 2
queue:
  - { name: emails, rate: 20/s, bucket_size: 20, max_concurrent_requests: 5, retry_parameters: { task_retry_limit: 3 } }
  - { name: reports, rate: 5/s }
workload:
  - { queue: emails, count: 200 }
  - { queue: reports, count: 40, rate: 2/s, arrivals: poisson }
worker:
  latency: { distribution: lognormal, p50: 100ms, p99: 800ms }
  error_rate: 0.2
`;

async function scenario(text: string, file: string): Promise<Scenario> {
  const { scenario: s } = await parseScenario(text, { file });
  if (s === null) throw new Error('scenario invalid');
  return s;
}

async function typeCheck(script: string): Promise<{ ok: boolean; output: string }> {
  const sub = await mkdtemp(join(dir, 'c-'));
  await writeFile(join(sub, 'bands.js'), script);
  const config = {
    compilerOptions: { target: 'ES2022', lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [], allowJs: true, checkJs: true, noEmit: true, strict: true, noUncheckedIndexedAccess: true, noUnusedLocals: true, skipLibCheck: true },
    files: [join(sub, 'bands.js'), createRequire(import.meta.url).resolve('uplot/dist/uPlot.d.ts')],
  };
  await writeFile(join(sub, 'tsconfig.json'), JSON.stringify(config));
  try {
    await promisify(execFile)('npx', ['tsc', '-p', join(sub, 'tsconfig.json')], { cwd: ROOT });
    return { ok: true, output: '' };
  } catch (error) {
    return { ok: false, output: String((error as { stdout?: string }).stdout ?? error) };
  }
}

describe('the bands report', () => {
  it('its script type-checks against the DOM and uPlot (and the check can fail), and can be inlined', async () => {
    expect(await typeCheck(BANDS_SCRIPT)).toEqual({ ok: true, output: '' });
    const broken = await typeCheck(BANDS_SCRIPT.replace('bands: bands,', 'bands: bands, notAnOption: 1,'));
    expect(broken.ok).toBe(false);
    expect(broken.output).toContain('notAnOption');
    expect(BANDS_SCRIPT).not.toMatch(/<\/script/i);
  }, 120_000);

  it('draws every chart of each queue, for one scenario (--seeds) and for a comparison, with no error and no request', async () => {
    const a = await scenario(TEXT, 'a.yaml');
    const b = await scenario(TEXT.replace('max_concurrent_requests: 5', 'max_concurrent_requests: 20'), 'b.yaml');
    const seeds = await runSeeds(a, { seeds: 4, series: true });
    const compared = await compare([a, b], { seeds: 4, series: true });
    const pages = {
      seeds: renderBandsReport({ command: 'pushq simulate --seeds', seeds: seeds.seeds, variants: [{ label: 'a.yaml', text: TEXT, queues: seeds.queues, bands: seeds.series! }] }),
      compare: renderBandsReport({
        command: 'pushq compare',
        seeds: compared.seeds,
        variants: compared.results.map((r, i) => ({ label: compared.variants[i]!, text: TEXT, queues: r.queues, bands: r.series! })),
        verdicts: { emails: { in_flight_max: compared.queues.emails!.in_flight_max.differences.map((d) => d.verdict) } },
      }),
    };
    for (const [name, html] of Object.entries(pages)) {
      const path = join(dir, `${name}.html`);
      await writeFile(path, html);
      const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(path).href);
      for (const queue of ['*', 'emails', 'reports']) {
        if (queue !== '*') await page.selectOption('#queue', queue);
        await page.waitForSelector(`body[data-rendered="${queue}"]`);
        for (const chart of CHARTS) {
          // Every chart is drawn (a canvas), tokens included: each queue here has a bucket.
          const drawn = await page.locator(`figure[data-chart="${chart}"] canvas`).count();
          expect(drawn, `${name} ${queue} ${chart}`).toBe(1);
        }
        const legend = await page.locator('figure[data-chart="ready"] .u-legend').innerText();
        for (const label of name === 'seeds' ? ['a.yaml median'] : ['a.yaml median', 'b.yaml median']) expect(legend).toContain(label);
      }
      if (name === 'compare') expect(await page.locator('table[data-queue="emails"] tr[data-field="in_flight_max"] td.verdict').innerText()).toMatch(/b\.yaml: in_flight_max [\d.]+ more than a\.yaml/);
      expect(errors).toEqual([]);
      expect(requests).toEqual([pathToFileURL(path).href]);
      await page.close();
    }
  }, 180_000);
});

describe('the bands report of a comparison whose files have different queues', () => {
  it("puts each file's figures under that file's own columns, and a file without the queue shows none", async () => {
    // b.yaml has no reports queue and c.yaml has an `other` one: a queue one file lacks must not
    // shift the next file's cells left, under the wrong file's heading.
    const a = await scenario(TEXT, 'a.yaml');
    const bText = `seed: 2
queue:
  - { name: emails, rate: 20/s }
workload:
  - { queue: emails, count: 30 }
`;
    const cText = `${bText.replace('workload:', '  - { name: other, rate: 1/s }\nworkload:')}  - { queue: other, count: 5 }\n`;
    const b = await scenario(bText, 'b.yaml');
    const c = await scenario(cText, 'c.yaml');
    const compared = await compare([a, b, c], { seeds: 2, series: true });
    const texts = [TEXT, bText, cText];
    const verdicts: Record<string, Record<string, string[]>> = {};
    for (const [queue, figures] of Object.entries(compared.queues)) verdicts[queue] = Object.fromEntries(Object.entries(figures).map(([f, x]) => [f, x.differences.map((d) => d.verdict)]));
    const html = renderBandsReport({
      command: 'pushq compare',
      seeds: compared.seeds,
      variants: compared.results.map((r, i) => ({ label: compared.variants[i]!, text: texts[i]!, queues: r.queues, bands: r.series! })),
      verdicts,
    });
    const path = join(dir, 'compare-queues.html');
    await writeFile(path, html);
    const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(path).href);
    await page.waitForSelector('body[data-rendered="*"]');
    // Each row: the figure, two cells per file (mean with its interval, min–max), the verdicts.
    const rows = (queue: string) =>
      page.locator(`table[data-queue="${queue}"] tbody tr`).evaluateAll((trs) => trs.map((tr) => ({ field: tr.getAttribute('data-field'), cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '') })));
    for (const queue of ['emails', 'reports', 'other']) {
      for (const row of await rows(queue)) {
        expect(row.cells, `${queue} ${row.field}`).toHaveLength(1 + 2 * 3 + 1);
        for (let v = 0; v < 3; v++) {
          const summary = compared.queues[queue]![row.field as 'succeeded']!.variants[v]!;
          const has = compared.results[v]!.queues[queue] !== undefined;
          const mean = row.cells[1 + 2 * v]!;
          if (!has) expect(mean, `${queue} ${row.field} ${compared.variants[v]}`).toBe('—');
          else if (summary.mean !== null) expect(mean, `${queue} ${row.field} ${compared.variants[v]}`).toMatch(new RegExp(`^${String(formatNumber(summary.mean)).replace('.', '\\.')}( |$)`));
        }
        expect(row.cells[7], `${queue} ${row.field}`).toBe(verdicts[queue]![row.field!]!.join(''));
      }
    }
    // c.yaml's 5 tasks of `other` are under c.yaml, not under b.yaml
    const succeeded = (await rows('other')).find((r) => r.field === 'succeeded')!;
    expect(succeeded.cells.slice(1, 7)).toEqual(['—', '—', '—', '—', '5 (5–5)', '5–5']);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);
});

/** `seeds` (a.yaml's runs) as a --seeds report in `file`, opened at 1280 × 900; the page's errors collected. */
async function openSeedsReport(file: string, seeds: Awaited<ReturnType<typeof runSeeds>>) {
  const path = join(dir, file);
  await writeFile(path, renderBandsReport({ command: 'pushq simulate --seeds', seeds: seeds.seeds, variants: [{ label: 'a.yaml', text: TEXT, queues: seeds.queues, bands: seeds.series! }] }));
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(pathToFileURL(path).href);
  return { page, errors };
}

describe('the bands report at different window widths', () => {
  it('fits each chart in its own grid cell, with no horizontal scroll, and follows a resize', async () => {
    const a = await scenario(TEXT, 'a.yaml');
    const seeds = await runSeeds(a, { seeds: 2, series: true });
    const { page, errors } = await openSeedsReport('widths.html', seeds);
    await page.waitForSelector('body[data-rendered="*"]');
    // Each chart (uPlot's root) as wide as its figure at most, and the page no wider than the window.
    const fits = async () => ({
      charts: await page.$$eval('figure.chart', (figures) =>
        figures.map((f) => {
          const chart = f.querySelector('.uplot');
          return { figure: f.clientWidth, chart: chart === null ? 0 : Math.round(chart.getBoundingClientRect().width) };
        }),
      ),
      ...(await page.locator('html').evaluate((html) => ({ page: html.scrollWidth, window: html.ownerDocument.defaultView?.innerWidth ?? 0 }))),
    });
    const expectFit = (state: Awaited<ReturnType<typeof fits>>, what: string) => {
      expect(state.charts.length, what).toBe(CHARTS.length);
      for (const c of state.charts) {
        expect(c.chart, what).toBeGreaterThan(0);
        expect(c.chart, what).toBeLessThanOrEqual(c.figure);
      }
      expect(state.page, what).toBeLessThanOrEqual(state.window);
    };
    expectFit(await fits(), 'at 1280 px');
    // Narrower, still two columns: each cell shrinks (604 to 554 px), so every chart must.
    await page.setViewportSize({ width: 1180, height: 900 });
    // The script resizes after the window settles (100 ms): wait for it, then check.
    await expect.poll(async () => (await fits()).charts.every((c) => c.chart > 0 && c.chart <= c.figure), { timeout: 15_000 }).toBe(true);
    expectFit(await fits(), 'resized to 1180 px');
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});

describe('the bands report of runs shorter than one interval', () => {
  it('draws the one point of each band (--resolution 1h on runs of seconds)', async () => {
    const a = await scenario(TEXT, 'a.yaml');
    const seeds = await runSeeds(a, { seeds: 2, series: { resolutionSeconds: 3600 } });
    expect(seeds.series!.queues['emails']!.t_seconds).toHaveLength(1);
    const { page, errors } = await openSeedsReport('one-point.html', seeds);
    await page.selectOption('#queue', 'emails');
    await page.waitForSelector('body[data-rendered="emails"]');
    // Pixels in the variant's colour (#2563eb, its median) on each chart: a line of one point draws none.
    const blue = await page.$$eval('figure.chart canvas', (canvases) =>
      canvases.map((canvas) => {
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 0; i < pixels.length; i += 4) if (pixels[i + 3]! > 128 && pixels[i + 2]! > 180 && pixels[i]! < 120) n++;
        return n;
      }),
    );
    expect(blue).toHaveLength(CHARTS.length);
    for (const [i, n] of blue.entries()) expect(n, CHARTS[i]).toBeGreaterThan(20);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
