// Taking a queue over in cluster mode, with and without a fold snapshot (docs/cluster.md,
// "Snapshots"): `npm run bench -- takeover`.
//
// One queue's stream in a throwaway PostgreSQL holds EVENTS events of a simulated run (a mix of
// creates, dispatches, successes, failures and retries, cut mid-run so attempts are in flight).
// Each round: (a) no snapshot: OwnedQueue.take (acquire the lease, read the stream, fold it, start
// the queue's service) is timed, then a snapshot is written (timed: encode + fenced put) and the
// queue released; (b) with the snapshot: take is timed again (restore + the few events after it).
// Prints the median of ROUNDS rounds of each, the ratio, and the snapshot's size.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const QUICK = process.env.PUSHQ_BENCH_QUICK === '1';
const EVENTS = QUICK ? 40_000 : 200_000;
const ROUNDS = 3;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const ensure = spawnSync('bash', [join(ROOT, '.ci', 'ensure-postgres.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
if (ensure.status !== 0) throw new Error('PostgreSQL could not be installed (.ci/ensure-postgres.sh)');
const { startPgCluster } = await import('../dist/testing/pg-cluster.js');
const { PgStore } = await import('../dist/store/pg-store.js');
const { queueStream } = await import('../dist/store/store.js');
const { OwnedQueue } = await import('../dist/cluster/owned-queue.js');
const { createSimulation, configHash } = await import('../dist/simulate/simulation.js');
const { loadQueueConfigFile } = await import('../dist/config/load.js');
const { LOG_FORMAT, LOG_FORMAT_VERSION } = await import('../dist/log/event-log.js');
const { PUSHQ_VERSION } = await import('../dist/version.js');

const dir = mkdtempSync(join(tmpdir(), 'pushq-bench-takeover-'));
const yamlPath = join(dir, 'queue.yaml');
writeFileSync(yamlPath, 'queue:\n- name: q0\n  rate: 500/s\n  bucket_size: 50\n  max_concurrent_requests: 100\n  retry_parameters:\n    min_backoff_seconds: 0.1\n    max_backoff_seconds: 2\n');
const loaded = await loadQueueConfigFile(yamlPath);
if (loaded.config === null) throw new Error(JSON.stringify(loaded.errors));
const qc = loaded.config.queues.find((q) => q.name === 'q0');
const config = { ...loaded.config, queues: [qc] };

// ---- the stream: a simulated run's first EVENTS events ----------------------------------------------
const simStarted = performance.now();
const sim = createSimulation({
  config,
  seed: 17,
  worker: ({ random }) => ({ status: random() < 0.15 ? 500 : 200, latencyMs: 20 + Math.floor(random() * 200) }),
});
sim.addWorkload({ queue: 'q0', count: Math.ceil(EVENTS / 2.5), ratePerSecond: 450 });
sim.runUntilIdle({ maxSeconds: 10_000_000 });
const events = [...sim.kernel.log].slice(0, EVENTS);
if (events.length < EVENTS) throw new Error(`the simulation made ${events.length} events, fewer than ${EVENTS}`);
const simMs = performance.now() - simStarted;

const cluster = await startPgCluster();
const url = await cluster.database();
const store = await PgStore.open(url);
const leases = await PgStore.open(url, { connections: 2 });
const header = { format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: PUSHQ_VERSION, seed: 0, clock: 'wall', configHash: configHash(config) };
const stream = queueStream('q0');
await store.ensureStream(stream, header);
const writer = await store.acquire(stream, 'bench-writer', 60_000);
for (let i = 0; i < events.length; i += 2000) await store.append(stream, writer.epoch, events.slice(i, i + 2000));
await store.release(writer);

const admin = new pg.Client({ connectionString: url });
await admin.connect();

const service = { targets: { default: { scaling: 'automatic', url: 'http://127.0.0.1:9' } } };
async function take(node) {
  const t0 = performance.now();
  const owned = await OwnedQueue.take({ store, leases, node, queue: 'q0', config, header, leaseMs: 30_000, service, onLost: () => undefined });
  const ms = performance.now() - t0;
  if (owned === null) throw new Error('the queue could not be taken');
  return { owned, ms };
}

const full = [];
const fromSnapshot = [];
const writes = [];
let snapshotBytes = 0;
let tailEvents = 0;
let from = 0;
for (let round = 0; round < ROUNDS; round++) {
  await admin.query('DELETE FROM pushq_snapshots WHERE stream = $1', [stream]);
  const a = await take(`bench-a${round}`);
  if (a.owned.replayedFrom !== 0) throw new Error('a snapshot was used in the run without one');
  full.push({ ms: a.ms, events: a.owned.replayedEvents });
  const w0 = performance.now();
  if (!(await a.owned.snapshots.maybeWrite(true))) throw new Error('the snapshot was not written');
  writes.push(performance.now() - w0);
  await a.owned.release(0);
  snapshotBytes = Number((await admin.query('SELECT octet_length(body) AS n FROM pushq_snapshots WHERE stream = $1', [stream])).rows[0].n);
  const b = await take(`bench-b${round}`);
  if (b.owned.replayedFrom === 0) throw new Error('the snapshot was not used');
  fromSnapshot.push({ ms: b.ms, events: b.owned.replayedEvents });
  tailEvents = b.owned.replayedEvents;
  from = b.owned.replayedFrom;
  await b.owned.release(0);
}
// Where the time of a takeover from a snapshot goes: fetching it, decoding it, and a take of an empty queue's stream (the service's own start).
const { decodeFoldSnapshot } = await import('../dist/server/fold-snapshot.js');
let t1 = performance.now();
const stored = await store.getSnapshot(stream);
const fetchMs = performance.now() - t1;
t1 = performance.now();
decodeFoldSnapshot(stored.bytes, header, Number.MAX_SAFE_INTEGER);
const decodeMs = performance.now() - t1;
await store.ensureStream(queueStream('empty'), header);
const emptyConfig = { ...config, queues: [{ ...qc, name: 'empty' }] };
const emptyTakes = [];
for (let i = 0; i < ROUNDS; i++) {
  t1 = performance.now();
  const o = await OwnedQueue.take({ store, leases, node: `bench-e${i}`, queue: 'empty', config: emptyConfig, header, leaseMs: 30_000, service, onLost: () => undefined });
  emptyTakes.push(performance.now() - t1);
  await o.release(0);
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const fullMs = median(full.map((r) => r.ms));
const snapMs = median(fromSnapshot.map((r) => r.ms));
console.log(`takeover of one queue, stream of ${EVENTS.toLocaleString('en-US')} events (simulated in ${Math.round(simMs)} ms; ${sim.kernel.state.tasks.count.toLocaleString('en-US')} tasks in the run), PostgreSQL on the same machine, load average ${loadavg()[0].toFixed(1)}, median of ${ROUNDS}:`);
console.log(`  without a snapshot: ${fullMs.toFixed(0)} ms (replayed ${full[0].events.toLocaleString('en-US')} events)   [${full.map((r) => r.ms.toFixed(0)).join(', ')}]`);
console.log(`  from a snapshot:    ${snapMs.toFixed(0)} ms (restored position ${from.toLocaleString('en-US')}, replayed ${tailEvents} events after it)   [${fromSnapshot.map((r) => r.ms.toFixed(0)).join(', ')}]`);
console.log(`  of which: fetching the snapshot ${fetchMs.toFixed(0)} ms, decoding it ${decodeMs.toFixed(0)} ms; taking an empty queue (lease, stream, service start) ${median(emptyTakes).toFixed(0)} ms`);
console.log(`  ratio: ${(fullMs / snapMs).toFixed(1)}× faster; snapshot ${(snapshotBytes / 1e6).toFixed(1)} MB, written (encode + fenced put) in ${median(writes).toFixed(0)} ms`);

await admin.end();
await store.close();
await leases.close();
await cluster.stop();
rmSync(dir, { recursive: true, force: true });
