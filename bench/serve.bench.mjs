// pushq serve, measured in one run against baselines measured in the same run:
//   1. ceiling: a plain undici request loop to a local worker (worker in its own process);
//   2. pushq dispatching 100,000 tasks over 100 queues at 500/s each to the same worker
//      (durable file log), and its ratio to the ceiling (target: ≥ 70%);
//   3. rate accuracy: one queue at 200/s, bucket 40, over 20 s (mean rate, max in any 1 s
//      window (limit 240), dispatch lag p50/p99: wall time at send minus the kernel's due time);
//   4. CreateTask throughput through the REST API with durability on (fdatasync group commit),
//      against a plain node:http echo of the same requests as its baseline;
//   5. the same over gRPC (google.cloud.tasks.v2.CloudTasks, 64 calls in flight on one channel),
//      against a plain grpc-js server that decodes the same requests and answers a Task.
// Sizes can be cut for a quick look: PUSHQ_BENCH_QUICK=1.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import * as grpc from '@grpc/grpc-js';
import { cloudTasksProtos, SERVICE_NAME } from '../dist/server/grpc/protos.js';
import { parseQueueConfig } from '../dist/config/parse.js';
import { configHash } from '../dist/simulate/simulation.js';
import { openDataDir } from '../dist/server/data-dir.js';
import { PushqService } from '../dist/server/service.js';

const QUICK = process.env.PUSHQ_BENCH_QUICK === '1';
const TASKS = QUICK ? 20_000 : 100_000;
const QUEUES = 100;
const RATE_SECONDS = QUICK ? 5 : 20;

// ---- a minimal worker in its own process -----------------------------------------------------------
const WORKER_SRC = `
const { createServer } = require('node:http');
const s = createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-length': '2' }); res.end('ok'); }); });
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;

async function startWorker() {
  const child = spawn(process.execPath, ['-e', WORKER_SRC], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  return { child, url: `http://127.0.0.1:${port}` };
}

function fmt(n, digits = 0) {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// ---- 1. ceiling ------------------------------------------------------------------------------------
async function ceiling(url, seconds) {
  const pool = new Pool(url, { connections: 128 });
  const headers = { 'user-agent': 'AppEngine-Google; (+http://code.google.com/appengine)', 'x-appengine-queuename': 'q', 'x-appengine-taskname': 'task1', 'x-appengine-taskretrycount': '0', 'x-appengine-taskexecutioncount': '0', 'x-appengine-tasketa': '1795434049.635983' };
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      const res = await pool.request({ path: '/_ah/queue/q', method: 'POST', headers, body: null });
      await res.body.dump();
      if (res.statusCode === 200) done++;
    }
  };
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: 256 }, loop));
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  return { perSecond: done / elapsed, cpuUsPerRequest: (cpu.user + cpu.system) / done };
}

// ---- pushq service helper ---------------------------------------------------------------------------
async function startService(yaml, workerUrl, observers = []) {
  const parsed = parseQueueConfig(yaml, { file: 'bench.yaml' });
  if (!parsed.config) throw new Error(JSON.stringify(parsed.errors));
  const dir = mkdtempSync(join(tmpdir(), 'pushq-bench-'));
  const data = await openDataDir(dir, configHash(parsed.config), { durable: true });
  const service = await PushqService.start({ config: parsed.config, targets: { default: { scaling: 'automatic', url: workerUrl } }, log: data.log, observers });
  return { service, dir };
}

async function stopService({ service, dir }) {
  await service.close(5000);
  rmSync(dir, { recursive: true, force: true });
}

