/**
 * The dashboard's files (dashboard/ at the package root) as served: each page names only files
 * that exist and are served, with no inline script or style (the Content-Security-Policy would
 * block them, and allowing them would let markup in a task's data run); the scripts are
 * type-checked JavaScript; the folder ships with the package and is found from dist/ too.
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQueueConfig, requireValidConfig } from '../../src/index.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { ASSETS, ASSETS_PATH, DASHBOARD_DIR, PACKAGE_ASSETS, PAGES, packageFile } from '../../src/server/dashboard-page.js';
import { PushqService } from '../../src/server/service.js';
import { ROOT } from '../helpers/serve-process.js';
import { QUEUE_LIMITS } from '../../src/config/types.js';
import { TASK_LIST_LIMIT_MAX, TASK_SEARCH_LENGTH_MAX } from '../../src/server/task-search.js';

let service: PushqService;

beforeAll(async () => {
  const config = requireValidConfig(parseQueueConfig('queue:\n- name: q\n  rate: 1/s\n', { file: 'queue.yaml' }));
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  service = await PushqService.start({ config, targets: {}, log });
});

afterAll(async () => {
  await service?.close(1000);
});

const pageFiles = Object.values(PAGES);
const read = (name: string) => readFileSync(join(ROOT, 'dashboard', name), 'utf8');

/** The URLs a page loads (src and href attributes). */
function references(html: string): string[] {
  return [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
}

describe('the dashboard page', () => {
  it('is served at / and /dashboard with a policy that admits scripts and styles from pushq only', async () => {
    for (const path of ['/', '/dashboard']) {
      const res = await fetch(`${service.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain("style-src 'self';");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).toBe(read('index.html'));
    }
  });

  it.each(pageFiles)('%s names only files that exist and are served, with their types', async (name) => {
    const refs = references(read(name));
    expect(refs.length).toBeGreaterThanOrEqual(2);
    for (const ref of refs) {
      expect(ref.startsWith(ASSETS_PATH), ref).toBe(true);
      const file = ref.slice(ASSETS_PATH.length);
      // A file of the folder, or one of a package (uPlot), never from elsewhere.
      const fromPackage = PACKAGE_ASSETS[file];
      if (fromPackage === undefined) expect(Object.keys(ASSETS), ref).toContain(file);
      const res = await fetch(`${service.url}${ref}`);
      expect(res.status, ref).toBe(200);
      expect(res.headers.get('content-type')).toBe(fromPackage === undefined ? ASSETS[file] : fromPackage.type);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).toBe(fromPackage === undefined ? read(file) : readFileSync(packageFile(fromPackage.file), 'utf8'));
    }
  });

  it('serves uPlot from its npm package: the version package.json pins, not a copy or a CDN', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const uplot = JSON.parse(readFileSync(packageFile('uplot/package.json'), 'utf8')) as { version: string };
    expect(uplot.version).toBe(pkg.dependencies['uplot']);
    expect(packageFile(PACKAGE_ASSETS['uplot.js']!.file)).toMatch(/\/node_modules\/uplot\/dist\/uPlot\.iife\.min\.js$/);
    expect(read('index.html')).not.toMatch(/https?:\/\//);
  });

  it.each(pageFiles)('%s has no inline script, style or event handler', (name) => {
    const html = read(name);
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(m[1], 'every script is a file').toMatch(/\ssrc="/);
      expect(m[2]!.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/);
    expect(html).not.toMatch(/\sstyle="/);
    expect(html).not.toMatch(/\son[a-z]+="/i);
  });

  it('serves the folder\'s files and no other, and every file in it is served', async () => {
    const inFolder = readdirSync(join(ROOT, 'dashboard')).filter((f) => f !== 'tsconfig.json').sort();
    expect(inFolder).toEqual([...Object.keys(ASSETS), ...pageFiles].sort());
    for (const path of ['tsconfig.json', 'index.html', '..%2Fpackage.json', '%2e%2e', 'nope.js']) {
      const res = await fetch(`${service.url}${ASSETS_PATH}${path}`);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/\(UNKNOWN_PATH\)$/);
    }
  });

  it('the scripts import only files that are served', () => {
    for (const name of Object.keys(ASSETS).filter((f) => f.endsWith('.js'))) {
      for (const [, spec] of read(name).matchAll(/^import [^;]* from '([^']+)';$/gm)) {
        expect(spec, `${name} imports ${spec}`).toMatch(/^\.\/[a-z-]+\.js$/);
        expect(Object.keys(ASSETS), `${name} imports ${spec}`).toContain(spec!.slice(2));
      }
    }
    expect(read('dashboard.js')).toMatch(/^import .* from '\.\/story\.js';$/m);
  });

  it('scripts are type-checked, write server text as text, and never build markup', async () => {
    for (const name of Object.keys(ASSETS).filter((f) => f.endsWith('.js'))) {
      const js = read(name);
      expect(js.startsWith('// @ts-check\n'), name).toBe(true);
      const code = js.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
      expect(code, name).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    }
    // The same check as `npm run typecheck`: a type error in a script fails here.
    await promisify(execFile)('npx', ['tsc', '-p', 'dashboard'], { cwd: ROOT });
  });

  it('the facts the scripts copy from src/ (a browser script cannot import it) are the same as there', () => {
    // view.js reads a shared URL's queue names and search as the server takes them.
    const view = read('view.js');
    expect(/^const QUEUE_NAME = \/(.+)\/;$/m.exec(view)?.[1], 'view.js QUEUE_NAME').toBe(QUEUE_LIMITS.queue_name_pattern.source);
    expect(Number(/^const SEARCH_MAX = (\d+);$/m.exec(view)?.[1]), 'view.js SEARCH_MAX').toBe(TASK_SEARCH_LENGTH_MAX);
    // tasks.js asks for a list the read API gives.
    const limit = Number(/^export const TASK_LIMIT = (\d+);$/m.exec(read('tasks.js'))?.[1]);
    expect(limit, 'tasks.js TASK_LIMIT').toBeGreaterThanOrEqual(1);
    expect(limit, 'tasks.js TASK_LIMIT').toBeLessThanOrEqual(TASK_LIST_LIMIT_MAX);
  });

  it('ships with the package and is found from dist/ as from src/', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('dashboard');
    expect(DASHBOARD_DIR).toBe(join(ROOT, 'dashboard') + '/');
    const built = (await import(join(ROOT, 'dist', 'server', 'dashboard-page.js'))) as { DASHBOARD_DIR: string };
    expect(built.DASHBOARD_DIR).toBe(DASHBOARD_DIR);
  });
});
