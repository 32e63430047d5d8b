/**
 * Queue configuration: queue.yaml / queue.xml → a validated, normalised {@link QueueFileConfig}
 * (reference §1; docs/config.md lists every rule and issue code).
 */
export * from './types.js';
export { parseQueueConfig, detectFormat, type ParseQueueConfigOptions } from './parse.js';
export { loadQueueConfigFile } from './load.js';
export { checkQueueFileConfig, ConfigObjectError } from './object-check.js';
export { defaultQueueConfig, defaultQueueFileConfig, DEFAULT_QUEUE_NAME } from './defaults.js';
export { printQueueYaml } from './print.js';
export { ConfigError, formatIssue, requireValidConfig, ISSUE_CODES, type IssueCode } from './issues.js';
export { parseRate, ratePerSecond, formatRate, type RateParse, type RateUnit } from './rate.js';
export { parseTaskAgeLimit } from './durations.js';
export { parseTotalStorageLimit } from './storage.js';
export type { ConfigFormat } from './source.js';
