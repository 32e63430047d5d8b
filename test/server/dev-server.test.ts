/**
 * `pushq serve --dev-server` (S39, src/core/dev-server.ts) with a real HTTP worker on 127.0.0.1:
 * PushqService on a memory log, tasks created over REST, the worker recording what arrives. The
 * same rules as the simulation tests (test/core/dev-server.test.ts), on the wall clock.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadQueueConfigFile } from '../../src/config/load.js';
import type { EngineEvent } from '../../src/core/events.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { replay, stateDigest } from '../../src/log/replay.js';
import { PushqService } from '../../src/server/service.js';
import { parseServeArgs } from '../../src/cli/serve.js';
import { CliUsageError } from '../../src/cli/args.js';
import { startPushq } from '../../src/testing/serve.js';
import { checkAll, formatViolations } from '../../src/testing/invariants.js';
import { api } from '../helpers/serve-process.js';
import { grpcClient } from '../helpers/cloud-tasks-clients.js';
import { startWorker, type Respond, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const YAML = `queue:
- name: slow
  rate: 1/s
  bucket_size: 1
- name: stopped
  rate: 0
- name: wide
  rate: 500/s
  bucket_size: 500
  max_concurrent_requests: 1000
`;

const open: { service: PushqService; worker: Worker; dir: string }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.service.close(1000);
    await o.worker.close();
    await rm(o.dir, { recursive: true, force: true });
  }
});

async function start(devServer: boolean, respond: Respond = () => ({ status: 200, delayMs: 20 })) {
  const dir = await mkdtemp(join(tmpdir(), 'pushq-dev-server-'));
  await writeFile(join(dir, 'queue.yaml'), YAML);
  const { config } = await loadQueueConfigFile(join(dir, 'queue.yaml'));
  const worker = await startWorker(respond);
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  const service = await PushqService.start({ config: config!, configPath: join(dir, 'queue.yaml'), targets: { default: { scaling: 'automatic', url: worker.url } }, log, ...(devServer ? { devServer: true } : {}) });
  open.push({ service, worker, dir });
  const queues = `${service.url}/v2/projects/p/locations/l/queues`;
  /** `etaInMs`: after now, or after `base` (epoch ms) when given, so several tasks' ETAs keep their order however slow the creates are. */
  const create = async (queue: string, name: string, etaInMs = 0, base?: number) => {
    const task: Record<string, unknown> = { name: `projects/p/locations/l/queues/${queue}/tasks/${name}`, appEngineHttpRequest: { relativeUri: `/${queue}/${name}` } };
    if (etaInMs > 0) task['scheduleTime'] = new Date((base ?? Date.now()) + etaInMs).toISOString();
    return api('POST', `${queues}/${queue}/tasks`, { task });
  };
  return { service, worker, log, queues, create };
}

const taskNames = (w: Worker) => w.received.map((r) => r.headers['x-appengine-taskname']);
/** When the service dispatched `queue`'s attempts (µs, its own clock), in order. */
function dispatchTimes(log: MemoryEventLog, queue: string): number[] {
  const events = log.toArray();
  const ids = new Set(events.flatMap((e) => (e.type === 'TaskAdded' && e.queue === queue ? [e.id] : [])));
  return events.flatMap((e) => (e.type === 'AttemptDispatched' && ids.has(e.id) ? [e.t] : []));
}
const gaps = (times: number[]): number[] => times.slice(1).map((t, i) => t - times[i]!);

