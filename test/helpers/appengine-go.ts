/**
 * Google's App Engine Go library (Debian's golang-google-appengine-dev, installed by
 * .ci/ensure-go.sh) running a fixture program against a real `pushq serve`: built and run as
 * docs/app-engine.md's GOPATH-mode command says, its API calls sent to the service's /rpc_http.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './serve-process.js';

const run = promisify(execFile);
export const GOPATH = '/usr/share/gocode';

/** Throws, saying how to install it, unless the library's `file` (e.g. `taskqueue/taskqueue.go`) is there. */
export function requireAppEngineGoLibrary(file: string): void {
  const path = join(GOPATH, 'src/google.golang.org/appengine', file);
  if (!existsSync(path)) throw new Error(`Google's App Engine Go library is not at ${path}: run bash .ci/ensure-go.sh (Debian: apt-get install golang-go golang-google-appengine-dev)`);
}

/** What `go build` and `go run` need to build against the library in GOPATH mode (docs/app-engine.md). */
export function goBuildEnv(): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? tmpdir(), GOCACHE: join(tmpdir(), 'pushq-gocache'), GO111MODULE: 'off', GOPATH, CGO_ENABLED: '0', GOFLAGS: '' };
}

/** Writes `source` as `dir`/main.go and builds it against the library (GOPATH mode); the program's path. */
export async function buildGoProgram(dir: string, source: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'main.go'), source);
  const program = join(dir, 'app');
  await run('go', ['build', '-o', program, '.'], { cwd: dir, env: goBuildEnv(), timeout: 240_000 });
  return program;
}

/**
 * The App Engine environment the library reads at run time: app `app` (e.g. `s~my-app`), default
 * service, version v1, its API calls sent to `apiUrl`'s port on 127.0.0.1 (/rpc_http).
 */
export function appEngineEnv(apiUrl: string, app: string): Record<string, string> {
  return {
    API_HOST: '127.0.0.1',
    API_PORT: new URL(apiUrl).port,
    // datastore.RunInTransaction reads the app from GAE_APPLICATION (else it asks the metadata server).
    GAE_APPLICATION: app,
    GAE_LONG_APP_ID: app,
    GAE_MODULE_NAME: 'default',
    GAE_MODULE_VERSION: 'v1',
    GAE_MINOR_VERSION: '1',
    GAE_MODULE_INSTANCE: '0',
  };
}

/**
 * Runs test/fixtures/`fixture` (or the directory `fixture`, when absolute: a program a test wrote),
 * a Go program printing one JSON document, with the App Engine
 * environment of app `s~my-app`, default service, version v1, its API host `serveUrl`'s; returns
 * what it printed.
 */
export async function runAppEngineGoFixture(fixture: string, serveUrl: string): Promise<any> {
  const { stdout } = await run('go', ['run', '.'], {
    cwd: isAbsolute(fixture) ? fixture : join(ROOT, 'test/fixtures', fixture),
    timeout: 300_000,
    env: { ...goBuildEnv(), ...appEngineEnv(serveUrl, 's~my-app') },
  });
  return JSON.parse(stdout);
}
