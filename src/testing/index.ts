/** pushq's public test kit: fast-check arbitraries, a scenario runner and invariant checkers for your own property tests, and startPushq: a real pushq serve inside your test process. */
export * from './arbitraries/queue-config.js';
export * from './arbitraries/sim-config.js';
// Not the drawn groups and commands a scenario resolves (its own, not the kit's).
export { workloadArbitrary, namedTasks, type WorkloadArbitraryOptions } from './arbitraries/workload.js';
export * from './arbitraries/worker-model.js';
export { queueCommandsArbitrary, type QueueCommand, type CommandArbitraryOptions } from './arbitraries/commands.js';
export * from './scenario.js';
export { ScenarioBudgetError, scenarioEventBudget, ATTEMPTS_PER_TASK_MAX } from './event-budget.js';
export * from './invariants.js';
export { startPushq, PushqResetError, type PushqResetErrorCode, type RunningPushq, type StartPushqOptions } from './serve.js';
