// Scenario layer cost (what `pushq simulate` adds around the engine), each against a baseline
// measured in the same run:
//   parse    parseScenario of a scenario with an inline queue list of 100 queues and 200 workload
//            entries, vs parseQueueConfig of the same queues alone (the config checker it reuses);
//   run      runScenario of 200,000 tasks (10 queues, lognormal latency, 10% errors, an outage),
//            vs the same simulation built by hand with createSimulation + addWorkload;
//   --log    the same runScenario writing the event log to a file (JSON lines, no fsync, as
//            `pushq simulate --log` does), vs the in-memory log;
//   --series runScenario of a 69-queue scenario (3 busy, 20 with a few tasks minutes apart, 46
//            idle: a large queue.yaml) keeping its series and reading it (series()), vs the same
//            run keeping none (series: false); the recorder's cost should follow the events;
//   large    parseQueueConfig of a ~5 MB queue.yaml (the most queues App Engine allows, 100 and
//            default, every directive, pull queues with long acl lists: what makes a valid file
//            that large), vs the `yaml` package's parseDocument of the same text (the reader's
//            floor); and the same file as queue.xml (~7 MB), vs saxes reading it into a plain
//            element tree. `pushq validate`, `serve` and a reload each read a file this way.
// Each figure is the median of 5 alternating repetitions (3 for large: BENCH_LARGE_ACL=N sets
// the acl entries per pull queue, default 2,700).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parseDocument } from 'yaml';
import { SaxesParser } from 'saxes';

const { parseScenario, runScenario, scenarioLogHeader, createSimulation, parseQueueConfig } = await import('../dist/index.js');
const { createFileEventLog } = await import('../dist/log/file-log.js');

const TASKS = Number(process.env.BENCH_TASKS ?? 200_000);
const REPS = 5;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (fn) => { const t0 = performance.now(); fn(); return performance.now() - t0; };
const timeAsync = async (fn) => { const t0 = performance.now(); await fn(); return performance.now() - t0; };

// ---- parse ----
const queueList = Array.from({ length: 100 }, (_, i) => `  - name: q${i}\n    rate: ${i + 1}/s\n    bucket_size: ${(i % 50) + 1}\n    retry_parameters: { task_retry_limit: 3, task_age_limit: 1h }`).join('\n');
const workload = Array.from({ length: 200 }, (_, i) => `  - { queue: q${i % 100}, count: 10, at: ${i}s, rate: 5/s, url: /w/${i}, name_prefix: w${i}- }`).join('\n');
const scenarioText = `seed: 1\nqueue:\n${queueList}\nworkload:\n${workload}\nworker:\n  latency: { distribution: lognormal, p50: 50ms, p99: 500ms }\n  error_rate: 0.1\n`;
const queueText = `queue:\n${queueList}\n`;
const parseBase = [], parseScen = [];
for (let r = 0; r < REPS; r++) {
  parseBase.push(time(() => { if (!parseQueueConfig(queueText, { file: 'q.yaml' }).valid) throw new Error('queue text invalid'); }));
  parseScen.push(await timeAsync(async () => { if ((await parseScenario(scenarioText, { file: 's.yaml' })).scenario === null) throw new Error('scenario invalid'); }));
}
const pb = median(parseBase), ps = median(parseScen);
console.log(`parse   baseline (parseQueueConfig, 100 queues): ${pb.toFixed(2)} ms   scenario (+200 workloads): ${ps.toFixed(2)} ms   ratio ${(ps / pb).toFixed(2)}`);

