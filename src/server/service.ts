/**
 * `pushq serve` assembled: the kernel on the wall clock, real HTTP dispatch, the REST API, and
 * the event log. The CLI (src/cli/serve.ts) opens the log and parses flags; this module is what
 * tests start in-process.
 *
 * Start and restart are one path: fold the logged events (none on a first start) into a fresh
 * state, feeding them to the AttemptHistory and DispatchCounters projections; build the Kernel
 * on that state; end the attempts a crash interrupted (`abandonInFlight`: at-least-once, and the
 * retry count continues); rebuild timers; then apply queue.yaml only if it differs from the
 * logged configuration (deploy semantics, reference §1.4).
 *
 * Shutdown: stop taking requests, `driver.halt()` (no new dispatch), wait a bounded time for
 * attempts in flight and for the commands already taken to be answered (once durable), flush
 * and close the log, then release the data directory's lock (after the close: no other server
 * may open the log while this one can still write it).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { formatIssue } from '../config/issues.js';
import { checkQueueFileConfig } from '../config/object-check.js';
import type { QueueFileConfig } from '../config/types.js';
import { keepDefaultQueue } from '../core/queue-config.js';
import type { EngineEvent, EngineSettings, TargetSettings } from '../core/events.js';
import { DEFAULT_SETTINGS, type EngineState } from '../core/state.js';
import { strandedTaskLines } from '../core/stranded-tasks.js';
import { unroutedQueueLines } from './unrouted-queues.js';
import { createHttpDispatcher, type HttpDispatcher } from '../dispatch/http-dispatcher.js';
import type { OriginPools } from '../dispatch/origin-pools.js';
import { IdTokenIssuer } from '../dispatch/id-tokens.js';
import type { EventObserver, Kernel } from '../engine/kernel.js';
import { RESTART_ERROR, resumeFromLog } from '../engine/restart.js';
import { WallDriver, createWallClock } from '../engine/wall-driver.js';
import type { EventLog } from '../log/event-log.js';
import { AttemptHistory } from '../projections/attempt-history.js';
import { fold } from '../projections/fold.js';
import { answerStarting, createApiHandler, type ApiContext, type ReloadOutcome } from './api.js';
import { LOGIN_PAGE } from './dashboard-page.js';
import { LogOutageGuard } from './log-outage.js';
import { BodyBudget } from './body-budget.js';
import { ConnectionBudget, createClientServer, defaultApiServerLimits, reportAcceptErrors, type ApiServerLimits } from './connection-limits.js';
import { GrpcService } from './grpc/grpc-service.js';
import { HttpTargetPolicy } from './http-target.js';
import { loadQueueConfigFileOffThread } from './config-thread.js';
import { reloadWhileStopping } from './operations.js';
import { RequestGuard, SAFE_METHODS } from './security.js';
import { listenUrl } from './listen-url.js';
import { inputName, listenError, targetUrlError, type InputNames } from './start-errors.js';
import { TaskStoryCache } from './task-story-view.js';
import { LiveSource } from './read-source.js';
import { newReadModels, projectionsOf, type ReadModels } from './read-models.js';
import { TaskTransactions } from './appengine/task-transactions.js';

const BACKGROUND_FLUSH_MS = 200;

/** A log whose last event is this far ahead of the machine's clock at start is reported (createWallClock runs on from it). */
const CLOCK_BEHIND_WARN_US = 1_000_000;

export { RESTART_ERROR };