describe('pushq serve --dev-server, with a real worker', () => {
  it('ignores rate, bucket_size, rate 0 and a pause, and sends one request at a time for the whole app', async () => {
    const { worker, log, queues, create } = await start(true);
    expect((await api('POST', `${queues}/wide:pause`, {})).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await create('slow', `s${i}`)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await create('stopped', `z${i}`)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await create('wide', `w${i}`)).status).toBe(200);
    // `slow` alone would need 4 s at 1/s; `stopped` and the paused `wide` would send nothing.
    await worker.waitFor((r) => r.filter((x) => x.answered !== undefined).length === 11, EVENT_BOUND_MS, 'all 11 tasks');
    expect(worker.maxInFlight).toBe(1);
    // Rate ignored, by the service's own clock (the wait's bound is for a loaded machine, not this): at
    // 1/s with a bucket of 1 each of slow's dispatches would follow the one before by a second or more.
    expect(Math.min(...gaps(dispatchTimes(log, 'slow')))).toBeLessThan(1_000_000);
  });

  it('production rules on the same file, for contrast: the paused and rate-0 queues send nothing, 1/s holds the rest back', async () => {
    const { worker, log, queues, create } = await start(false);
    expect((await api('POST', `${queues}/wide:pause`, {})).status).toBe(200);
    for (let i = 0; i < 3; i++) await create('slow', `s${i}`);
    await create('stopped', 'z0');
    await create('wide', 'w0');
    // s1 waits for a token: a second after s0 by the service's clock (a sleep-then-look would see s1
    // too on a machine slow enough that the creates above took 400 ms).
    await worker.waitFor((r) => r.length >= 2, EVENT_BOUND_MS, 's0 then s1');
    expect(taskNames(worker).slice(0, 2)).toEqual(['s0', 's1']);
    expect(Math.min(...gaps(dispatchTimes(log, 'slow')))).toBeGreaterThanOrEqual(1_000_000);
    expect(taskNames(worker).filter((n) => !String(n).startsWith('s'))).toEqual([]);
  });

  it('sends the lowest ETA of any queue next, whatever queue or creation order', async () => {
    // The first task holds the one thread until the others are created, out of order (held by the
    // test, not for a time: on a loaded machine the creates took longer than a fixed hold).
    let unblock = (): void => undefined;
    const blocked = new Promise<void>((resolve) => (unblock = resolve));
    const { worker, create } = await start(true, (r) => (r.url.endsWith('/blocker') ? { status: 200, release: blocked } : { status: 200, delayMs: 10 }));
    await create('wide', 'blocker');
    await worker.waitFor((r) => r.length === 1, EVENT_BOUND_MS, 'the blocker');
    // One base for the four ETAs: on a loaded machine the creates themselves may take longer than 100 ms apart.
    const base = Date.now();
    await create('wide', 'eta-400', 400, base);
    await create('stopped', 'eta-100', 100, base);
    await create('slow', 'eta-300', 300, base);
    await create('wide', 'eta-200', 200, base);
    unblock();
    await worker.waitFor((r) => r.length === 5, EVENT_BOUND_MS, 'every task');
    expect(taskNames(worker)).toEqual(['blocker', 'eta-100', 'eta-200', 'eta-300', 'eta-400']);
    expect(worker.maxInFlight).toBe(1);
  });

  it('keeps a name for ever: a task that ran is refused by name after a purge, with the mode named in the message', async () => {
    const { worker, log, queues, create } = await start(true);
    await create('slow', 'once');
    await worker.waitFor((r) => r.length === 1 && r[0]!.answered === 200, EVENT_BOUND_MS, 'the task');
    // Its success is logged after the answer.
    await expect.poll(() => log.toArray().some((e) => e.type === 'AttemptSucceeded'), { timeout: EVENT_BOUND_MS }).toBe(true);
    expect((await api('POST', `${queues}/slow:purge`, {})).status).toBe(200);
    const again = await create('slow', 'once');
    expect(again.status).toBe(409);
    expect(again.json.error.status).toBe('ALREADY_EXISTS');
    expect(again.json.error.message).toContain('dev-server mode reserves every name');
  });

  it('the dashboard offers Resume for a rate-0 queue (no configuration hold), which the API answers: the queue runs in this mode', async () => {
    const hold = async (dev: boolean) => {
      const { service, queues } = await start(dev);
      const f = (await api('GET', `${service.url}/pushq/dashboard.json`)).json;
      const stopped = f.queues.find((q: { name: string }) => q.name === 'stopped');
      await api('POST', `${queues}/stopped:pause`, {});
      return { configHold: stopped.configHold, resume: (await api('POST', `${queues}/stopped:resume`, {})).status };
    };
    expect(await hold(false)).toEqual({ configHold: 'rate-zero', resume: 400 });
    expect(await hold(true)).toEqual({ configHold: null, resume: 200 });
  });

  it('a rate-0 queue reads RUNNING over REST and gRPC, as it runs in this mode (PAUSED under production); a pause by command, over either, reads PAUSED', async () => {
    const states = async (dev: boolean) => {
      const { service, queues } = await start(dev);
      const client = grpcClient(service.grpcPort!);
      try {
        const name = client.queuePath('p', 'l', 'stopped');
        const rest = (await api('GET', `${queues}/stopped`)).json.state;
        const [viaGrpc] = await client.getQueue({ name });
        const [grpcPaused] = await client.pauseQueue({ name });
        const paused = (await api('POST', `${queues}/stopped:pause`, {})).json.state;
        return { rest, grpc: viaGrpc.state, grpcPaused: grpcPaused.state, paused };
      } finally {
        await client.close();
      }
    };
    expect(await states(false)).toEqual({ rest: 'PAUSED', grpc: 'PAUSED', grpcPaused: 'PAUSED', paused: 'PAUSED' });
    expect(await states(true)).toEqual({ rest: 'RUNNING', grpc: 'RUNNING', grpcPaused: 'PAUSED', paused: 'PAUSED' });
  });

  it('logs the mode, and the log replays to the live state', async () => {
    const { service, worker, log, create } = await start(true, (r) => (r.url.endsWith('/f0') ? 500 : 200));
    for (let i = 0; i < 4; i++) await create('slow', `t${i}`);
    await create('stopped', 'f0');
    await worker.waitFor((r) => r.filter((x) => x.answered !== undefined).length >= 5, EVENT_BOUND_MS, 'five answers');
    const events: EngineEvent[] = log.toArray();
    const first = events[0];
    expect(first?.type === 'ConfigApplied' && first.settings.devServer).toBe(true);
    expect(stateDigest(replay(events))).toBe(stateDigest(service.kernel.state));
    // Judged by the mode's own laws (one at a time, ETA order), the live log keeps them all.
    expect(formatViolations(checkAll(events))).toBe('');
  });
});

