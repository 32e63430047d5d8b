/**
 * The real `pushq replay` (node bin/pushq.js) on a wall-clock log recorded by `pushq serve --data`:
 * `--at` as seconds since the first event or as an ISO 8601 instant (the same state, and the
 * output says which reading it used), `--tasks gave-up|most-attempts|longest-wait`, and `--ui`:
 * a log that is not a pushq log, is corrupt or torn gets `pushq replay`'s own errors and warning
 * before anything listens; flags that mean nothing together are usage errors; Ctrl-C stops it.
 */
import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';
import { RECORDED_QUEUE_YAML, startReplayUi } from '../helpers/replay-ui-process.js';
import { api } from '../helpers/serve-process.js';
import { dashboardFixture } from '../helpers/dashboard-fixture.js';

const fx = dashboardFixture('pushq-replay-ui-cli-', { queueYaml: RECORDED_QUEUE_YAML, worker: (r) => (r.url.startsWith('/fail/') ? 500 : 200), recordLog: true, serve: 'none', browser: 'none' });
let log: string;
let firstUs: number;

beforeAll(() => {
  log = fx.log;
  const lines = readFileSync(log, 'utf8').split('\n');
  firstUs = (JSON.parse(lines[1] as string) as { t: number }).t;
});

describe('pushq replay --at on a wall-clock log', () => {
  it('a bare number is seconds since the first event, an ISO 8601 instant is absolute: the same instant, the same state, and the output says which', async () => {
    // Halfway through the log, to the ms (an instant past its last event is refused).
    const lastMs = Date.parse((JSON.parse((await pushq(['replay', log, '--json'])).stdout) as { last_event_at: string }).last_event_at);
    const ms = Math.floor((Math.floor(firstUs / 1000) + lastMs) / 2);
    const iso = new Date(ms).toISOString();
    const seconds = String((ms * 1000 - firstUs) / 1e6);
    const [bySeconds, byInstant] = await Promise.all([pushq(['replay', log, '--at', seconds, '--json']), pushq(['replay', log, '--at', iso, '--json'])]);
    expect(bySeconds.code, bySeconds.stderr).toBe(0);
    const a = JSON.parse(bySeconds.stdout);
    const b = JSON.parse(byInstant.stdout);
    expect(a).toMatchObject({ at: iso, at_basis: 'seconds_since_first_event', at_seconds: Number(seconds) });
    expect(b).toMatchObject({ at: iso, at_basis: 'absolute', at_seconds: Number(seconds) });
    expect(b.queues).toEqual(a.queues);
    const text = await pushq(['replay', log, '--at', seconds]);
    expect(text.stdout.split('\n')[0]).toContain(`(state at ${iso}: --at ${seconds} read as seconds since the first event)`);
    const absolute = await pushq(['replay', log, '--at', iso]);
    expect(absolute.stdout.split('\n')[0]).toContain(`(state at ${iso}: --at ${iso} read as an ISO 8601 instant)`);
    // Neither form: a usage error naming both.
    const bad = await pushq(['replay', log, '--at', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^pushq replay: --at yesterday: expected seconds since the log's first event \(e\.g\. 12\.5\) or a duration since it \(e\.g\. 500ms, 1m, 2h\) or an ISO 8601 instant with its zone/);
  });
});

describe('pushq replay --tasks', () => {
  it('lists the tasks that gave up, with the most attempts, that waited longest, with their counts (text and JSON)', async () => {
    const gaveUp = JSON.parse((await pushq(['replay', log, '--tasks', 'gave-up', '--json'])).stdout);
    expect(gaveUp).toMatchObject({ list: 'gave-up', total: 3, at: null });
    // In the order they gave up: on this wall-clock log, the order their last attempts came back
    // (under load doomed-2 may end first), so the names as a set and the end times in order.
    expect(gaveUp.tasks.map((t: { task: string }) => t.task).sort()).toEqual(['doomed-0', 'doomed-1', 'doomed-2']);
    // A wall-clock log's instants are ISO 8601 (a virtual one's, seconds).
    const ended = gaveUp.tasks.map((t: { ended_at: string }) => Date.parse(t.ended_at));
    for (const at of ended) expect(Number.isFinite(at)).toBe(true);
    expect(ended).toEqual([...ended].sort((x, y) => x - y));
    expect(Object.keys(gaveUp.tasks[0])).toEqual(['task', 'queue', 'state', 'attempts', 'retries', 'responses', 'waited_seconds', 'longest_wait_seconds', 'last_status', 'last_failure', 'added_at', 'ended_at']);
    expect(gaveUp.tasks[0]).toMatchObject({ queue: 'orders', state: 'failed', attempts: 3, retries: 2, responses: 3, last_status: 500, last_failure: null });
    const most = JSON.parse((await pushq(['replay', log, '--tasks', 'most-attempts', '--limit', '2', '--json'])).stdout);
    expect(most.total).toBeGreaterThan(2);
    expect(most.tasks.map((t: { attempts: number }) => t.attempts)).toEqual([3, 3]);
    const waited = JSON.parse((await pushq(['replay', log, '--tasks', 'longest-wait', '--queue', 'mail', '--json'])).stdout);
    // Mail was paused while its tasks waited: they lead the list, and each wait is its story's.
    const top = waited.tasks[0];
    expect(top.queue).toBe('mail');
    expect(top.waited_seconds).toBeGreaterThan(0.2);
    const story = JSON.parse((await pushq(['replay', log, '--task', top.task, '--queue', 'mail', '--json'])).stdout);
    const sum = story.attempts.reduce((s: number, x: { waited_seconds: number }) => s + x.waited_seconds, 0);
    expect(top.waited_seconds).toBeCloseTo(sum, 6);
    expect(story.attempts[0].held_by_seconds.paused).toBeGreaterThan(0.2);
    const text = await pushq(['replay', log, '--tasks', 'gave-up']);
    expect(text.stdout).toMatch(/^.*events\.log: 3 tasks gave up \(in the order they gave up\)\ntask +queue +state +attempts +responses +waited +longest wait +last +added +ended\ndoomed-0 +orders +failed +3 +3 /);
    for (const [args, message] of [
      [['--tasks', 'slowest'], '--tasks wants one of gave-up, most-attempts, longest-wait (got "slowest")'],
      [['--limit', '3'], '--limit goes with --tasks'],
      [['--tasks', 'gave-up', '--task', 'x'], '--tasks and --task cannot be combined'],
    ] as const) {
      const r = await pushq(['replay', log, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`pushq replay: ${message}`);
    }
  });
});

describe('pushq replay --ui', () => {
  it('refuses a log that is not a pushq log, or is corrupt, with replay\'s own error, before anything listens', async () => {
    const notLog = join(fx.dir, 'notes.txt');
    writeFileSync(notLog, 'hello\nworld\n');
    const corrupt = join(fx.dir, 'corrupt.log');
    // An event early in the log changed (its batch's checksum no longer holds), complete batches after it.
    const lines = readFileSync(log, 'utf8').split('\n');
    const at = lines.findIndex((l, i) => i > 2 && l.startsWith('{"type":"TaskAdded"'));
    lines[at] = (lines[at] as string).replace(/"t":(\d)/, (_, d: string) => `"t":${(Number(d) + 1) % 10}`);
    writeFileSync(corrupt, lines.join('\n'));
    for (const file of [notLog, corrupt, join(fx.dir, 'missing.log')]) {
      const [replay, ui] = await Promise.all([pushq(['replay', file]), pushq(['replay', file, '--ui', '--port', '0'])]);
      expect(replay.code, file).toBe(1);
      expect(ui.code, file).toBe(1);
      expect(ui.stderr).toBe(replay.stderr);
      expect(ui.stdout).toBe('');
    }
    expect((await pushq(['replay', corrupt])).stderr).toMatch(/\(LOG_CORRUPT\)|corrupt/i);
  });

  it('a torn tail: the same warning as replay, then the dashboard over the complete batches; Ctrl-C stops it (exit 0)', async () => {
    const torn = join(fx.dir, 'torn.log');
    copyFileSync(log, torn);
    appendFileSync(torn, '{"type":"TaskAdded","t":1');
    const replay = await pushq(['replay', torn]);
    const ui = await startReplayUi(torn, ['--port', '0']);
    try {
      expect(ui.stderr()).toBe(replay.stderr);
      expect(replay.stderr).toMatch(/torn tail/);
      const figures = await api('GET', `${ui.url}/pushq/dashboard.json`);
      expect(figures.json.events).toBe(JSON.parse((await pushq(['replay', log, '--json'])).stdout).events);
    } finally {
      ui.child.kill('SIGINT');
    }
    expect(await ui.exited).toBe(0);
    expect(ui.stdout()).toMatch(/pushq replay: SIGINT: stopped\n$/);
  });

  it('--at opens the page at that instant; --port and --host only with --ui, and a loopback host only', async () => {
    const ui = await startReplayUi(log, ['--port', '0', '--at', '1']);
    ui.child.kill('SIGTERM');
    expect(await ui.exited).toBe(0);
    expect(ui.stdout()).toMatch(/^pushq replay: dashboard http:\/\/127\.0\.0\.1:\d+\/\?at=1 · .* · opens at 1 s \(--at 1 read as seconds since the first event\)/);
    for (const [args, message] of [
      [['--port', '0'], '--port goes with --ui'],
      [['--host', '127.0.0.1'], '--host goes with --ui'],
      [['--ui', '--json'], '--ui cannot be combined with --json'],
      [['--ui', '--task', 'x'], '--ui cannot be combined with --task'],
      [['--ui', '--queue', 'x'], "--ui cannot be combined with --queue here: the dashboard shows every queue of the log (--ui --queue picks a queue's log in a cluster's store, postgres://...)"],
      [['--ui', '--at', '99999'], '--at 99999: outside this log\'s span'],
    ] as const) {
      const r = await pushq(['replay', log, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`pushq replay: ${message}`);
    }
    const publicBind = await pushq(['replay', log, '--ui', '--host', '0.0.0.0']);
    expect(publicBind.code).toBe(1);
    expect(publicBind.stderr).toMatch(/^pushq replay: cannot start the dashboard: --host 0\.0\.0\.0 is not a loopback address: .*\(UNPROTECTED_PUBLIC_BIND\)\n$/);
    // A port in use: PORT_IN_USE, naming --port.
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as { port: number }).port;
    try {
      const busy = await pushq(['replay', log, '--ui', '--port', String(port)]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toContain(`port ${port} on 127.0.0.1 is in use by another process: stop it, or choose another port with --port N`);
    } finally {
      taken.close();
    }
  });

  it('--allow-host NAME: a request whose Host names NAME is answered, another name still refused; only with --ui', async () => {
    const ui = await startReplayUi(log, ['--port', '0', '--allow-host', 'dev.test']);
    const get = (host: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const u = new URL(ui.url);
        const req = request({ host: u.hostname, port: u.port, path: '/pushq/dashboard.json', headers: { host } }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      expect((await get(`dev.test:${new URL(ui.url).port}`)).status).toBe(200);
      const evil = await get('evil.com');
      expect(evil.status).toBe(403);
      expect(evil.body).toContain('HOST_NOT_ALLOWED');
      // No Host at all (HTTP/1.1): the same refusal in Google's shape, not Node's bare 400.
      const bare = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(ui.url).port), '127.0.0.1');
        let text = '';
        socket.on('data', (b: Buffer) => (text += b.toString('utf8')));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
        socket.write('GET /pushq/dashboard.json HTTP/1.1\r\nConnection: close\r\n\r\n');
      });
      expect(bare).toMatch(/^HTTP\/1\.1 403 /);
      expect(bare).toContain('the request has no Host header');
    } finally {
      ui.child.kill('SIGTERM');
    }
    expect(await ui.exited).toBe(0);
    const alone = await pushq(['replay', log, '--allow-host', 'dev.test']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('pushq replay: --allow-host goes with --ui');
    const invalid = await pushq(['replay', log, '--ui', '--allow-host', 'http://dev.test/']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('(ALLOW_HOST_INVALID)');
  });

  it('is read-only: every POST (a queue command, /pushq/reload, /rpc_http, a read path) is refused as UNSUPPORTED_METHOD, as docs/dashboard.md says', async () => {
    const ui = await startReplayUi(log, ['--port', '0']);
    try {
      for (const path of ['/v2/projects/p/locations/l/queues/flaky:pause', '/pushq/reload', '/rpc_http', '/pushq/dashboard.json']) {
        const r = await api('POST', `${ui.url}${path}`, {});
        expect(r.status, path).toBe(404);
        expect(r.json.error.message, path).toMatch(/\(UNSUPPORTED_METHOD\)$/);
      }
      expect((await api('GET', `${ui.url}/v2/projects/p/locations/l/queues`)).json.error.message).toMatch(/\(UNKNOWN_PATH\)$/);
    } finally {
      ui.child.kill('SIGTERM');
    }
    expect(await ui.exited).toBe(0);
  });
});
