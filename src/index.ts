/**
 * pushq's public entry point: `import { ... } from 'pushq'`.
 *
 * - Configuration: parse and validate queue.yaml / queue.xml (docs/config.md).
 * - Simulation: run queues against a modelled worker in virtual time (docs/simulate.md).
 * - Events and replay: the log every run writes, and the fold that rebuilds state from it
 *   (docs/events.md).
 * - Errors: typed, with stable codes (docs/errors.md).
 * The property-testing kit is a separate entry point: `pushq/testing` (docs/testing.md).
 */

// ---- configuration ----
export * from './config/index.js';

// ---- simulation ----
/** Build a simulation: queues from a config, a worker model or function, a seed. */
export { createSimulation, Simulation, configHash } from './simulate/simulation.js';
export { canonicalJson } from './core/canonical-json.js';
export type { SimulationOptions, SimTaskSpec, WorkloadSpec, QueueView, TaskView, SimulationStats } from './simulate/simulation.js';
/** The kernel: the interpreter around the core's step (advanced use; most users want createSimulation). */
export { Kernel, type EventObserver, type KernelOptions, type Transport } from './engine/kernel.js';
/** Virtual time with a modelled worker: the driver under createSimulation. */
export { VirtualDriver, type ModelledWorker, type VirtualDriverOptions } from './engine/virtual-driver.js';
export { VirtualTimeStalledError, STALL_TIMERS_MIN, STALL_TIMERS_PER_TASK } from './engine/stall-guard.js';
/** The pure step: one input in, events (applied through the context) and effects as data out. */
export { step, type StepInput, type StepContext, type Admission } from './core/step.js';
export { Effects, type Effect } from './core/effects.js';
/** App Engine's handler deadlines (S34). */
export { deadlineFor, attemptDeadline, DEADLINE_AUTOMATIC_US, DEADLINE_BASIC_MANUAL_US } from './core/handler-deadline.js';
export type { AttemptRequest, ModelledOutcome, ObservedOutcome } from './core/attempt.js';
export { NO_ANSWER, copyAttemptRequest } from './core/attempt.js';
/** Seeded randomness: a sequential generator, and the keyed streams a simulation draws from (common random numbers). */
export { createPrng, type Prng } from './engine/prng.js';
export { AttemptDraws, SequenceStream, STREAM_PURPOSE, ATTEMPT_SLOT, philox4x32, type StreamPurpose } from './engine/streams.js';
/** The series over time of a run (`sim.series()`); a fixed resolution that passes FIXED_POINTS_MAX points throws SeriesTooLongError (code SERIES_TOO_LONG); a run made with `series: false` keeps none (SeriesNotKeptError, SERIES_NOT_KEPT). */
export { SeriesTooLongError, SeriesNotKeptError, FIXED_POINTS_MAX } from './projections/series.js';
export type { SeriesData } from './projections/series-types.js';
/** The HTML report of a run (docs/simulate.md, The HTML report): rendered to a string, or written atomically; a path that cannot be written throws ReportPathError (code REPORT_PATH_UNWRITABLE). */
export { renderReport } from './simulate/report/render.js';
export { writeReportFile, checkReportPath, ReportPathError } from './simulate/report/write.js';
export type { ReportInput, ReportStats, ReportQueueFigures } from './simulate/report/input.js';
/** Modelled workers: latency distributions, errors, timeouts, outages, routes; or your own function. */
export { DEFAULT_WORKER, modelledDispatcher, functionDispatcher, sampleLatency, WorkerFunctionError } from './dispatch/worker-model.js';
export type { WorkerModel, WorkerBehaviour, WorkerRoute, LatencyModel, Outage, WorkerFunction, WorkerCall } from './dispatch/worker-model.js';
/** A worker model checked against the rules a scenario file's `worker` follows; one that breaks one throws WorkerModelError (code WORKER_MODEL_INVALID, `field` naming the value). createSimulation checks its `worker` so; `modelledDispatcher` takes a model already checked. */
export { checkWorkerModel, WorkerModelError } from './simulate/worker-rules.js';

// ---- scenario files (`pushq simulate`) ----
/** Parse and validate a scenario file (every issue with file:line:column), then run it (docs/simulate.md). */
export * from './scenario/index.js';

// ---- experiments (`pushq simulate --seeds`, `pushq compare`, `pushq tune`; docs/experiments.md) ----
/** Many seeds with 95% confidence intervals, paired comparison of scenario files, the least setting that meets goals; on worker threads, the pool closed on return. */
export * from './experiments/index.js';
/** One run's figures as `pushq simulate --json` prints them (each run of an experiment has this shape). */
export { runReport, type RunReport, type RunReportQueue } from './simulate/run-report.js';

