/**
 * The HTML report as text: one self-contained document (nothing it could fetch), every text from
 * outside escaped, the data block parseable back to the series it was given, the tables showing
 * each queue's figures; and writing it all or nothing (real files in a temp directory).
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml, jsonForScript } from '../../src/simulate/report/escape.js';
import { concurrencyTerm, formatNumber } from '../../src/simulate/report/figures-table.js';
import { renderReport } from '../../src/simulate/report/render.js';
import { checkReportPath, ReportPathError, writeReportFile } from '../../src/simulate/report/write.js';
import { fixtureReport } from './report-fixture.js';

const HOSTILE = `x</script><script>alert(1)</script><!--'"&`;

function dataBlock(html: string): string {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  expect(m, 'the data block').not.toBeNull();
  return (m as RegExpExecArray)[1] as string;
}

describe('renderReport', () => {
  const input = fixtureReport({ names: ['emails', HOSTILE], points: 50 });
  input.scenario = { file: 'a<b>&"c".yaml', text: `# </pre><script>alert("yaml")</script>\nqueue: []\n` };
  const html = renderReport(input);

  it('is one document that loads nothing: no src, href, @import or url() to fetch', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<(script|img|iframe|link|source|video|audio|embed|object)\b[^>]*\s(src|href|data)=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/@import/i);
    expect(html).not.toMatch(/url\(\s*['"]?(?!data:)/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none';`);
    // uPlot itself, inlined from the npm package
    expect(html).toMatch(/var uPlot=function\(\)/);
    expect(html).toContain('.u-legend');
  });

  it('escapes the scenario file name, its YAML and queue names everywhere they are shown', () => {
    expect(html).toContain('<h1>pushq simulate: <span id="scenario-file">a&lt;b&gt;&amp;&quot;c&quot;.yaml</span></h1>');
    expect(html).toContain('<pre id="scenario-text">\n# &lt;/pre&gt;&lt;script&gt;alert(&quot;yaml&quot;)&lt;/script&gt;\nqueue: []\n</pre>');
    expect(html).toContain(`<tr data-queue="${escapeHtml(HOSTILE)}"><th scope="row">${escapeHtml(HOSTILE)}</th>`);
    expect(html).not.toContain('alert(1)</script>');
    expect(html).not.toContain('alert("yaml")');
    // exactly the page's own three scripts
    expect(html.match(/<script\b/g)).toHaveLength(3);
    expect(html.match(/<\/script>/g)).toHaveLength(3);
  });

  it('embeds the series as JSON the HTML parser cannot end early, and it parses back to the same data', () => {
    const block = dataBlock(html);
    expect(block).not.toMatch(/<\/script/i);
    expect(block).not.toContain('<!--');
    const data = JSON.parse(block) as { order: string[]; series: unknown; figures: Record<string, { bound: unknown }> };
    expect(data.order).toEqual(['*', 'emails', HOSTILE]);
    expect(data.series).toEqual(input.series.queues);
    expect(data.figures[HOSTILE]?.bound).toEqual(input.stats.queues[HOSTILE]?.bound);
  });

  it('jsonForScript: every < becomes \\u003c (and the line separators are escaped), the value is unchanged', () => {
    const value = { s: '</script><!-- \u2028\u2029 <b>' };
    const text = jsonForScript(value);
    expect(text).not.toMatch(/[<\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(value);
  });

  it("shows each queue's figures in the tables, by field", () => {
    const q = input.stats.queues['emails']!;
    const row = new RegExp(`<tr data-queue="emails">([\\s\\S]*?)</tr>`, 'g');
    const [figures, bound] = [...html.matchAll(row)].map((m) => m[1] as string);
    const cell = (rowHtml: string | undefined, field: string) => new RegExp(`<td data-field="${field}">([^<]*)</td>`).exec(rowHtml ?? '')?.[1];
    expect(cell(figures, 'tasks_added')).toBe(String(q.tasks_added));
    expect(cell(figures, 'failed')).toBe(String(q.failed));
    expect(cell(figures, 'backlog_max')).toBe(String(q.backlog_max));
    expect(cell(figures, 'wait_seconds.p99')).toBe('19.1'); // 19.125 to three figures
    expect(cell(figures, 'completion_seconds.p99')).toBe('40.3');
    expect(cell(bound, 'bound.throughput_per_second')).toBe('10');
    expect(cell(bound, 'dispatch_rate_mean_per_second')).toBe('9.75');
    expect(cell(bound, 'bound.binding')).toBe('rate');
    expect(cell(bound, 'wait_by_cause_task_seconds')).toBe('tokens (9500 task·s)');
    // The one computed column says what it computes, not a field --json lacks.
    expect(/<td data-derived="bound\.max_concurrent_requests \/ bound\.mean_latency_seconds">([^<]*)<\/td>/.exec(bound ?? '')?.[1]).toBe('20'); // 5 / 0.25 s
  });

  it('every data-field names a field of the --json queue figures', () => {
    const q = input.stats.queues['emails']! as unknown as Record<string, unknown>;
    const fields = [...html.matchAll(/data-field="([^"]+)"/g)].map((m) => m[1]!);
    expect(fields.length).toBeGreaterThan(20);
    for (const field of new Set(fields)) {
      const value = field.split('.').reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), q);
      expect(value, field).not.toBeUndefined();
    }
  });

  it("computes the bound's second term and rounds figures for reading", () => {
    const base = { rate_per_second: 20, bucket_size: 40, max_concurrent_requests: 10, mean_latency_seconds: 5, throughput_per_second: 2, binding: 'max_concurrent_requests' as const, drain_lower_bound_seconds: 10 };
    expect(concurrencyTerm(base)).toBe(2);
    expect(concurrencyTerm({ ...base, max_concurrent_requests: null })).toBeNull();
    expect(concurrencyTerm({ ...base, mean_latency_seconds: 0 })).toBeNull();
    expect([formatNumber(null), formatNumber(0.30000000000000004), formatNumber(1234.5), formatNumber(12.345)]).toEqual(['—', '0.3', '1235', '12.3']);
  });

  it('says so when no queue received tasks', () => {
    const empty = renderReport({ ...input, stats: { ...input.stats, queues: {} } });
    expect(empty).toContain('no queue received tasks');
  });
});

describe('writeReportFile and checkReportPath', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pushq-report-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const input = fixtureReport({ queues: 1, points: 10 });

  it('writes the rendered page, replacing a previous file, and leaves no temporary file', async () => {
    const path = join(dir, 'report.html');
    await writeFile(path, 'old');
    await checkReportPath(path);
    await writeReportFile(path, input);
    expect(await readFile(path, 'utf8')).toBe(renderReport(input));
    expect(await readdir(dir)).toEqual(['report.html']);
  });

  it('refuses a missing directory and a directory, before and at writing, leaving nothing behind', async () => {
    const missing = join(dir, 'no-such-dir', 'r.html');
    const folder = join(dir, 'folder');
    await mkdir(folder);
    for (const [path, reason] of [[missing, 'no such directory (ENOENT)'], [folder, 'it is a directory']] as const) {
      for (const attempt of [() => checkReportPath(path), () => writeReportFile(path, input)]) {
        const error = await attempt().then(() => null, (e: unknown) => e);
        expect(error).toBeInstanceOf(ReportPathError);
        expect((error as ReportPathError).code).toBe('REPORT_PATH_UNWRITABLE');
        expect((error as ReportPathError).message).toBe(`cannot write the report ${path}: ${reason}`);
      }
    }
    expect((await readdir(dir)).sort()).toEqual(['folder', 'report.html']);
    expect(await readdir(folder)).toEqual([]);
  });
});