// ---- 2. pushq throughput ------------------------------------------------------------------------------
async function throughput(workerUrl) {
  let yaml = 'queue:\n';
  for (let i = 0; i < QUEUES; i++) yaml += `- name: q${i}\n  rate: 500/s\n  bucket_size: 500\n`;
  let succeeded = 0;
  let firstDispatch = 0;
  let lastSuccess = 0;
  const s = await startService(yaml, workerUrl, [
    (e) => {
      if (e.type === 'AttemptDispatched' && firstDispatch === 0) firstDispatch = performance.now();
      else if (e.type === 'AttemptSucceeded') {
        succeeded++;
        lastSuccess = performance.now();
      }
    },
  ]);
  const { driver, log } = s.service;
  // Load every task while the queues are paused, then resume them all at once.
  driver.run((k) => { for (let i = 0; i < QUEUES; i++) k.pauseQueue(`q${i}`); });
  const perQueue = TASKS / QUEUES;
  for (let i = 0; i < QUEUES; i++) {
    for (let j = 0; j < perQueue; j += 100) {
      const batch = Array.from({ length: Math.min(100, perQueue - j) }, () => ({ queue: `q${i}` }));
      driver.run((k) => k.addTasks(batch, 'cloud-tasks'));
    }
  }
  await log.flush();
  const rssBefore = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  driver.run((k) => { for (let i = 0; i < QUEUES; i++) k.resumeQueue(`q${i}`); });
  const deadline = performance.now() + 120_000;
  while (succeeded < TASKS && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const cpu = process.cpuUsage(cpu0);
  const seconds = (lastSuccess - firstDispatch) / 1000;
  const rss = process.memoryUsage().rss;
  await stopService(s);
  return { succeeded, seconds, perSecond: succeeded / seconds, rssMiB: Math.max(rss, rssBefore) / 2 ** 20, cpuUsPerRequest: (cpu.user + cpu.system) / succeeded };
}

// ---- 3. rate accuracy -------------------------------------------------------------------------------
async function rateAccuracy(workerUrl) {
  const rate = 200;
  const bucket = 40;
  const total = bucket + rate * RATE_SECONDS;
  const sentMs = [];
  const lagsUs = [];
  let service;
  const s = await startService(`queue:\n- name: r\n  rate: ${rate}/s\n  bucket_size: ${bucket}\n`, workerUrl, [
    (e) => {
      if (e.type !== 'AttemptDispatched') return;
      const nowUs = service.driver.clock();
      lagsUs.push(nowUs - e.t);
      sentMs.push(nowUs / 1000);
    },
  ]);
  service = s.service;
  service.driver.run((k) => k.pauseQueue('r'));
  for (let j = 0; j < total; j += 100) {
    const batch = Array.from({ length: Math.min(100, total - j) }, () => ({ queue: 'r' }));
    service.driver.run((k) => k.addTasks(batch, 'cloud-tasks'));
  }
  service.driver.run((k) => k.resumeQueue('r'));
  const deadline = performance.now() + (RATE_SECONDS + 10) * 1000;
  while (sentMs.length < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await stopService(s);
  // Mean after the initial burst: (n - bucket) dispatches over the span from the burst to the last.
  const span = (sentMs[sentMs.length - 1] - sentMs[bucket - 1]) / 1000;
  const mean = (sentMs.length - bucket) / span;
  let maxWindow = 0;
  for (let i = 0, j = 0; i < sentMs.length; i++) {
    while (sentMs[i] - sentMs[j] >= 1000) j++;
    maxWindow = Math.max(maxWindow, i - j + 1);
  }
  const sorted = lagsUs.slice().sort((a, b) => a - b);
  return { dispatched: sentMs.length, mean, maxWindow, lagP50Ms: percentile(sorted, 50) / 1000, lagP99Ms: percentile(sorted, 99) / 1000, lagMaxMs: sorted[sorted.length - 1] / 1000 };
}

// ---- 4. CreateTask through the API ------------------------------------------------------------------
async function createLoop(url, path, seconds, bodyFor) {
  const pool = new Pool(url, { connections: 64 });
  let done = 0;
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (performance.now() < end) {
      const res = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body: bodyFor(n++) });
      await res.body.dump();
      if (res.statusCode === 200) done++;
      else throw new Error(`create answered ${res.statusCode}`);
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  return done / elapsed;
}

async function createThroughput(workerUrl) {
  const bodyFor = (i) => JSON.stringify({ task: { name: `projects/p/locations/l/queues/c/tasks/t${i}`, appEngineHttpRequest: { relativeUri: `/work/${i}`, body: 'aGVsbG8gd29ybGQ=' } } });
  // Baseline: a node:http server that parses the same JSON and answers, no queue, no disk.
  const echo = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = JSON.stringify(JSON.parse(Buffer.concat(chunks).toString()).task);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(text);
    });
  });
  await new Promise((r) => echo.listen(0, '127.0.0.1', r));
  const baseline = await createLoop(`http://127.0.0.1:${echo.address().port}`, '/x', 3, bodyFor);
  echo.close();
  const s = await startService('queue:\n- name: c\n  rate: 0\n', workerUrl); // paused: creates only
  const perSecond = await createLoop(s.service.url, '/v2/projects/p/locations/l/queues/c/tasks', 3, bodyFor);
  await stopService(s);
  return { baseline, perSecond };
}

// ---- 5. CreateTask over gRPC --------------------------------------------------------------------------
function createTaskMethod() {
  const p = cloudTasksProtos();
  const req = p.root.lookupType('google.cloud.tasks.v2.CreateTaskRequest');
  const task = p.root.lookupType('google.cloud.tasks.v2.Task');
  return {
    req,
    task,
    definition: {
      CreateTask: {
        path: `/${SERVICE_NAME}/CreateTask`,
        requestStream: false,
        responseStream: false,
        requestSerialize: (v) => Buffer.from(req.encode(v).finish()),
        requestDeserialize: (b) => req.decode(b),
        responseSerialize: (v) => Buffer.from(task.encode(v).finish()),
        responseDeserialize: (b) => task.decode(b),
      },
    },
  };
}

