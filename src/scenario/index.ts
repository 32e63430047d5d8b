/**
 * Scenario files (`pushq simulate`): a YAML description of queues, workloads and a modelled worker
 * → a validated {@link Scenario} or every problem with file:line:column → a seeded simulation run.
 * docs/simulate.md documents the format, the issue codes and the output.
 */
export { parseScenario, SEED_MAX, type ParseScenarioOptions } from './parse.js';
export { loadScenario } from './load.js';
export { runScenario, scenarioSeed, scenarioLogHeader, DEFAULT_SEED, RUN_LIMIT_US, type RunScenarioOptions, type ScenarioRun } from './run.js';
export { SCENARIO_ISSUE_CODES, type ScenarioIssueCode } from './issues.js';
export { parseDuration, parseArrivalRate } from './values.js';
export type { Scenario, ScenarioResult, QueueSource } from './types.js';