export interface ServiceOptions {
  config: QueueFileConfig;
  /** Where `config` came from; reload (SIGHUP, POST /pushq/reload) reads it again. */
  configPath?: string;
  /**
   * false when `config` was read from a file with no `- name: default` entry (ConfigResult's
   * `declaresDefault`): a restart that deploys it keeps the default queue as the log has it
   * (keepDefaultQueue). Default true: `config`'s default is meant as given.
   */
  configDeclaresDefault?: boolean;
  /** Service name → base URL and scaling. */
  targets: Record<string, TargetSettings>;
  log: EventLog;
  /** The data directory's lock (openDataDir), released by close() after the log is closed. */
  dataLock?: { release(): Promise<unknown> };
  /** Events already in `log` (a restart); empty or absent for a first start. After `snapshot`: the events after it. */
  replayed?: Iterable<EngineEvent>;
  /** A restored fold snapshot (fold-snapshot.ts) of the log's first events: folded on from, instead of from nothing. */
  snapshot?: { state: EngineState; models: ReadModels };
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** The gRPC API's port (`--grpc-port`); 0 (default) picks a free port, null serves no gRPC. */
  grpcPort?: number | null;
  tombstoneSeconds?: number;
  /**
   * dev_appserver parity (`--dev-server`, S39, docs/serve.md): one task at a time for the whole
   * app, in ETA order across queues; rate, bucket_size, max_concurrent_requests and pause
   * ignored; task names reserved for ever (`tombstoneSeconds` is then not used). Logged.
   */
  devServer?: boolean;
  /** Connections per target origin. */
  connections?: number;
  /** Connections to the workers shared with other services (a cluster node's queues: origin-pools.ts); closed by their owner, not here. */
  originPools?: OriginPools;
  /** More observers of every event (after the attempt history), e.g. a benchmark's probes. */
  observers?: EventObserver[];
  /** Security (security.ts, docs/serve.md): more Host names (--allow-host), more origins (--allow-origin), */
  allowHosts?: string[];
  allowOrigins?: string[];
  /** the token every request needs (--auth-token), and whether a public bind may go without one (--insecure-public). */
  authToken?: string;
  insecurePublic?: boolean;
  /** More hosts HTTP target tasks may name, beyond loopback (`--allow-http-target`, http-target.ts). */
  allowHttpTargets?: string[];
  /** Serve `POST /pushq/reset` (`--allow-reset`): drops every task and tombstone, fills every token bucket, keeps the queues. */
  allowReset?: boolean;
  /** The API server's timeouts and connection bound (connection-limits.ts); tests shorten them. */
  limits?: Partial<ApiServerLimits>;
  /** How a refused option is named: as `pushq serve`'s flag (`--auth-token`; default) or as this option (`authToken`). */
  inputNames?: InputNames;
  /**
   * Told of each reload asked through `POST /pushq/reload` (its answer goes to the caller): `pushq
   * serve` prints an applied one, as it prints a SIGHUP's, so its output tells the queues it runs.
   */
  onApiReload?: (reload: Promise<ReloadOutcome>) => void;
  /** The cluster node this service runs a queue for (`--cluster`): named in the ServiceStarted a start on a stream with events logs. */
  node?: string;
  /** Where a warning line about the start goes (the log ahead of this machine's clock); default stderr, after `pushq serve: `. */
  warn?: (line: string) => void;
}

/**
 * State-changing HTTP requests (REST, /rpc_http) taken before the stop and not answered yet: a
 * command may be waiting for its events' sync, and shutdown lets it answer (within the drain
 * time) before it closes the connections, as gRPC's tryShutdown does for its calls. Cut off, a
 * create that was kept would look failed to its client, whose retry of an unnamed task is a duplicate.
 */
interface OpenCommands {
  /** False once the stop has begun: later requests are refused at once (SHUTTING_DOWN), not waited for. */
  taking: boolean;
  open: number;
}

export interface ShutdownReport {
  /** Attempts still in flight when the wait ended (0 when all settled). */
  abandoned: number;
}

export class PushqService {
  readonly url: string;
  /** The port the API listens on. */
  readonly port: number;
  /** The port of the gRPC API (`google.cloud.tasks.v2.CloudTasks`), or null when none is served. */
  readonly grpcPort: number | null;
  readonly history: AttemptHistory;
  /** Every read model, fed live (a fold snapshot writes them beside the state). */
  readonly models: ReadModels;
  /** Events replayed at start, and attempts found in flight then (re-dispatched). */
  readonly replayedEvents: number;
  readonly interruptedAttempts: number;
  private closing: Promise<ShutdownReport> | undefined;
  /**
   * Dispatch and settle events are committed at once but written at the next flush; this timer
   * bounds how much of that history a crash can lose (a lost settle means one more delivery,
   * never a lost task: tasks are acknowledged only after their own flush).
   */
  private readonly flusher: NodeJS.Timeout;

