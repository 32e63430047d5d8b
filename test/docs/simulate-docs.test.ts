/**
 * docs/simulate.md stays true: its library examples run and print what it shows, its pasted
 * worked-example output is what the CLI prints today (wall seconds aside), and its issue-code
 * table lists exactly the codes of src/scenario/issues.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SCENARIO_ISSUE_CODES } from '../../src/scenario/issues.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'simulate.md'), 'utf8');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: ROOT }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      if (code === null) reject(error);
      else resolve({ code, stdout, stderr });
    });
  });
}

/** The fenced blocks of one section, in order. */
function blocks(section: string): { lang: string; body: string }[] {
  const start = DOC.indexOf(`\n## ${section}\n`);
  expect(start, section).toBeGreaterThan(-1);
  const end = DOC.indexOf('\n## ', start + 1);
  const text = DOC.slice(start, end === -1 ? undefined : end);
  return [...text.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1] ?? '', body: m[2] ?? '' }));
}

/** A doc example as a module importing the built package instead of `'pushq'`. */
function asModule(body: string): string {
  expect(body).toContain("from 'pushq'");
  const path = join(mkdtempSync(join(tmpdir(), 'pushq-docs-')), 'example.mjs');
  writeFileSync(path, body.replace(/from 'pushq'/g, `from '${pathToFileURL(join(ROOT, 'dist', 'index.js')).href}'`));
  return path;
}

describe('docs/simulate.md', () => {
  it('the createSimulation example runs and prints the output shown under it', async () => {
    const [example, output] = blocks('Library API');
    expect(example?.lang).toBe('js');
    const r = await run([asModule(example!.body)]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(output!.body);
  });

  it('the scenario example runs', async () => {
    const example = blocks('Library API')[2];
    const r = await run([asModule(example!.body)]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1000\n');
  });

  it('shows the real output of the worked example (wall seconds aside)', async () => {
    const pasted = blocks('The worked example')[0]!.body;
    const sections = pasted.split(/^\$ npx pushq /m).filter(Boolean);
    expect(sections).toHaveLength(3);
    const wall = (s: string) => s.replace(/in [\d.]+ wall seconds/, 'in W wall seconds').trimEnd();
    for (const section of sections) {
      const [command, ...output] = section.split('\n');
      const r = await run(['bin/pushq.js', ...command!.split(' ')]);
      expect(r.code).toBe(0);
      expect(wall(r.stdout), command).toBe(wall(output.join('\n')));
    }
  });

  it("README's simulate section shows the real output of examples/default.yaml (wall seconds aside)", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Simulate\n'));
    const [command, output] = [...section.matchAll(/```\w*\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(command).toBe('npx pushq simulate examples/default.yaml\n');
    const r = await run(['bin/pushq.js', 'simulate', 'examples/default.yaml']);
    const wall = (s: string) => s.replace(/in [\d.]+ wall seconds/, 'in W wall seconds');
    expect(wall(r.stdout)).toBe(wall(output!));
  });

  it("states the real size of examples/default.yaml's report and series", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushq-docs-'));
    const [html, csv] = [join(dir, 'r.html'), join(dir, 's.csv')];
    expect((await run(['bin/pushq.js', 'simulate', 'examples/default.yaml', '--report', html, '--series', csv])).code).toBe(0);
    const page = readFileSync(html);
    const data = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(page.toString('utf8'))?.[1] ?? '';
    const charted = (JSON.parse(data) as { order: string[] }).order.length;
    const said = /report of `examples\/default\.yaml` \((\d+) queues and `\*`, ([\d,]+) points each\)\s+weighs (\d+) KB \((\d+) KB gzipped\): \d+ KB of uPlot, \d+ KB of the page's script, (\d+) KB of series\s+data/.exec(DOC);
    expect(said, 'the size sentence').not.toBeNull();
    const [queues, each, kb, gzippedKb, dataKb] = said!.slice(1).map((n) => Number(n!.replace(/,/g, '')));
    const rows = readFileSync(csv, 'utf8').trimEnd().split('\n').slice(1);
    expect(queues).toBe(charted - 1);
    expect(each).toBe(rows.filter((r) => r.split(',')[1] === '*').length);
    // Sizes in KB of 1,000 bytes, to within 2 KB.
    expect(Math.abs(kb! - page.length / 1000)).toBeLessThan(2);
    expect(Math.abs(gzippedKb! - gzipSync(page).length / 1000)).toBeLessThan(2);
    expect(Math.abs(dataKb! - Buffer.byteLength(data) / 1000)).toBeLessThan(2);
  });

  it('lists every scenario issue code, and no other', () => {
    const table = DOC.slice(DOC.indexOf('\n## Issue codes\n'));
    const documented = [...table.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual(Object.keys(SCENARIO_ISSUE_CODES));
  });
});
