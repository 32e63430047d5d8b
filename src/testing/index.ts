/** pushq's public test kit: fast-check arbitraries, a scenario runner and invariant checkers for your own property tests. */
export * from './arbitraries/queue-config.js';
export * from './arbitraries/sim-config.js';
export * from './arbitraries/workload.js';
export * from './arbitraries/worker-model.js';
export * from './arbitraries/commands.js';
export * from './scenario.js';
export * from './invariants.js';
