/**
 * A client creating tasks as fast as it can while the worker is down (connection refused), with
 * the durable file log of `pushq serve`: memory grows by a fixed cost per task (the task's state
 * and read models: measured and printed here, bounded below), and not at all by the retries, which
 * go on against the dead worker all through the outage; once the worker is back every
 * acknowledged task is delivered. docs/serve.md, Faults, states the bound.
 *
 * The issue asks for a 60 s outage. In the suite it is 15 s (10 s of creates, then 5 s of retries
 * with no creates) to keep the suite's time on two cores; PUSHQ_OUTAGE_SECONDS=60 runs the issue's
 * length (two thirds creates, one third retries alone). The property does not depend on the length:
 * memory is per task (a longer outage at the same create rate is more tasks at the same cost), and
 * the last 5 s show that a retry, the only thing a longer outage adds per task, costs no memory.
 */
import { mkdtempSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Pool } from 'undici';
import { expect, test } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import { openDataDir } from '../../src/server/data-dir.js';
import { PushqService } from '../../src/server/service.js';
import { eventually } from '../helpers/raw-worker.js';
import { closedPort } from '../helpers/closed-port.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** Heap plus memory outside it (the task table's typed arrays, the log's buffer), MiB, after a full GC. */
function memoryMiB(): number {
  gc();
  const m = process.memoryUsage();
  return (m.heapUsed + m.external) / 2 ** 20;
}

const QUEUES = ['a', 'b', 'c', 'd'];
const RATE = 25;
const OUTAGE_MS = 1000 * Number(process.env.PUSHQ_OUTAGE_SECONDS ?? 15);
const CREATE_MS = Math.round((OUTAGE_MS * 2) / 3);
const RETRY_ONLY_MS = OUTAGE_MS - CREATE_MS;
/** The bound this test holds pushq to: memory per task created (measured: see the printed line). */
const BYTES_PER_TASK_MAX = 2048;

test('tasks created as fast as possible while the worker is down: memory per task bounded, retries free, nothing lost', async () => {
  const port = await closedPort(); // nothing listens there until the worker comes back
  // 4 queues at 25/s: the retries against the dead worker run at 100/s all through the outage.
  const yaml = 'queue:\n' + QUEUES.map((q) => `- name: ${q}\n  rate: ${RATE}/s\n  bucket_size: 10\n  retry_parameters:\n    min_backoff_seconds: 0.1\n    max_backoff_seconds: 1\n`).join('');
  const config = parseQueueConfig(yaml, { file: 'queue.yaml' }).config!;
  const data = await openDataDir(mkdtempSync(join(tmpdir(), 'pushq-outage-flood-')), 'test');
  const delivered = new Set<string>();
  let failedAttempts = 0;
  const service = await PushqService.start({
    config,
    targets: { default: { scaling: 'automatic', url: `http://127.0.0.1:${port}` } },
    log: data.log,
    dataLock: data.lock,
    observers: [(e) => void (e.type === 'AttemptFailed' && failedAttempts++)],
  });
  const pool = new Pool(service.url, { connections: 128 });
  let worker: ReturnType<typeof createHttpServer> | undefined;
  try {
    const acked: string[] = [];
    let n = 0;
    const start = performance.now();
    const end = start + CREATE_MS;
    // Memory per task is the slope between a point after a warm-up (the code paths compiled, the
    // connections open) and the end of the creates: fixed costs cancel out.
    let before = 0;
    let ackedBefore = 0;
    const warmedUp = new Promise<void>((resolve) =>
      setTimeout(() => {
        before = memoryMiB();
        ackedBefore = acked.length;
        resolve();
      }, CREATE_MS / 5),
    );
    await Promise.all(
      Array.from({ length: 128 }, async () => {
        while (performance.now() < end) {
          const name = `t${n++}`;
          const res = await pool.request({
            path: `/v2/projects/p/locations/l/queues/${QUEUES[n % QUEUES.length]}/tasks`,
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ task: { name: `projects/p/locations/l/queues/${QUEUES[n % QUEUES.length]}/tasks/${name}`, appEngineHttpRequest: { relativeUri: `/work/${name}`, body: 'aGVsbG8=' } } }),
          });
          await res.body.dump();
          expect(res.statusCode).toBe(200);
          acked.push(name);
        }
      }),
    );
    await warmedUp;
    const afterCreates = memoryMiB();
    const failuresAtCreatesEnd = failedAttempts;
    await new Promise((r) => setTimeout(r, RETRY_ONLY_MS));
    const afterRetries = memoryMiB();
    const retriesAlone = failedAttempts - failuresAtCreatesEnd;
    const perTask = ((afterCreates - before) * 2 ** 20) / (acked.length - ackedBefore);
    process.stdout.write(
      `worker down: ${acked.length} tasks acknowledged in ${CREATE_MS / 1000} s; memory +${(afterCreates - before).toFixed(1)} MiB over the last ${acked.length - ackedBefore} = ${perTask.toFixed(0)} B/task; ` +
        `then ${retriesAlone} failed attempts in ${RETRY_ONLY_MS / 1000} s with no creates: ${(afterRetries - afterCreates).toFixed(1)} MiB\n`,
    );
    expect(acked.length).toBeGreaterThan(1000);
    expect(perTask).toBeLessThan(BYTES_PER_TASK_MAX);
    // The retries went on at the queues' rate and cost nothing that stays.
    expect(retriesAlone).toBeGreaterThan(0.5 * RATE * QUEUES.length * (RETRY_ONLY_MS / 1000));
    expect(afterRetries - afterCreates).toBeLessThan(Math.max(2, 0.1 * (afterCreates - before)));

    // The worker comes back on the same port: every acknowledged task is delivered (the queues
    // are sped up first, by a reload to 500/s, so the backlog drains in seconds).
    service.driver.run((k) => k.applyConfig(parseQueueConfig(yaml.replaceAll(`rate: ${RATE}/s`, 'rate: 500/s'), { file: 'queue.yaml' }).config!, service.settings));
    worker = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        delivered.add(req.url ?? '');
        res.end('ok');
      });
    });
    await new Promise<void>((r) => worker!.listen(port, '127.0.0.1', r));
    // 4 queues at 500/s drain 2,000 tasks a second; a minute more for the machine being shared.
    await eventually(() => acked.every((name) => delivered.has(`/work/${name}`)), 60_000 + acked.length / 2, `all ${acked.length} acknowledged tasks to be delivered (${delivered.size} so far)`);
  } finally {
    await pool.close();
    await service.close(2000);
    if (worker) await new Promise((r) => worker!.close(r));
  }
}, 120_000 + OUTAGE_MS * 60);
