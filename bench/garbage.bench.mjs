// Memory traffic of one run of issue 13's scenario (bench/experiments-scenario.mjs, as
// bench/experiments.bench.mjs runs it 30 times on one and two threads): the bytes it allocates per
// event, and its heap after each collection. Two threads share the cores' caches and memory
// bandwidth, so each run's garbage (streamed through the caches) slows the other thread's run;
// these figures are what a change to the engine's hot path moves, without timing anything.
//
// Repeatable to within a byte per event, so a change of a few bytes shows: the run is measured
// in a process of its own with V8 on one thread (--single-threaded: when concurrent compilation
// lands varies from run to run, and unoptimized code allocates more), after two warm-up runs of
// other seeds, as a worker thread's later jobs run. The young generation is the experiment
// threads' (src/experiments/pool.ts: 6 MiB, 2 MiB semi-spaces), so the scavenge count is theirs.
// Bytes allocated = the heap's growth between collections, summed (v8.GCProfiler), plus its growth
// after the last one. Wall time is printed, but it is not the figure (the machine may be shared).
//   BENCH_TASKS=20000 npm run bench -- garbage   (a quicker look)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { experimentsScenarioText } from './experiments-scenario.mjs';

const TASKS = Number(process.env.BENCH_TASKS ?? 100_000);

if (process.argv[2] !== 'run') {
  const flags = ['--single-threaded', '--expose-gc', '--max-semi-space-size=2', '--min-semi-space-size=2'];
  const out = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), 'run'], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`the measured run failed: ${out.stderr}`);
  const r = JSON.parse(out.stdout);
  console.log(`garbage: one run of the experiments scenario (${TASKS.toLocaleString('en')} tasks, seed 1): ${r.events.toLocaleString('en')} events`);
  console.log(`  allocated ${(r.allocated / 1e6).toFixed(1)} MB, ${(r.allocated / r.events).toFixed(1)} bytes per event; ${r.scavenges} scavenges, ${r.fullGcs} full collections (2 MiB semi-spaces)`);
  console.log(`  heap after a collection at most ${(r.peakAfterGc / 1e6).toFixed(2)} MB above the heap before the run; ${(r.wall * 1000).toFixed(0)} ms (wall, on one V8 thread: not the figure)`);
  process.exit(0);
}

const { parseScenario } = await import('../dist/index.js');
const { runJob } = await import('../dist/experiments/run-job.js');
const { scenario, issues } = await parseScenario(experimentsScenarioText(TASKS), { file: 'bench-experiments.yaml' });
if (scenario === null) throw new Error(issues.map((i) => i.message).join('\n'));
const job = (seed) => ({ scenario, seed, file: 'bench-experiments.yaml' });
runJob(job(101));
runJob(job(102));

globalThis.gc();
const before = v8.getHeapStatistics().used_heap_size;
const profiler = new v8.GCProfiler();
profiler.start();
const t0 = performance.now();
const outcome = runJob(job(1));
const wall = (performance.now() - t0) / 1000;
const end = v8.getHeapStatistics().used_heap_size;
const { statistics } = profiler.stop();
let allocated = 0;
let usedAfter = before;
let scavenges = 0;
let peakAfterGc = 0;
for (const gc of statistics) {
  allocated += gc.beforeGC.heapStatistics.usedHeapSize - usedAfter;
  usedAfter = gc.afterGC.heapStatistics.usedHeapSize;
  if (gc.gcType === 'Scavenge') scavenges++;
  peakAfterGc = Math.max(peakAfterGc, usedAfter - before);
}
allocated += end - usedAfter;
process.stdout.write(JSON.stringify({ events: outcome.report.events, allocated, scavenges, fullGcs: statistics.length - scavenges, peakAfterGc, wall }));