// ---- run ----
const runText = `seed: 3
queue:
${Array.from({ length: 10 }, (_, i) => `  - { name: q${i}, rate: 500/s, bucket_size: 500, max_concurrent_requests: 1000 }`).join('\n')}
workload:
${Array.from({ length: 10 }, (_, i) => `  - { queue: q${i}, count: ${TASKS / 10}, rate: 400/s }`).join('\n')}
worker:
  latency: { distribution: lognormal, p50: 50ms, p99: 500ms }
  error_rate: 0.1
  outages: [ { from: 60s, to: 70s, status: 503 } ]
`;
const { scenario } = await parseScenario(runText, { file: 'run.yaml' });
if (scenario === null) throw new Error('run scenario invalid');
const byHand = () => {
  const sim = createSimulation({ config: scenario.config, seed: 3, worker: scenario.worker });
  for (let i = 0; i < 10; i++) sim.addWorkload({ queue: `q${i}`, count: TASKS / 10, atSeconds: 0, ratePerSecond: 400, task: {} });
  sim.runUntilIdle();
  return sim.stats().events;
};
const dir = mkdtempSync(join(tmpdir(), 'pushq-bench-'));
const runBase = [], runScen = [], runLog = [];
let events = 0, logBytes = 0;
for (let r = 0; r < REPS; r++) {
  runBase.push(time(() => { events = byHand(); }));
  runScen.push(time(() => { if (runScenario(scenario).stats.events !== events) throw new Error('different event counts'); }));
  const path = join(dir, `run${r}.jsonl`);
  runLog.push(await timeAsync(async () => {
    const log = await createFileEventLog(path, scenarioLogHeader(scenario, 3), { durable: false, overwrite: true });
    runScenario(scenario, { log });
    await log.close();
  }));
  logBytes = statSync(path).size;
  rmSync(path);
}
rmSync(dir, { recursive: true, force: true });
const rb = median(runBase), rs = median(runScen), rl = median(runLog);
const eps = (ms) => `${((events / ms) * 1000 / 1e6).toFixed(2)} M events/s`;
console.log(`run     ${TASKS} tasks, ${events} events`);
console.log(`        baseline (createSimulation by hand): ${rb.toFixed(0)} ms (${eps(rb)})   runScenario: ${rs.toFixed(0)} ms (${eps(rs)})   ratio ${(rs / rb).toFixed(2)}`);
console.log(`--log   memory log: ${rs.toFixed(0)} ms   file log (${(logBytes / 2 ** 20).toFixed(0)} MiB, no fsync): ${rl.toFixed(0)} ms   ratio ${(rl / rs).toFixed(2)}`);

// ---- --series ----
const manyText = ['seed: 7', 'queue:',
  ...Array.from({ length: 69 }, (_, i) => i < 3
    ? `  - { name: busy${i}, rate: ${20 + i * 10}/s, bucket_size: ${10 + i}, max_concurrent_requests: ${5 + i}, retry_parameters: { task_retry_limit: 3 } }`
    : i < 23 ? `  - { name: quiet${i}, rate: ${1 + (i % 5)}/s${i % 3 === 0 ? '' : `, bucket_size: ${1 + (i % 4)}`} }` : `  - { name: idle${i}, rate: ${1 + (i % 9)}/s }`),
  'workload:',
  ...Array.from({ length: 3 }, (_, i) => `  - { queue: busy${i}, count: ${400 + 100 * i}, rate: ${10 + 5 * i}/s, arrivals: poisson }`),
  ...Array.from({ length: 20 }, (_, k) => k + 3).map((i) => `  - { queue: quiet${i}, count: ${2 + (i % 4)}, rate: 0.0${2 + (i % 7)}/s, at: ${i}s }`),
  'worker:', '  latency: { distribution: lognormal, p50: 80ms, p99: 900ms }', '  error_rate: 0.15', '  outages: [ { from: 5s, to: 9s, status: 503 } ]', ''].join('\n');
const many = (await parseScenario(manyText, { file: 'many.yaml' })).scenario;
if (many === null) throw new Error('many-queue scenario invalid');
const seriesOff = [], seriesOn = [];
for (let r = 0; r < REPS; r++) {
  seriesOff.push(time(() => runScenario(many, { series: false })));
  seriesOn.push(time(() => runScenario(many, { series: true }).simulation.series()));
}
const so = median(seriesOff), sn = median(seriesOn);
console.log(`--series 69 queues: baseline (series: false): ${so.toFixed(0)} ms   with series, read: ${sn.toFixed(0)} ms   ratio ${(sn / so).toFixed(2)}`);