describe("pushq/testing's startPushq({ devServer: true })", () => {
  it('serves under the same rules: a rate-0 queue runs, one request at a time', async () => {
    const worker = await startWorker(() => ({ status: 200, delayMs: 20 }));
    const pushq = await startPushq({ queueYaml: 'queue:\n- name: held\n  rate: 0\n', targets: { default: worker.url }, devServer: true });
    try {
      expect(pushq.service.settings.devServer).toBe(true);
      const parent = `${pushq.url}/v2/projects/p/locations/l/queues/held/tasks`;
      for (let i = 0; i < 3; i++) expect((await api('POST', parent, { task: { appEngineHttpRequest: { relativeUri: `/t${i}` } } })).status).toBe(200);
      await worker.waitFor((r) => r.filter((x) => x.answered !== undefined).length === 3, EVENT_BOUND_MS, 'three tasks');
      expect(worker.maxInFlight).toBe(1);
    } finally {
      await pushq.close();
      await worker.close();
    }
  });
});

describe('--dev-server on the command line', () => {
  it('is refused with --cluster, saying why', () => {
    expect(() => parseServeArgs(['--dev-server', '--cluster', '--store', 'postgres://u@127.0.0.1:1/db'])).toThrow(CliUsageError);
    expect(() => parseServeArgs(['--dev-server', '--cluster', '--store', 'postgres://u@127.0.0.1:1/db'])).toThrow(/--dev-server cannot be combined with --cluster: dev_appserver runs one task at a time for the whole app/);
  });

  it('is off by default and on with the flag', () => {
    expect(parseServeArgs([])?.devServer).toBe(false);
    expect(parseServeArgs(['--dev-server'])?.devServer).toBe(true);
  });
});
