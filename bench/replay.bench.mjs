// Replay from disk: a ≥ 1,000,000-event log written by a simulation through the file log
// (250,000 tasks over 10 queues at 500/s, 30% of attempts answered 500, lognormal latency), then,
// in this same process and on the same (page-cached) file:
//   (a) baseline  read the file in 8 MiB chunks, decode each chunk once, split lines, JSON.parse
//                 each line: nothing else (the same reading technique as the real reader);
//   (b) replay    the real reader: split, JSON.parse, validate every event, check each batch's
//                 CRC-32 and marker, and fold evolve over the events (the full state);
//   (c) snapshot  load a snapshot taken at 90% of the log + replay the events after it.
// Prints each time, events/s, the ratio (b)/(a), and peak RSS. Targets (issue 4): (b) ≤ 1.5 s
// and ≤ 2× (a). Each timing is the best of 3 runs (the first run also warms the JIT), as wall
// time and as CPU time of this process (steadier when other work shares the machine; it includes
// V8's helper threads). The 1-minute load average is printed too.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const { createSimulation } = await import('../dist/simulate/simulation.js');
const { parseQueueConfig } = await import('../dist/config/index.js');
const { createFileEventLogSync, scanEventLog } = await import('../dist/log/file-log.js');
const { createEngineState, evolve } = await import('../dist/core/state.js');
const { stateDigest } = await import('../dist/log/replay.js');
const { writeSnapshotFile, loadWithSnapshot } = await import('../dist/log/snapshot.js');

const TASKS = Number(process.env.BENCH_TASKS ?? 250_000);
const QUEUES = 10;
const dir = mkdtempSync(join(tmpdir(), 'pushq-bench-replay-'));
const path = join(dir, 'events.jsonl');

const yaml = ['queue:', ...Array.from({ length: QUEUES }, (_, i) => `- name: q${i}\n  rate: 500/s\n  bucket_size: 500\n  max_concurrent_requests: 1000`)].join('\n');
const parsed = parseQueueConfig(yaml, { file: 'bench.yaml' });
if (!parsed.valid) throw new Error(JSON.stringify(parsed.errors));

let t0 = performance.now();
const sim = createSimulation({
  config: parsed.config,
  seed: 1,
  worker: { latency: { distribution: 'lognormal', p50Us: 50_000, p99Us: 500_000 }, errorRate: 0.3 },
  log: (h) => createFileEventLogSync(path, h, { durable: false }),
});
for (let i = 0; i < QUEUES; i++) sim.addWorkload({ queue: `q${i}`, count: TASKS / QUEUES });
sim.runUntilIdle();
await sim.kernel.log.close();
const writeS = (performance.now() - t0) / 1000;
const liveDigest = stateDigest(sim.state);
const events = sim.kernel.log.length;
const bytes = statSync(path).size;
console.log(`log: ${events.toLocaleString('en')} events in ${sim.kernel.log.batches.toLocaleString('en')} batches, ${(bytes / 2 ** 20).toFixed(1)} MiB, written by the simulation in ${writeS.toFixed(2)} s`);
if (events < 1_000_000) throw new Error(`only ${events} events: raise BENCH_TASKS`);

function baseline() {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(8 << 20);
  let carry = 0;
  let base = 0;
  let lines = 0;
  let sink = 0;
  for (;;) {
    const n = readSync(fd, buf, carry, buf.length - carry, base + carry);
    const filled = carry + n;
    const text = buf.toString('latin1', 0, filled); // the bench log is ASCII
    let pos = 0;
    for (;;) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0 || nl >= filled) break;
      const v = JSON.parse(text.slice(pos, nl));
      sink += v.t ?? 0;
      lines++;
      pos = nl + 1;
    }
    if (n === 0) break;
    buf.copy(buf, 0, pos, filled);
    base += pos;
    carry = filled - pos;
  }
  closeSync(fd);
  return { lines, sink };
}

function fullReplay() {
  const state = createEngineState(TASKS);
  const r = scanEventLog(path, {}, { onEvent: (e) => evolve(state, e) });
  return { state, r };
}

function best(label, fn, check) {
  let wall = Infinity;
  let cpu = Infinity;
  let out;
  for (let i = 0; i < 3; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    out = fn();
    wall = Math.min(wall, (performance.now() - t) / 1000);
    const d = process.cpuUsage(c);
    cpu = Math.min(cpu, (d.user + d.system) / 1e6);
  }
  check?.(out);
  return { wall, cpu };
}

const a = best('baseline', baseline, (o) => { if (o.lines !== events + sim.kernel.log.batches + 1) throw new Error(`baseline read ${o.lines} lines`); });
const b = best('replay', fullReplay, (o) => { if (stateDigest(o.state) !== liveDigest) throw new Error('replayed state differs from the live state'); });

// Snapshot at 90% of the batches: find that batch's position, then rebuild the state exactly to it.
const targetBatch = Math.floor(sim.kernel.log.batches * 0.9);
let at = null;
let header = null;
scanEventLog(path, {}, {
  onHeader: (h) => { header = h; },
  onBatch: (p) => { if (p.batches === targetBatch) at = { ...p }; },
});
const exact = createEngineState(TASKS);
scanEventLog(path, {}, { onEvent: (e, i) => { if (i < at.events) evolve(exact, e); } });
const snapPath = join(dir, 'events.snap');
t0 = performance.now();
writeSnapshotFile(snapPath, path, header, exact, at);
const snapWriteS = (performance.now() - t0) / 1000;
const c = best('snapshot', () => loadWithSnapshot(snapPath, path), (o) => { if (stateDigest(o.state) !== liveDigest) throw new Error('snapshot + tail differs from the live state'); });

const rate = (s) => `${((events / s) / 1e6).toFixed(2)} M events/s`;
const fmt = (x) => `${x.wall.toFixed(3)} s wall (${x.cpu.toFixed(3)} s cpu)  ${rate(x.wall)}`;
console.log(`load average (1 min) now: ${loadavg()[0].toFixed(2)} on ${(await import('node:os')).cpus().length} cores`);
console.log(`(a) baseline: read + JSON.parse every line      ${fmt(a)}`);
console.log(`(b) full replay: parse, validate, CRC, evolve   ${fmt(b)}`);
console.log(`(c) snapshot at 90% (${(statSync(snapPath).size / 2 ** 20).toFixed(1)} MiB, written in ${snapWriteS.toFixed(2)} s) + tail  ${fmt(c)}`);
console.log(`ratio (b)/(a): ${(b.wall / a.wall).toFixed(2)}× wall, ${(b.cpu / a.cpu).toFixed(2)}× cpu   (target ≤ 2×)`);
console.log(`(b) ≤ 1.5 s: ${b.wall <= 1.5 ? 'met' : 'NOT met'} (wall), ${b.cpu <= 1.5 ? 'met' : 'NOT met'} (cpu)`);
console.log(`ratio (c)/(b): ${(c.wall / b.wall).toFixed(2)}×`);
console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (includes the simulation that wrote the log)`);
rmSync(dir, { recursive: true, force: true });