// ---- large ----
const ACL = Number(process.env.BENCH_LARGE_ACL ?? 2_700);
function largeQueueFile() {
  const yaml = ['total_storage_limit: 1.5G', 'queue:'];
  const xml = ['<?xml version="1.0" encoding="UTF-8"?>', '<queue-entries>', '  <total-storage-limit>1.5G</total-storage-limit>'];
  for (let i = 0; i < 100; i++) {
    const name = `q-${String(i).padStart(3, '0')}-${'x'.repeat(90)}`; // names go to 100 characters
    if (i % 2 === 0) {
      yaml.push(`- name: ${name}`, '  mode: push', `  rate: ${i + 1}/s`, `  bucket_size: ${i}`, `  max_concurrent_requests: ${i + 1}`, `  target: v${i}.worker`, '  retry_parameters:', '    task_retry_limit: 7', '    task_age_limit: 2d', '    min_backoff_seconds: 0.5', '    max_backoff_seconds: 300', '    max_doublings: 4');
      xml.push('  <queue>', `    <name>${name}</name>`, '    <mode>push</mode>', `    <rate>${i + 1}/s</rate>`, `    <bucket-size>${i}</bucket-size>`, `    <max-concurrent-requests>${i + 1}</max-concurrent-requests>`, `    <target>v${i}.worker</target>`, '    <retry-parameters>', '      <task-retry-limit>7</task-retry-limit>', '      <task-age-limit>2d</task-age-limit>', '      <min-backoff-seconds>0.5</min-backoff-seconds>', '      <max-backoff-seconds>300</max-backoff-seconds>', '      <max-doublings>4</max-doublings>', '    </retry-parameters>', '  </queue>');
    } else {
      yaml.push(`- name: ${name}`, '  mode: pull', '  retry_parameters:', '    task_retry_limit: 7', '  acl:');
      xml.push('  <queue>', `    <name>${name}</name>`, '    <mode>pull</mode>', '    <retry-parameters>', '      <task-retry-limit>7</task-retry-limit>', '    </retry-parameters>', '    <acl>');
      for (let a = 0; a < ACL; a++) {
        yaml.push(a % 2 === 0 ? `  - user_email: u${a}-${i}@example.com` : `  - writer_email: w${a}-${i}@example.com`);
        xml.push(a % 2 === 0 ? `      <user-email>u${a}-${i}@example.com</user-email>` : `      <writer-email>w${a}-${i}@example.com</writer-email>`);
      }
      xml.push('    </acl>', '  </queue>');
    }
  }
  xml.push('</queue-entries>');
  return { yaml: `${yaml.join('\n')}\n`, xml: `${xml.join('\n')}\n` };
}

/** saxes reading the file into a tree of { name, text, children }: what any reader of the file must do, nothing checked. */
function saxesTree(text) {
  const root = { name: '', text: '', children: [] };
  const stack = [root];
  const parser = new SaxesParser({ position: true });
  parser.on('opentag', (tag) => {
    const node = { name: tag.name, text: '', children: [] };
    stack[stack.length - 1].children.push(node);
    stack.push(node);
  });
  parser.on('text', (text) => { stack[stack.length - 1].text += text; });
  parser.on('closetag', () => { stack.pop(); });
  parser.write(text).close();
  return root;
}

const large = largeQueueFile();
const mb = (text) => `${(Buffer.byteLength(text) / 2 ** 20).toFixed(1)} MiB`;
const LARGE_REPS = 3;
const yamlBase = [], yamlPushq = [], xmlBase = [], xmlPushq = [];
const checked = (result) => {
  if (!result.valid || result.config.queues.length !== 101) throw new Error(`large file not read as 101 valid queues: ${JSON.stringify(result.errors.slice(0, 3))}`);
};
for (let r = 0; r < LARGE_REPS; r++) {
  yamlBase.push(time(() => parseDocument(large.yaml, { schema: 'failsafe', uniqueKeys: false })));
  yamlPushq.push(time(() => checked(parseQueueConfig(large.yaml, { file: 'queue.yaml' }))));
  xmlBase.push(time(() => saxesTree(large.xml)));
  xmlPushq.push(time(() => checked(parseQueueConfig(large.xml, { file: 'queue.xml' }))));
}
const yb = median(yamlBase), yp = median(yamlPushq), xb = median(xmlBase), xp = median(xmlPushq);
console.log(`large   queue.yaml ${mb(large.yaml)}, 101 queues, ${50 * ACL} acl entries`);
console.log(`        baseline (yaml parseDocument): ${yb.toFixed(0)} ms   parseQueueConfig: ${yp.toFixed(0)} ms   ratio ${(yp / yb).toFixed(2)}`);
console.log(`        queue.xml ${mb(large.xml)}: baseline (saxes, element tree): ${xb.toFixed(0)} ms   parseQueueConfig: ${xp.toFixed(0)} ms   ratio ${(xp / xb).toFixed(2)}`);
