// pushq serve beyond one machine, measured in one run on one machine (issue 17's bench):
//   file   one node on the durable file log (the baseline);
//   pg 1   one node on PostgreSQL (`--store`);
//   pg 3   three nodes on PostgreSQL (`--store --cluster`), the API calls spread over the three
//          (two calls in three reach a node that does not own the queue and are forwarded);
//   pg 3 → owner  the same three nodes with each call sent to its queue's owner (read from each
//          node's /pushq/health): what forwarding costs. Not the goal's figure: a Cloud Tasks
//          client does not know the owner.
// Each setup gets the same worker (its own process, answers 200 at once), the same queue.yaml and
// the same two phases:
//   1. durable CreateTask/s: TASKS creates through the REST API, PARALLEL in flight, with every
//      queue paused (so dispatching takes no CPU from the creates); a create is counted when
//      answered 200, which pushq sends only once the task is durable (fdatasync / committed);
//   2. dispatches/s: every queue resumed at once; the time until the worker has received every task.
// On PostgreSQL it also reads the events stored per transaction (rows per inserting transaction id,
// `xmin`: PostgreSQL-specific, for this figure only). Targets (issue 17): pg 1 ≥ 50% of file; pg 3
// ≥ pg 1. PostgreSQL runs on the same two cores as the nodes and the worker: say so when reading.
// PUSHQ_BENCH_QUICK=1 cuts the sizes. PostgreSQL comes from Debian (.ci/ensure-postgres.sh).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pool } from 'undici';

const QUICK = process.env.PUSHQ_BENCH_QUICK === '1';
const TASKS = QUICK ? 3_000 : 12_000;
const PARALLEL = 64;
/** 60 queues at 500/s (App Engine's most per queue): a 30,000/s ceiling, so pushq, not queue.yaml, sets the pace. */
const QUEUES = 60;
const RATE = 500;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'pushq.js');

const ensure = spawnSync('bash', [join(ROOT, '.ci', 'ensure-postgres.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
if (ensure.status !== 0) throw new Error('PostgreSQL could not be installed (.ci/ensure-postgres.sh)');
const { startPgCluster } = await import('../dist/testing/pg-cluster.js');

// ---- the worker, in its own process: counts requests, answers 200 ----------------------------------
const WORKER_SRC = `
const http = require('node:http');
let n = 0;
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { n++; res.end('ok'); }); });
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => process.stdout.write('port ' + s.address().port + '\\n'));
setInterval(() => process.stdout.write('count ' + n + '\\n'), 20).unref();
`;
function startWorker() {
  const child = spawn(process.execPath, ['-e', WORKER_SRC], { stdio: ['ignore', 'pipe', 'inherit'] });
  let count = 0;
  let buf = '';
  const port = new Promise((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (s) => {
      buf += s;
      const lines = buf.split('\n');
      buf = lines.pop();
      for (const l of lines) {
        if (l.startsWith('port ')) resolve(Number(l.slice(5)));
        else if (l.startsWith('count ')) count = Number(l.slice(6));
      }
    });
  });
  return { port, received: () => count, stop: () => child.kill() };
}

// ---- serve processes -------------------------------------------------------------------------------
function startServe(args) {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--grpc-port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s) => (err += s));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start\n${out}\n${err}`)), 60_000);
    child.stdout.on('data', () => {
      const m = /API (http:\/\/[^\s/]+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then((code) => reject(new Error(`serve exited (${code})\n${out}\n${err}`)));
  });
  return { child, url, exited, out: () => out };
}

async function stopServe(s) {
  s.child.kill('SIGTERM');
  await s.exited;
}

const queueNames = Array.from({ length: QUEUES }, (_, i) => `q${i}`);

async function call(pool, path, body) {
  const res = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.body.dump();
  return res.statusCode;
}

/** Every node owns its share and answers for every queue: a pause through any node reaches the owner. */
async function pauseAll(pools, verb) {
  for (let i = 0; i < QUEUES; i++) {
    const pool = pools[i % pools.length];
    for (let tries = 0; ; tries++) {
      const status = await call(pool, `/v2/projects/p/locations/l/queues/${queueNames[i]}:${verb}`, {});
      if (status === 200) break;
      if (tries > 200) throw new Error(`${verb} ${queueNames[i]}: ${status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Queue → index of the node (pool) that owns it, from each node's /pushq/health. */
async function owners(pools) {
  const out = new Map();
  for (let k = 0; k < pools.length; k++) {
    const res = await pools[k].request({ path: '/pushq/health', method: 'GET' });
    const body = await res.body.json();
    for (const q of body.owns ?? []) out.set(q, k);
  }
  return out;
}

/** `route`: the node (pool index) a call for queue q, the i-th task, goes to. */
async function createAll(pools, route = (q, i) => i % pools.length) {
  let next = 0;
  let acked = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < TASKS) {
        const i = next++;
        const q = queueNames[i % QUEUES];
        const body = { task: { name: `projects/p/locations/l/queues/${q}/tasks/t${i}`, appEngineHttpRequest: { relativeUri: `/w/${i}` } } };
        // A call that a node could not answer (e.g. a queue moving) is sent again, same name.
        for (let tries = 0; ; tries++) {
          const status = await call(pools[route(q, i)], `/v2/projects/p/locations/l/queues/${q}/tasks`, body);
          if (status === 200 || (status === 409 && tries > 0)) break;
          if (tries > 100) throw new Error(`create t${i}: ${status}`);
          await new Promise((r) => setTimeout(r, 20));
        }
        acked++;
      }
    }),
  );
  return { perSecond: acked / ((performance.now() - t0) / 1000) };
}

