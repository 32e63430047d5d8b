// The scenario of bench/experiments.bench.mjs (issue 13's two-core run), shared with
// bench/garbage.bench.mjs, which measures one run of it: `tasks` over QUEUES queues, Poisson
// arrivals, lognormal latency, 10% errors and an outage.
export const QUEUES = 4;

export function experimentsScenarioText(tasks) {
  return `seed: 1
queue:
${Array.from({ length: QUEUES }, (_, i) => `  - { name: q${i}, rate: 200/s, bucket_size: 100, max_concurrent_requests: 200, retry_parameters: { task_retry_limit: 5 } }`).join('\n')}
workload:
${Array.from({ length: QUEUES }, (_, i) => `  - { queue: q${i}, count: ${tasks / QUEUES}, rate: 150/s, arrivals: poisson }`).join('\n')}
worker:
  latency: { distribution: lognormal, p50: 50ms, p99: 800ms }
  error_rate: 0.1
  outages: [ { from: 60s, to: 75s, status: 503 } ]
`;
}
