/**
 * What a dispatcher is asked to do, and what it answers. The kernel builds an AttemptRequest
 * after the AttemptDispatched event is committed; the dispatcher (a modelled worker, or real HTTP)
 * answers with an outcome.
 */
import type { FailureReason } from '../core/events.js';
import type { HttpMethod } from '../core/task-table.js';
import type { Micros } from '../core/time.js';

export interface AttemptRequest {
  id: number;
  queue: string;
  name: string;
  method: HttpMethod;
  /** Relative URL. */
  url: string;
  /** The task's own headers (the X-AppEngine-* ones are added by the HTTP dispatcher). */
  headers: readonly [string, string][];
  /** Base64 payload, if the task has a real one. */
  body: string | undefined;
  bodyBytes: number;
  /** The App Engine service the attempt goes to (queue target, else task target, else `default`). */
  target: string;
  /** X-AppEngine-TaskRetryCount: attempts before this one. */
  retryCount: number;
  /** X-AppEngine-TaskExecutionCount: earlier attempts that got a handler response. */
  executionCount: number;
  /** X-AppEngine-TaskPreviousResponse, null on the first attempt or when none came back. */
  previousStatus: number | null;
  /** The task's ETA (its retry time after a failure), µs in the engine's clock. */
  etaUs: Micros;
  dispatchedAt: Micros;
  /** The handler deadline: the task's own dispatch deadline, capped by its target's (S34). */
  deadlineUs: Micros;
  forced: boolean;
}

/**
 * A modelled answer, known when the attempt starts (simulation). The kernel owns one of these
 * and passes it to `answer` to fill in: a million attempts allocate no outcome objects.
 */
export interface ModelledOutcome {
  /** HTTP status, or NO_ANSWER: the attempt runs into its deadline. */
  status: number;
  /** Time until the answer, µs. Ignored for NO_ANSWER. */
  latencyUs: Micros;
}

/** `ModelledOutcome.status` when the worker never answers. */
export const NO_ANSWER = -1;

/** A real answer, known when it arrives (HTTP). */
export interface ObservedOutcome {
  status: number | null;
  reason?: FailureReason;
  error?: string;
}

/**
 * Where attempts go. A modelled worker answers at once with the outcome and its latency, and the
 * kernel schedules the answer in virtual time; a real one answers when the response arrives.
 */
export type Dispatcher =
  /** `request` is only valid during the call (the kernel reuses it): copy what you keep. */
  | { kind: 'modelled'; answer(request: AttemptRequest, out: ModelledOutcome): void }
  | RealDispatcher;

/**
 * A dispatcher that sends real requests. It may apply backpressure: when its transport to a
 * target is full, `hasRoom` answers false and remembers the queue, and the listener set with
 * `setRoomListener` is called with that queue's index once there is room again. The kernel then
 * leaves the queue's tasks pending (no AttemptDispatched is logged for a request that could not be
 * sent), instead of logging dispatches that would only wait in a local buffer.
 */
export interface RealDispatcher {
  kind: 'real';
  send(request: AttemptRequest): Promise<ObservedOutcome>;
  /**
   * Whether an attempt of queue `queueIndex` to `target` may start now (see above). `pinned`: the
   * queue has a target of its own, so all its tasks go to one place.
   */
  hasRoom?(target: string, queueIndex: number, pinned: boolean): boolean;
  setRoomListener?(listener: (queueIndex: number) => void): void;
}
