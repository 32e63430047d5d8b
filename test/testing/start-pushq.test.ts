/**
 * `startPushq` from `pushq/testing`, imported as a user would: a real service in the test process
 * (memory log, free ports, REST and gRPC), `reset()` between tests (every task and tombstone
 * dropped, queues kept), `close()`. And the reset's guard: `POST /pushq/reset` is refused unless
 * the server was started with `--allow-reset`. And its refusals: under the rules pushq serve's
 * flags follow, naming the options a user gave (`targets.default`, `authToken`), not the flags.
 */
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { PushqResetError, startPushq, type RunningPushq } from 'pushq/testing';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVE } from '../../src/cli/serve.js';
import { CliUsageError, parseCommandLine } from '../../src/cli/args.js';
import { defaultQueueFileConfig } from '../../src/config/defaults.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { PushqService } from '../../src/server/service.js';
import { api, startServe } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const YAML = `
queue:
- name: emails
  rate: 20/s
- name: held
  rate: 20/s
`;

let worker: Worker;
let a: RunningPushq;
let b: RunningPushq;

beforeAll(async () => {
  worker = await startWorker((r) => (r.url.startsWith('/slow') ? { status: 200, delayMs: 500 } : 200));
  // Two at once: each picks its own free ports.
  [a, b] = await Promise.all([startPushq({ queueYaml: YAML, targets: { default: worker.url } }), startPushq({ targets: { default: worker.url } })]);
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await worker?.close();
});

const queues = (p: RunningPushq): string => `${p.url}/v2/projects/p/locations/l/queues`;

describe('startPushq', () => {
  it('starts a real service on free ports: REST and gRPC reach the same engine, tasks reach the worker', async () => {
    expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(a.url).not.toBe(b.url);
    expect(a.grpcPort).not.toBe(b.grpcPort);
    expect(a.grpcEndpoint).toBe(`127.0.0.1:${a.grpcPort}`);
    expect((await api('GET', queues(a))).json.queues.map((q: any) => q.name.split('/').pop())).toEqual(['default', 'emails', 'held']);
    expect((await api('GET', queues(b))).json.queues.map((q: any) => q.name.split('/').pop())).toEqual(['default']);

    expect((await api('POST', `${queues(a)}/emails/tasks`, { task: { appEngineHttpRequest: { relativeUri: '/rest' } } })).status).toBe(200);
    const client = new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: a.grpcPort, sslCreds: grpc.credentials.createInsecure() });
    try {
      await client.createTask({ parent: client.queuePath('p', 'l', 'emails'), task: { appEngineHttpRequest: { relativeUri: '/grpc' } } });
    } finally {
      await client.close();
    }
    await worker.waitFor((rs) => rs.some((r) => r.url === '/rest') && rs.some((r) => r.url === '/grpc'), EVENT_BOUND_MS, 'both tasks');
  });

  it('reset drops every task and tombstone and keeps the queues (a paused queue stays paused)', async () => {
    await api('POST', `${queues(a)}/held:pause`, {});
    const named = { task: { name: 'projects/p/locations/l/queues/held/tasks/once', appEngineHttpRequest: { relativeUri: '/never' } } };
    expect((await api('POST', `${queues(a)}/held/tasks`, named)).status).toBe(200);
    expect((await api('POST', `${queues(a)}/held/tasks`, { task: { appEngineHttpRequest: { relativeUri: '/never' } } })).status).toBe(200);
    // A name ended now is a tombstone: taken for 9 days.
    expect((await api('POST', `${queues(a)}/emails/tasks`, { task: { name: 'projects/p/locations/l/queues/emails/tasks/gone', appEngineHttpRequest: { relativeUri: '/gone' } } })).status).toBe(200);
    await api('DELETE', `${queues(a)}/emails/tasks/gone`);
    expect((await api('POST', `${queues(a)}/emails/tasks`, { task: { name: 'projects/p/locations/l/queues/emails/tasks/gone', appEngineHttpRequest: {} } })).json.error.message).toMatch(/TOMBSTONED_TASK/);
    // One attempt in flight across the reset: it finishes, and nothing breaks.
    expect((await api('POST', `${queues(a)}/emails/tasks`, { task: { appEngineHttpRequest: { relativeUri: '/slow' } } })).status).toBe(200);
    await worker.waitFor((rs) => rs.some((r) => r.url === '/slow'), EVENT_BOUND_MS, 'the slow attempt');

    await a.reset();

    expect((await api('GET', `${queues(a)}/held/tasks`)).json.tasks ?? []).toEqual([]);
    expect((await api('GET', `${queues(a)}/emails/tasks`)).json.tasks ?? []).toEqual([]);
    const held = (await api('GET', `${queues(a)}/held`)).json;
    expect(held.state).toBe('PAUSED');
    expect((await api('GET', queues(a))).json.queues).toHaveLength(3);
    // The names are free again, tombstone included.
    expect((await api('POST', `${queues(a)}/held/tasks`, named)).status).toBe(200);
    expect((await api('POST', `${queues(a)}/emails/tasks`, { task: { name: 'projects/p/locations/l/queues/emails/tasks/gone', appEngineHttpRequest: { relativeUri: '/after' } } })).status).toBe(200);
    await worker.waitFor((rs) => rs.some((r) => r.url === '/after'), EVENT_BOUND_MS, 'a task after the reset');
    await new Promise((r) => setTimeout(r, 600)); // the slow attempt ends, orphaned
    expect((await api('GET', `${a.url}/pushq/health`)).json.ok).toBe(true);
    expect(worker.forUrl('/never')).toHaveLength(0);
  });

  it('queueYaml takes a queue.xml too, as its doc says: read as XML, its issues named queue.xml (it was read as YAML and refused)', async () => {
    const xml = '<?xml version="1.0" encoding="UTF-8"?>\n<queue-entries>\n  <queue>\n    <name>xq</name>\n    <rate>5/s</rate>\n  </queue>\n</queue-entries>\n';
    const p = await startPushq({ queueYaml: xml });
    try {
      expect((await api('GET', queues(p))).json.queues.map((q: any) => q.name.split('/').pop())).toEqual(['default', 'xq']);
    } finally {
      await p.close();
    }
    expect(await refusal(startPushq({ queueYaml: xml.replace('5/s', '600/s') }))).toMatch(/^invalid queue configuration \(1 error\):\nqueue\.xml:5:\d+ error rate 600\/s is above App Engine's maximum of 500 per second \(rate-max\)$/);
  });

  it('reset is refused unless allowed: startPushq({ allowReset: false }), or pushq serve without --allow-reset', async () => {
    const closed = await startPushq({ allowReset: false });
    try {
      const r = await api('POST', `${closed.url}/pushq/reset`, {});
      expect(r.status).toBe(400);
      expect(r.json.error.status).toBe('FAILED_PRECONDITION');
      expect(r.json.error.message).toMatch(/--allow-reset.*\(RESET_NOT_ALLOWED\)$/);
      await expect(closed.reset()).rejects.toThrow(/RESET_NOT_ALLOWED/);
    } finally {
      await closed.close();
    }
    const plain = await startServe(['--memory']);
    const allowed = await startServe(['--memory', '--allow-reset']);
    try {
      expect((await api('POST', `${plain.url}/pushq/reset`, {})).status).toBe(400);
      const r = await api('POST', `${allowed.url}/pushq/reset`, {});
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ reset: true, queues: ['default'] });
    } finally {
      plain.child.kill('SIGTERM');
      allowed.child.kill('SIGTERM');
      await Promise.all([plain.exited, allowed.exited]);
    }
  });
});