  private readonly bodies: BodyBudget;
  private constructor(
    readonly kernel: Kernel,
    readonly driver: WallDriver,
    readonly log: EventLog,
    private readonly server: Server,
    private readonly dispatcher: HttpDispatcher,
    private readonly ctx: ApiContext,
    private readonly options: Omit<ServiceOptions, 'replayed' | 'snapshot'>,
    private readonly grpc: GrpcService | null,
    info: { url: string; port: number; history: AttemptHistory; models: ReadModels; replayed: number; interrupted: number; outage: LogOutageGuard; bodies: BodyBudget },
    private readonly commands: OpenCommands,
  ) {
    this.url = info.url;
    this.bodies = info.bodies;
    this.port = info.port;
    this.grpcPort = grpc?.port ?? null;
    this.history = info.history;
    this.models = info.models;
    this.replayedEvents = info.replayed;
    this.interruptedAttempts = info.interrupted;
    // A flush that fails (a full disk) is retried by the next tick; the guard reports it once.
    const outage = info.outage;
    this.flusher = setInterval(() => {
      log.flush().then(
        () => outage.check(),
        (err: unknown) => {
          if (log.writeFailure?.() == null) process.stderr.write(`pushq serve: log flush failed: ${(err as Error).message}\n`);
          outage.check();
        },
      );
    }, BACKGROUND_FLUSH_MS);
    this.flusher.unref();
  }

