/**
 * The dashboard's files: its page (`GET /`, `GET /dashboard`), the login page (security.ts serves
 * it when the server has a token and the browser no session), and their CSS and scripts
 * (`GET /pushq/assets/NAME`). They are real files in `dashboard/` at the package root: the
 * scripts are plain JavaScript type-checked by tsc (dashboard/tsconfig.json), and
 * test/server/dashboard-assets.test.ts checks that the pages name only files served here.
 *
 * The folder is found relative to this module, two levels up: from src/server/ (vitest, tsx) and
 * from dist/server/ (the package, which ships `dashboard/` through package.json "files") alike.
 *
 * The pages' Content-Security-Policy admits scripts and styles from pushq itself only: no inline
 * script or style runs, so markup that reached the page through a task's data could not run
 * either (the script also writes all server text with textContent).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { LoginPage } from './security.js';

export const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));

/** The URL path under which ASSETS are served. */
export const ASSETS_PATH = '/pushq/assets/';

/** Files served under ASSETS_PATH, with their types; nothing else in the folder is served. */
export const ASSETS: Readonly<Record<string, string>> = {
  'dashboard.css': 'text/css; charset=utf-8',
  // The dashboard's script is a module that imports the next ones.
  'dashboard.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'cursor.js': 'text/javascript; charset=utf-8',
  'timeline.js': 'text/javascript; charset=utf-8',
  'plots.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'tasks.js': 'text/javascript; charset=utf-8',
  'story.js': 'text/javascript; charset=utf-8',
  'view.js': 'text/javascript; charset=utf-8',
  'login.js': 'text/javascript; charset=utf-8',
  // Asked for by every browser; without it, each page load logs a failed request.
  'favicon.svg': 'image/svg+xml',
};

/**
 * Files served under ASSETS_PATH from pushq's own npm dependencies, never from a CDN (the page
 * opens offline, and its policy admits nothing from elsewhere): uPlot's browser build, which
 * defines the global `uPlot` the charts draw with, and its stylesheet. The same library and files
 * as the HTML report (src/simulate/report/chart-library.ts).
 */
export const PACKAGE_ASSETS: Readonly<Record<string, { type: string; file: string }>> = {
  'uplot.js': { type: 'text/javascript; charset=utf-8', file: 'uplot/dist/uPlot.iife.min.js' },
  'uplot.css': { type: 'text/css; charset=utf-8', file: 'uplot/dist/uPlot.min.css' },
};

/** The HTML pages, by what they are. */
export const PAGES = { dashboard: 'index.html', login: 'login.html' } as const;

const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface ServedFile {
  body: Buffer;
  headers: Readonly<Record<string, string>>;
}

const loaded = new Map<string, ServedFile>();

/** A file of the folder (or, given `path`, of a package) with the headers it is served with; read once. */
function file(name: string, type: string, headers: Readonly<Record<string, string>> = {}, path = `${DASHBOARD_DIR}${name}`): ServedFile {
  let f = loaded.get(name);
  if (f === undefined) {
    let body: Buffer;
    try {
      body = readFileSync(path);
    } catch (err) {
      throw new Error(`the dashboard's file ${name} cannot be read from ${path} (${(err as Error).message}); this install of pushq is incomplete`);
    }
    f = { body, headers: { 'content-type': type, ...headers } };
    loaded.set(name, f);
  }
  return f;
}

/** The dashboard's page, or the login page. */
export function page(which: keyof typeof PAGES): ServedFile {
  return file(PAGES[which], 'text/html; charset=utf-8', { 'content-security-policy': PAGE_CSP });
}

/** An asset by its name under ASSETS_PATH, or undefined when there is none of that name. */
export function asset(name: string): ServedFile | undefined {
  const fromPackage = Object.hasOwn(PACKAGE_ASSETS, name) ? PACKAGE_ASSETS[name] : undefined;
  if (fromPackage !== undefined) return file(name, fromPackage.type, {}, packageFile(fromPackage.file));
  const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  return type === undefined ? undefined : file(name, type);
}

/** A file of an installed package, found as Node finds the package. */
export function packageFile(file: string): string {
  return createRequire(import.meta.url).resolve(file);
}

export function sendFile(res: ServerResponse, status: number, f: ServedFile): void {
  res.writeHead(status, { ...f.headers, 'content-length': f.body.length });
  res.end(f.body);
}

export const LOGIN_PAGE: LoginPage = {
  serve: (res, status) => sendFile(res, status, page('login')),
};