async function drain(pools, worker) {
  const before = worker.received();
  const t0 = performance.now();
  await pauseAll(pools, 'resume');
  while (worker.received() - before < TASKS) {
    if (performance.now() - t0 > 300_000) throw new Error(`only ${worker.received() - before} of ${TASKS} delivered in 300 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { perSecond: TASKS / ((performance.now() - t0) / 1000) };
}

async function eventsPerTransaction(url) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query('SELECT count(*)::int AS events, count(DISTINCT xmin::text)::int AS transactions FROM pushq_events');
    return r.rows[0];
  } finally {
    await c.end();
  }
}

/** One setup: start its nodes, wait until every queue answers, run both phases, stop. */
async function measure(name, nodeArgs, storeUrl, { toOwner = false } = {}) {
  const worker = startWorker();
  const port = await worker.port;
  const dir = mkdtempSync(join(tmpdir(), 'pushq-bench-cluster-'));
  const yaml = ['queue:', ...queueNames.map((q) => `- name: ${q}\n  rate: ${RATE}/s\n  bucket_size: ${RATE}\n  max_concurrent_requests: 200`)].join('\n') + '\n';
  writeFileSync(join(dir, 'queue.yaml'), yaml);
  const common = ['--config', join(dir, 'queue.yaml'), '--target', `default=http://127.0.0.1:${port}`];
  const nodes = [];
  const pools = [];
  try {
    for (const args of nodeArgs(dir)) {
      const s = startServe([...common, ...args]);
      nodes.push(s);
      pools.push(new Pool(await s.url, { connections: PARALLEL }));
    }
    await pauseAll(pools, 'pause');
    let route;
    if (toOwner) {
      const owner = await owners(pools);
      route = (q, i) => owner.get(q) ?? i % pools.length;
    }
    const creates = await createAll(pools, route);
    const dispatches = await drain(pools, worker);
    const tx = storeUrl === null ? null : await eventsPerTransaction(storeUrl);
    return { name, creates, dispatches, tx };
  } finally {
    for (const p of pools) await p.close();
    for (const s of nodes) await stopServe(s);
    worker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const cluster = await startPgCluster();
const results = [];
try {
  results.push(await measure('file', (dir) => [['--data', join(dir, 'data')]], null));
  const one = await cluster.database();
  results.push(await measure('pg 1', () => [['--store', one]], one));
  const three = await cluster.database();
  // Short leases, so the three settle their shares quickly at start (placement is by rendezvous hashing).
  results.push(await measure('pg 3', () => [0, 1, 2].map(() => ['--store', three, '--cluster', '--lease-seconds', '3']), three));
  const direct = await cluster.database();
  results.push(await measure('pg 3 → owner', () => [0, 1, 2].map(() => ['--store', direct, '--cluster', '--lease-seconds', '3']), direct, { toOwner: true }));
} finally {
  await cluster.stop();
}

console.log(`cluster: ${TASKS.toLocaleString('en')} tasks over ${QUEUES} queues at ${RATE}/s (ceiling ${(QUEUES * RATE).toLocaleString('en')}/s), ${PARALLEL} creates in flight; load average (1 min) ${loadavg()[0].toFixed(2)} on ${cpus().length} cores, PostgreSQL on the same cores`);
for (const r of results) {
  const tx = r.tx === null ? '' : `   ${(r.tx.events / r.tx.transactions).toFixed(1)} events per PostgreSQL transaction (${r.tx.events.toLocaleString('en')} events, ${r.tx.transactions.toLocaleString('en')} transactions)`;
  console.log(`${r.name.padEnd(12)} durable CreateTask/s ${r.creates.perSecond.toFixed(0).padStart(6)}   dispatches/s ${r.dispatches.perSecond.toFixed(0).padStart(6)}${tx}`);
}
const [file, pg1, pg3, pg3direct] = results;
console.log(`ratio pg 1 / file: creates ${(pg1.creates.perSecond / file.creates.perSecond).toFixed(2)}x, dispatches ${(pg1.dispatches.perSecond / file.dispatches.perSecond).toFixed(2)}x   (goal >= 0.5x)`);
console.log(`ratio pg 3 / pg 1: creates ${(pg3.creates.perSecond / pg1.creates.perSecond).toFixed(2)}x, dispatches ${(pg3.dispatches.perSecond / pg1.dispatches.perSecond).toFixed(2)}x   (goal >= 1x)`);
console.log(`ratio pg 3 → owner / pg 1: creates ${(pg3direct.creates.perSecond / pg1.creates.perSecond).toFixed(2)}x (each call sent to its queue's owner: no forwarding)`);