  static async start(given: ServiceOptions): Promise<PushqService> {
    // The replayed events and the snapshot are folded into the state below and must not outlive
    // that: the service keeps its options, the closures made here keep this function's scope, and
    // the events of a long log weigh more than the state they were folded into.
    const { replayed: events, snapshot, ...options } = given;
    checkQueueFileConfig(options.config);
    // Refuses a target that is not an http(s) URL, and an unsafe exposure (a public bind without a token), before anything is bound.
    for (const [name, t] of Object.entries(options.targets)) {
      const refused = t.url === undefined ? null : targetUrlError(`${inputName('targets', options.inputNames, name)}${options.inputNames === 'options' ? '.url' : ''}`, t.url);
      if (refused !== null) throw refused;
    }
    const guard = await RequestGuard.create(options);
    const httpTargets = HttpTargetPolicy.create(options.allowHttpTargets, options.inputNames);
    const settings: EngineSettings = {
      targets: options.targets,
      tombstoneSeconds: options.tombstoneSeconds ?? DEFAULT_SETTINGS.tombstoneSeconds,
      ...(options.devServer === true ? { devServer: true as const } : {}),
    };
    // Every read model of the service (the API's and the dashboard's), fed the restart's fold, then live.
    const models = snapshot?.models ?? newReadModels();
    const { history, counters } = models;
    // This service's own log: an event that does not fit is an engine bug (AssertionError), not a bad file.
    const restored = fold(events ?? [], projectionsOf(models), { misfit: 'assert', ...(snapshot === undefined ? {} : { state: snapshot.state }) });
    const state = restored.state;
    const replayed = restored.events;
    // Listen first, answering UNAVAILABLE until the restored state is ready: a port that cannot
    // be bound fails the start before anything is dispatched or logged.
    let handle: (req: IncomingMessage, res: ServerResponse) => void = answerStarting;
    // Slow, silent and idle clients are cut off, and connections bounded (connection-limits.ts).
    const limits: ApiServerLimits = { ...defaultApiServerLimits(), ...options.limits };
    const commands: OpenCommands = { taking: true, open: 0 };
    // One bound for the HTTP and the gRPC port: the file descriptors are the process's.
    const budget = new ConnectionBudget(limits.connectionsMax);
    const bodies = new BodyBudget(limits.bodyBytesMax);
    const server = createClientServer((req, res) => {
      if (commands.taking && !SAFE_METHODS.has(req.method ?? '')) {
        commands.open++;
        res.once('close', () => commands.open--);
      }
      guard.serve(req, res, handle, LOGIN_PAGE);
    }, limits, budget, bodies);
    await new Promise<void>((resolve, reject) => {
      const failed = (err: unknown): void => reject(listenError(err, options.host ?? '127.0.0.1', options.port ?? 0, 'port', options.inputNames));
      server.once('error', failed);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', failed);
        resolve();
      });
    });
    reportAcceptErrors(server, (line) => void process.stderr.write(`pushq serve: ${line}\n`));
    const wallUs = Date.now() * 1000;
    const clock = createWallClock(state.lastEventAt, wallUs);
    if (state.lastEventAt - wallUs > CLOCK_BEHIND_WARN_US) {
      (options.warn ?? ((line: string) => void process.stderr.write(`pushq serve: ${line}\n`)))(
        `the log's last event (${new Date(state.lastEventAt / 1000).toISOString()}) is ${((state.lastEventAt - wallUs) / 1e6).toFixed(1)} s ahead of this machine's clock (${new Date(wallUs / 1000).toISOString()}): time runs on from that event here (tasks' times are judged on it, that far ahead of this clock); is this machine's clock behind the others (NTP)?`,
      );
    }
    // After shutdown an attempt that still answers is not settled (driver.detach): the log is
    // closed, and the next start re-dispatches it (at-least-once).
    // HTTP target tasks' tokens name this server as their issuer: its URL, known once it listens.
    const listening = listenUrl(server);
    const tokens = new IdTokenIssuer(listening.url);
    const dispatcher = createHttpDispatcher({ targets: options.targets, tokens, ...(options.connections === undefined ? {} : { connections: options.connections }), ...(options.originPools === undefined ? {} : { pools: options.originPools }) });
    // No new attempt while the log cannot be written (log-outage.ts).
    const outage = new LogOutageGuard(dispatcher, options.log, (line) => process.stderr.write(`${line}\n`));
    const d = new WallDriver({
      state,
      log: options.log,
      transport: outage,
      clock,
      observers: [...projectionsOf(models).map((p) => p.observe), ...(options.observers ?? [])],
    });
    const kernel = d.kernel;
    let interrupted = 0;
    for (let id = 0; id < state.tasks.count; id++) if (state.tasks.attemptOpen[id] === 1) interrupted++;
    // A start that fails after the driver and the listener exist undoes both before it throws.
    const abandonStart = async (err: unknown): Promise<never> => {
      d.detach();
      d.stop();
      await dispatcher.destroy();
      await new Promise((r) => server.close(r));
      throw err;
    };
    try {
      d.run((k) => resumeFromLog(k, options.configDeclaresDefault === false ? keepDefaultQueue(options.config, k.state.config) : options.config, settings, options.node));
      await options.log.flush();
    } catch (err) {
      await abandonStart(err);
    }

    const stories = new TaskStoryCache(options.log);
    const ctx: ApiContext = {
      driver: d,
      log: options.log,
      history,
      counters,
      stories,
      dashboard: new LiveSource({ driver: d, log: options.log, models, stories, stopping: () => ctx.stopping }),
      httpTargets,
      tokens,
      resetAllowed: options.allowReset === true,
      transactions: new TaskTransactions(),
      stopping: false,
      reload: async () => ({ ok: false, lines: [] }),
    };
    let grpc: GrpcService | null = null;
    if (options.grpcPort !== null) {
      try {
        grpc = await GrpcService.start(ctx, { host: options.host ?? '127.0.0.1', port: options.grpcPort ?? 0, budget, bodies, idleMs: limits.grpcIdleMs, requestMs: limits.requestTimeoutMs, ...(options.inputNames === undefined ? {} : { inputNames: options.inputNames }), ...(guard.grpcAuthorize === undefined ? {} : { authorize: guard.grpcAuthorize }) });
      } catch (err) {
        await abandonStart(err);
      }
    }
    handle = createApiHandler(ctx);
    const service = new PushqService(kernel, d, options.log, server, dispatcher, ctx, options, grpc, { url: listening.url, port: listening.port, history, models, replayed, interrupted, outage, bodies }, commands);
    ctx.reload = () => {
      const reload = service.reload();
      options.onApiReload?.(reload);
      return reload;
    };
    return service;
  }

  /**
   * Answers one request as this service's own HTTP server does (its guard, then the API): a cluster
   * node's router hands it the calls for this queue in process, without a second HTTP hop.
   */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.server.emit('request', req, res);
  }

  /** The request-body bytes the HTTP port holds now, against `limits.bodyBytesMax` (body-budget.ts). */
  get bodyBytesHeld(): number {
    return this.bodies.heldBytes;
  }

  /** Connections the HTTP port holds open now (accepted by the server: REST, dashboard, /rpc_http). */
  openConnections(): Promise<number> {
    return new Promise((resolve, reject) => this.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
  }

  get settings(): EngineSettings {
    return this.kernel.state.settings;
  }

  /**
   * Reads queue.yaml again and applies it with deploy semantics; an invalid file changes nothing.
   * The file is parsed and checked on a worker thread (config-thread.ts): the service answers meanwhile.
   * Reloads run one after the other, each reading the file at its turn: two that overlap (a slow
   * read, a burst of SIGHUPs) end with the file as it is now, never with the older read applied last.
   */
  reload(): Promise<ReloadOutcome> {
    const next = this.reloads.then(() => this.reloadNow());
    this.reloads = next.catch(() => undefined);
    return next;
  }

  private reloads: Promise<unknown> = Promise.resolve();

  private async reloadNow(): Promise<ReloadOutcome> {
    if (this.closing !== undefined) return reloadWhileStopping();
    const path = this.options.configPath;
    if (path === undefined) return { ok: true, lines: ['no queue.yaml was given (--config): only the default queue exists; nothing to reload'] };
    const result = await loadQueueConfigFileOffThread(path);
    if (result.config === null) return { ok: false, lines: result.errors.map(formatIssue) };
    const file = result.config;
    if (this.closing !== undefined) return reloadWhileStopping();
    this.driver.run((k) => k.applyConfig(result.declaresDefault ? file : keepDefaultQueue(file, k.state.config), k.state.settings));
    await this.log.flush();
    return { ok: true, lines: [`${path}: applied (${file.queues.length} queues)`, ...result.warnings.map(formatIssue), ...strandedTaskLines(this.kernel.state, path), ...unroutedQueueLines(this.kernel.state.queues, this.options.targets)] };
  }

  /** Stops taking requests and dispatching, waits up to `graceMs` for attempts in flight and for the requests taken to be answered, syncs the log. */
  close(graceMs = 10_000): Promise<ShutdownReport> {
    this.closing ??= this.shutdown(graceMs);
    return this.closing;
  }

  private async shutdown(graceMs: number): Promise<ShutdownReport> {
    this.ctx.stopping = true;
    this.commands.taking = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const grpcClosed = this.grpc?.close() ?? Promise.resolve();
    this.server.closeIdleConnections();
    this.driver.halt();
    const deadline = performance.now() + graceMs;
    while ((this.driver.pendingAsync > 0 || this.commands.open > 0) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const abandoned = this.driver.pendingAsync;
    this.driver.stop();
    clearInterval(this.flusher);
    this.server.closeAllConnections();
    await closed;
    await grpcClosed;
    this.driver.detach();
    await (abandoned > 0 ? this.dispatcherDestroy() : this.dispatcher.close());
    // A disk that still fails loses only what was never acknowledged; the file is closed and the
    // lock released regardless, and the failure is what close() rejects with.
    try {
      await this.log.flush();
    } finally {
      try {
        await this.log.close();
      } finally {
        await this.options.dataLock?.release();
      }
    }
    return { abandoned };
  }

  private async dispatcherDestroy(): Promise<void> {
    // Attempts still in flight stay open in the log; the next start re-dispatches them. Their
    // requests are aborted: waiting for them (and their deadline timers) would keep the process
    // alive up to the handler deadline after "stopped".
    await this.dispatcher.destroy();
  }
}