describe('reset() refused', () => {
  it("throws a PushqResetError naming startPushq's option, not pushq serve's flag or the API's raw JSON", async () => {
    const held = await startPushq({ allowReset: false });
    try {
      const error = await held.reset().then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(PushqResetError);
      expect((error as PushqResetError).code).toBe('RESET_NOT_ALLOWED');
      expect((error as PushqResetError).message).toBe(
        'startPushq reset(): this pushq was started with allowReset: false, so it does not serve POST /pushq/reset; start it without that option to reset between tests (RESET_NOT_ALLOWED)',
      );
    } finally {
      await held.close();
    }
  });

  it('after close(), says so (PUSHQ_CLOSED), not "TypeError: fetch failed"', async () => {
    const gone = await startPushq();
    await gone.close();
    const error = await gone.reset().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(PushqResetError);
    expect((error as PushqResetError).message).toBe('startPushq reset(): this pushq was closed; start another with startPushq (PUSHQ_CLOSED)');
  });
});

/** The message a start rejects with (the error's code is at its end). */
async function refusal(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => {
      throw new Error('it started');
    },
    (err: unknown) => (err as Error).message,
  );
}

describe("startPushq's refusals name its own options, with the rules pushq serve's flags follow", () => {
  it('a target that is not an http(s) URL: targets.NAME (targets.NAME.url in the object form), as pushq serve says --target NAME', async () => {
    expect(await refusal(startPushq({ targets: { default: 'not a url' } }))).toBe('targets.default: "not a url" is not a URL (TARGET_URL_INVALID)');
    expect(await refusal(startPushq({ targets: { 'v2.worker': { url: 'ftp://h/' } } }))).toBe('targets["v2.worker"].url: only http and https URLs (TARGET_URL_INVALID)');
    // The command's words for the same rule.
    const cli = (args: string[]): string => {
      try {
        parseCommandLine(SERVE, args);
      } catch (err) {
        if (err instanceof CliUsageError) return err.message;
      }
      throw new Error('parsed');
    };
    expect(cli(['--target', 'default=not a url'])).toBe('--target default: "not a url" is not a URL');
  });

  it('authToken and allowHttpTargets are named as the options they are', async () => {
    expect(await refusal(startPushq({ authToken: 'short' }))).toBe('authToken must be at least 16 characters, printable ASCII without spaces (e.g. the output of: openssl rand -hex 24) (AUTH_TOKEN_INVALID)');
    expect(await refusal(startPushq({ allowHttpTargets: ['https://api.internal/path'] }))).toMatch(/^allowHttpTargets "https:\/\/api\.internal\/path" is not a host pattern .*\(ALLOW_HTTP_TARGET_INVALID\)$/);
  });

  it('PushqService.start refuses a bad target URL before it binds anything (it threw a bare Invalid URL once listening)', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
    const message = await refusal(PushqService.start({ config: defaultQueueFileConfig(), targets: { default: { scaling: 'automatic', url: 'notaurl' } }, log, port }));
    expect(message).toBe('--target default: "notaurl" is not a URL (TARGET_URL_INVALID)');
    // Nothing was bound: the port is still free.
    const again = createServer();
    await new Promise<void>((resolve, reject) => again.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    try {
      // Told to name its options, as startPushq tells it, a port in use is named so too.
      const inUse = await refusal(PushqService.start({ config: defaultQueueFileConfig(), targets: {}, log, port, inputNames: 'options' }));
      expect(inUse).toBe(`port ${port} on 127.0.0.1 is in use by another process: stop it, or choose another port with port: N (port: 0 picks a free one) (PORT_IN_USE)`);
    } finally {
      await new Promise((r) => again.close(r));
    }
  });
});