// ---- the core: events, state, rules ----
export type * from './core/events.js';
export { ENGINE_EVENT_TYPES } from './core/events.js';
export { createEngineState, evolve, taskName, queueStateName, type EngineState, type QueueRuntime, type QueueStateName } from './core/state.js';
export { checkTaskSpec, checkRetryOptions, defaultTaskUrl, TASK_LIMITS, type TaskSpec, type TaskApiFlavour } from './core/task-spec.js';
/** The task lifecycle machine (XState), its derived table, and snapshots on demand. */
export { taskMachine, taskSnapshot, nextTaskState, TASK_STATES, TASK_EVENTS, type TaskStateName, type TaskMachineEventType, type TaskMachineSnapshot } from './core/task-machine.js';
/** App Engine's retry rule: backoff delay and give-up, in microseconds. */
export { backoffDelayUs, shouldRetry, retryPolicyFrom, DEFAULT_RETRY_POLICY, type RetryPolicy } from './core/retry-policy.js';
export type { HttpMethod } from './core/task-table.js';
export { US_PER_SECOND, secondsToMicros, microsToSeconds, type Micros } from './core/time.js';

// ---- errors ----
export { PushqError, UnknownQueueError, InvalidQueueModeError, TaskAlreadyExistsError, TombstonedTaskError, UnknownTaskError, TaskReleasedError, TaskValidationError, type PushqErrorCode } from './core/errors.js';
export { AssertionError } from './core/assert.js';

// ---- logs and replay ----
export { LOG_FORMAT, LOG_FORMAT_VERSION, type EventLog, type LogHeader } from './log/event-log.js';
export { MemoryEventLog } from './log/memory-log.js';
/** A log that keeps nothing: a simulation whose figures are all you need (`pushq simulate` without --log). */
export { DiscardEventLog } from './log/discard-log.js';
/** Rebuild state from events; compare states exactly. */
export { replay, stateDigest, stateLines, type ReplayOptions } from './log/replay.js';
/** The durable log: JSON lines, per-batch CRC-32, group commit, torn-tail recovery (docs/events.md). */
export { FileEventLog, createFileEventLog, createFileEventLogSync, openFileEventLog, readEventLogFile, scanEventLog } from './log/file-log.js';
export type { FileLogOptions, CreateFileLogOptions, ReadLogResult, LogPosition, ReadOptions, Recovered, ScanCallbacks, ScanResult } from './log/file-log.js';
/** The one codec between events and log lines, and the schema table it and docs/events.md follow. */
export { encodeEvent, decodeEvent, checkEvent, EventShapeError } from './log/codec.js';
/** The one event schema: every event's fields, kinds and meanings (the codec, decoders, the memory log and docs/events.md follow it). */
export { EVENT_SCHEMAS, TASK_OPTION_SCHEMAS, type FieldKind, type FieldSchema } from './core/event-schema.js';
export { LogError, type LogErrorCode } from './log/log-errors.js';
/** Snapshots: the state at a log position; loading = snapshot + the events after it. */
export { writeSnapshotFile, loadWithSnapshot, encodeSnapshot, decodeSnapshot, type LoadedState } from './log/snapshot.js';

// ---- read models: projections of the events (live through the kernel, or folded from a log) ----
/** The one observer interface, and the one fold: evolve over events, each projection shown each event after it is applied. */
export type { Projection } from './projections/projection.js';
export { fold, EventFold, EventMisfitError, type FoldOptions } from './projections/fold.js';
/** Fold a log file event by event as it is read (from its start, or from a snapshot's position onto its state). */
export { foldLogFile, type FoldLogFileOptions } from './log/replay.js';
/** Per-queue statistics folded from events (the same figures `pushq simulate` prints). */
export { StatsCollector, type QueueStats } from './projections/stats.js';
/** A task's story (attempts, backoffs and why, how it ended), rebuilt from events. */
export { TaskStoryCollector, type TaskStory, type AttemptStory, type BackoffStory, type GiveUpStory } from './projections/task-story.js';

// ---- the local service (`pushq serve`, docs/serve.md) ----
/** Start the service in-process: the kernel on the wall clock, HTTP dispatch, the Cloud Tasks v2 API over REST and gRPC. */
export { PushqService, RESTART_ERROR, type ServiceOptions, type ShutdownReport } from './server/service.js';
/** The data directory's durable log (`<dir>/events.log`), created or reopened for replay. */
export { openDataDir, DataDirUnusableError, EVENT_LOG_FILE, type OpenedData } from './server/data-dir.js';
/** One server per data directory: `<dir>/lock` (pid, host, start time); a dead holder's lock is taken over. */
export { acquireDataDirLock, pidIsAlive, DataDirLockedError, LOCK_FILE, type DataDirErrorCode, type DataDirLock, type LockHolder, type LockOptions, type TakenOver } from './server/data-dir-lock.js';
/** Real dispatch with undici: App Engine headers, deadlines, no redirects, no transport retries. */
export { createHttpDispatcher, attemptHeaders, observedOutcome, resolveTarget, formatEtaSeconds, APP_ENGINE_USER_AGENT, type HttpDispatcher, type HttpDispatcherOptions } from './dispatch/http-dispatcher.js';
export { RETRY_REASONS } from './core/retry-reason.js';
/** Drive a Kernel on the wall clock (one timer, re-armed after each command and settle), with a real transport. */
export { WallDriver, createWallClock, type ClockSources, type RealTransport, type WallDriverOptions } from './engine/wall-driver.js';

export { PUSHQ_VERSION } from './version.js';