async function grpcCreateLoop(port, seconds, requestFor, definition) {
  const Client = grpc.makeGenericClientConstructor(definition, 'CloudTasks');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = (r) => new Promise((resolve, reject) => client.CreateTask(r, (err, v) => (err ? reject(err) : resolve(v))));
  let done = 0;
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (performance.now() < end) {
      await call(requestFor(n++));
      done++;
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  client.close();
  return done / elapsed;
}

async function grpcCreateThroughput(workerUrl) {
  const { req, task, definition } = createTaskMethod();
  const requestFor = (i) => req.fromObject({ parent: 'projects/p/locations/l/queues/c', task: { name: `projects/p/locations/l/queues/c/tasks/g${i}`, appEngineHttpRequest: { relativeUri: `/work/${i}`, body: Buffer.from('hello world') } } });
  // Baseline: a grpc-js server that decodes the request and answers its task, no queue, no disk.
  const echo = new grpc.Server();
  echo.addService(definition, { CreateTask: (c, cb) => cb(null, task.fromObject(task.toObject(c.request.task))) });
  const port = await new Promise((resolve, reject) => echo.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const baseline = await grpcCreateLoop(port, 3, requestFor, definition);
  echo.forceShutdown();
  const s = await startService('queue:\n- name: c\n  rate: 0\n', workerUrl); // paused: creates only
  const perSecond = await grpcCreateLoop(s.service.grpcPort, 3, requestFor, definition);
  await stopService(s);
  return { baseline, perSecond };
}

// ---- run ----------------------------------------------------------------------------------------------
const worker = await startWorker();
try {
  // The ceiling is measured before and after pushq (the machine may be shared); the ratio uses
  // their mean. CPU time per request in this process is printed too: it moves less with load.
  await ceiling(worker.url, 1); // warm-up: JIT, connections, the worker's own JIT
  const before = await ceiling(worker.url, 3);
  const t = await throughput(worker.url);
  const after = await ceiling(worker.url, 3);
  const ceil = (before.perSecond + after.perSecond) / 2;
  const ceilCpu = (before.cpuUsPerRequest + after.cpuUsPerRequest) / 2;
  const target = QUEUES * 500;
  console.log(`ceiling: plain undici loop (128 connections, 256 in flight) to a local worker: ${fmt(before.perSecond)} req/s before, ${fmt(after.perSecond)} after (mean ${fmt(ceil)}); CPU ${fmt(ceilCpu, 1)} µs/request`);
  console.log(`pushq serve: ${fmt(t.succeeded)} tasks over ${QUEUES} queues at 500/s each (cap ${fmt(target)}/s), durable log: ${fmt(t.seconds, 2)} s, ${fmt(t.perSecond)} dispatches/s, CPU ${fmt(t.cpuUsPerRequest, 1)} µs/task, RSS ${fmt(t.rssMiB)} MiB`);
  console.log(`  ratio pushq / ceiling: ${fmt((100 * t.perSecond) / ceil, 1)}% of the throughput (target ≥ 70%); CPU per request: pushq ${fmt(t.cpuUsPerRequest / ceilCpu, 2)}x the plain loop`);
  const r = await rateAccuracy(worker.url);
  console.log(`rate accuracy, one queue at 200/s, bucket 40, ${RATE_SECONDS} s: ${fmt(r.dispatched)} dispatches, mean ${fmt(r.mean, 2)}/s (${fmt((100 * (r.mean - 200)) / 200, 2)}% off; target within 1%), max in any 1 s window ${r.maxWindow} (limit 240), dispatch lag p50 ${fmt(r.lagP50Ms, 2)} ms, p99 ${fmt(r.lagP99Ms, 2)} ms, max ${fmt(r.lagMaxMs, 2)} ms`);
  const c = await createThroughput(worker.url);
  console.log(`CreateTask through the API, durable (fdatasync group commit), 64 clients: ${fmt(c.perSecond)} creates/s; baseline node:http JSON echo ${fmt(c.baseline)} req/s; ratio ${fmt((100 * c.perSecond) / c.baseline, 1)}%`);
  const g = await grpcCreateThroughput(worker.url);
  console.log(`CreateTask over gRPC, durable, 64 calls in flight on one channel: ${fmt(g.perSecond)} creates/s; baseline grpc-js server decoding the same requests ${fmt(g.baseline)} calls/s; ratio ${fmt((100 * g.perSecond) / g.baseline, 1)}%`);
} finally {
  worker.child.kill();
}
