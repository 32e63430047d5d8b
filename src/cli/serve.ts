/**
 * `pushq serve`: a local push-queue service (docs/serve.md). Parses flags, loads queue.yaml,
 * locks and opens the data directory (a second server on it is refused, exit 1), starts the
 * PushqService, prints one startup line. Signals are handled from the start to the end
 * (serve-signals.ts): SIGHUP reloads queue.yaml, SIGINT/SIGTERM shut down (bounded wait for
 * attempts in flight, log synced, lock released) and exit 0; while starting they wait for the
 * start, while stopping they change nothing.
 */
import { formatIssue } from '../config/issues.js';
import { findQueueFile, loadQueueConfigFile } from '../config/load.js';
import { defaultQueueFileConfig } from '../config/defaults.js';
import type { QueueFileConfig } from '../config/types.js';
import { DEV_SERVER_RULES } from '../core/dev-server.js';
import type { TargetScaling, TargetSettings } from '../core/events.js';
import { targetUrlProblem } from '../dispatch/target-url.js';
import { isValidTarget } from '../core/names.js';
import { configHash } from '../log/config-hash.js';
import { strandedTaskLines } from '../core/stranded-tasks.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION, type EventLog } from '../log/event-log.js';
import { LogError } from '../log/log-errors.js';
import { MemoryEventLog } from '../log/memory-log.js';
import { openDataDir } from '../server/data-dir.js';
import type { DataDirLock } from '../server/data-dir-lock.js';
import { PushqService } from '../server/service.js';
import { targetsSummary, unroutedQueueLines } from '../server/unrouted-queues.js';
import { ServeStartError } from '../server/start-errors.js';
import { readAuthTokenFile } from './auth-token-file.js';
import { PUSHQ_VERSION } from '../version.js';
import { CliUsageError, defineCommand, helpText, parseCommandLine, reportUsageError, seconds, wholeNumber } from './args.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from './io.js';
import { ServeSignals, reportApiReload, reportReload } from './serve-signals.js';
import { openServeStore, type OpenedStore } from './serve-store.js';
import { clusterArgs, serveCluster } from './serve-cluster.js';
import { logErrorMessage } from './log-damage.js';
import type { EngineEvent } from '../core/events.js';
import { counted } from './counted.js';

const SCALINGS: readonly TargetScaling[] = ['automatic', 'basic', 'manual'];

/** `NAME=VALUE` split at its first `=`; NAME must not be empty. */
function namedValue(text: string, flag: string, want: string): [string, string] {
  const k = text.indexOf('=');
  if (k <= 0) throw new CliUsageError(`${flag} wants ${want}, got "${text}"`);
  return [text.slice(0, k), text.slice(k + 1)];
}

/**
 * A --target or --scaling NAME is a target as queue.yaml and task routing spell one: any other
 * (`Worker`, `my_svc`) could never be looked up, so its URL or scaling would be shown in the
 * startup line and never used, the tasks meant for it going to `default`.
 */
function targetName(name: string, flag: string): string {
  if (!isValidTarget(name)) throw new CliUsageError(`${flag} ${name} is not \`service\` or \`version.service\` in lower-case letters, digits and hyphens: no queue target or task routing can name it`);
  return name;
}

function target(text: string, flag: string): [name: string, url: string] {
  const [name, url] = namedValue(text, flag, 'NAME=URL');
  targetName(name, flag);
  const problem = targetUrlProblem(url);
  if (problem !== null) throw new CliUsageError(`${flag} ${name}: ${problem}`);
  return [name, url];
}

function scaling(text: string, flag: string): [name: string, kind: TargetScaling] {
  const [name, kind] = namedValue(text, flag, 'NAME=automatic|basic|manual');
  if (!(SCALINGS as readonly string[]).includes(kind)) throw new CliUsageError(`${flag} wants NAME=automatic|basic|manual, got "${text}"`);
  return [targetName(name, flag), kind as TargetScaling];
}

export const SERVE = defineCommand({
  name: 'serve',
  operands: null,
  about: `Runs App Engine push queues locally: tasks are dispatched over real HTTP to your
app, with rate, bucket, concurrency, ETA and retries enforced. The API is Cloud
Tasks v2, over REST and over gRPC (docs/serve.md); a live dashboard is at
http://HOST:PORT/.`,
  flags: {
    config: { type: 'string', value: 'FILE', help: 'queue.yaml / queue.yml / queue.xml (default: the first of these in the current directory, as App Engine reads an app\'s; with none, only the default queue)' },
    target: { type: 'string', value: 'NAME=URL', multiple: true, parse: target, help: 'base URL of App Engine service NAME (repeatable); tasks with no target go to "default"' },
    scaling: { type: 'string', value: 'NAME=KIND', multiple: true, parse: scaling, help: 'automatic (10 min deadline, the default), basic or manual (24 h) (repeatable)' },
    data: { type: 'string', value: 'DIR', help: 'where the event log lives (default ./.pushq)' },
    store: { type: 'string', value: 'URL', help: 'keep the log in PostgreSQL (postgres://user@host:port/db) instead of --data (docs/cluster.md); the password from PGPASSWORD or ~/.pgpass, not the URL: ps shows a command line to every local user' },
    cluster: { type: 'boolean', help: 'with --store: run as one node of several on that store; each queue owned by one node, any node answers for any queue (docs/cluster.md)' },
    advertise: { type: 'string', value: 'URL', help: 'with --cluster: the URL other nodes reach this node\'s API at (default: the bound address; needed when --host binds every address, e.g. 0.0.0.0)' },
    'lease-seconds': { type: 'string', value: 'S', parse: seconds, help: 'with --cluster: lifetime of a queue\'s lease and of the node\'s heartbeat (default 15); a dead node\'s queues move after it' },
    'store-timeout-seconds': {
      type: 'string',
      value: 'S',
      parse: seconds,
      help: 'with --store (one node or --cluster): how long one statement may wait for PostgreSQL, held up by a lock another session holds on pushq\'s tables or by a server that does not answer, before it fails STORE_TIMEOUT (default 30): a start then exits 1, a call answers 503',
    },
    memory: { type: 'boolean', help: 'keep the log in memory only (not durable; for quick trials)' },
    repair: { type: 'boolean', help: 'a data directory whose log is corrupt: cut it at the last complete batch before the damage, keeping the bytes cut off in events.log.damaged-OFFSET beside it (.1, .2, ... added if that name is taken), and start' },
    'no-sync': { type: 'boolean', help: 'write the log without fdatasync (faster; a machine crash may lose it)' },
    host: { type: 'string', value: 'HOST', help: 'address to bind (default 127.0.0.1)' },
    port: { type: 'string', value: 'N', parse: wholeNumber(0, 65535), help: 'port (default 8123; 0 picks a free one)' },
    'grpc-port': { type: 'string', value: 'N', parse: wholeNumber(0, 65535), help: 'port of the gRPC API, google.cloud.tasks.v2.CloudTasks (default 8124; 0 picks a free one)' },
    'drain-seconds': { type: 'string', value: 'S', parse: seconds, help: 'on SIGINT/SIGTERM, wait at most S seconds for attempts in flight (default 10)' },
    connections: {
      type: 'string',
      value: 'N',
      parse: wholeNumber(1, 4096),
      help: 'connections per worker origin (default 128): at most N requests at once at one worker; beyond 2N handed to the pool, queues wait (backpressure, docs/serve.md)',
    },
    'allow-host': { type: 'string', value: 'NAME', multiple: true, help: 'also accept requests whose Host header names NAME (repeatable); loopback names and --host are always accepted' },
    'allow-origin': { type: 'string', value: 'ORIGIN', multiple: true, help: 'also accept state-changing browser requests from ORIGIN, e.g. http://localhost:3000 (repeatable)' },
    'auth-token': { type: 'string', value: 'TOKEN', help: 'every request needs Authorization: Bearer TOKEN; TOKEN a long random string, e.g. from openssl rand -hex 24 (docs/serve.md)' },
    'auth-token-file': { type: 'string', value: 'FILE', help: '--auth-token read from FILE (the token alone, on one line), so it is not on the command line for every local user to see; keep FILE chmod 600 (one group or others may read is warned of)' },
    'allow-http-target': { type: 'string', value: 'PATTERN', multiple: true, help: 'also let HTTP target tasks (httpRequest) reach hosts matching PATTERN: api.internal, 10.0.0.5:8080, *.example.test, or * (repeatable); loopback always' },
    'allow-reset': { type: 'boolean', help: 'serve POST /pushq/reset, which drops every task and tombstone, fills every token bucket and keeps the queues (for test suites)' },
    'dev-server': { type: 'boolean', help: `dispatch as dev_appserver does: ${DEV_SERVER_RULES} (docs/serve.md)` },
    'insecure-public': { type: 'boolean', help: 'serve a --host beyond loopback with no --auth-token: anyone who can reach it can read tasks and send requests to your app through pushq' },
  },
  footer: 'signals: SIGHUP reloads queue.yaml (deploy semantics); SIGINT/SIGTERM stop.',
});

export interface ServeArgs {
  config?: string;
  targets: Record<string, TargetSettings>;
  data: string;
  store?: string;
  /** Cluster mode (--cluster, with --store): absent on a single node. */
  cluster?: true;
  advertise?: string;
  leaseSeconds?: number;
  /** --store-timeout-seconds (--store, one node or --cluster); absent: the store's default bound. */
  storeTimeoutSeconds?: number;
  memory: boolean;
  repair: boolean;
  durable: boolean;
  host: string;
  port: number;
  grpcPort: number;
  drainSeconds: number;
  connections: number;
  allowHosts: string[];
  allowOrigins: string[];
  allowHttpTargets: string[];
  allowReset: boolean;
  /** --dev-server: dev_appserver's dispatch rules (S39). */
  devServer: boolean;
  authToken?: string;
  /** --auth-token-file: read at start (startAndServe) into authToken. */
  authTokenFile?: string;
  insecurePublic: boolean;
}

/** The serve flags with their defaults applied; throws CliUsageError. null: --help. */
export function parseServeArgs(args: readonly string[]): ServeArgs | null {
  const cli = parseCommandLine(SERVE, args);
  if (cli === null) return null;
  const f = cli.flags;
  // The log lives in one place: a second one given would otherwise be ignored without a word.
  const places = [f.data === undefined ? null : '--data', f.store === undefined ? null : '--store', f.memory ? '--memory' : null].filter((p) => p !== null);
  if (places.length > 1) throw new CliUsageError(`${places.join(' and ')} cannot be combined: the log is kept in one place, a data directory (--data DIR), PostgreSQL (--store URL) or memory (--memory)`);
  if (f['auth-token'] !== undefined && f['auth-token-file'] !== undefined) throw new CliUsageError('--auth-token and --auth-token-file cannot be combined: give the token one way');
  const storeTimeout = f['store-timeout-seconds'];
  if (storeTimeout !== undefined) {
    if (f.store === undefined) throw new CliUsageError('--store-timeout-seconds is for --store');
    if (storeTimeout < 0.1) throw new CliUsageError(`--store-timeout-seconds must be at least 0.1 (got ${storeTimeout})`);
  }
  // One attempt at a time for the whole app needs one engine that sees every queue; a cluster splits them among nodes.
  if (f['dev-server'] && f.cluster) throw new CliUsageError('--dev-server cannot be combined with --cluster: dev_appserver runs one task at a time for the whole app, and a cluster splits the queues among nodes; run one node (--data, --store or --memory)');
  if (f.repair && (f.store !== undefined || f.memory)) throw new CliUsageError(`--repair is for a data directory's log (--data), not ${f.store !== undefined ? '--store' : '--memory'}`);
  const targets: Record<string, TargetSettings> = {};
  for (const [name, url] of f.target) targets[name] = { scaling: 'automatic', url };
  // A --scaling applies whether it comes before or after its --target.
  for (const [name, kind] of f.scaling) targets[name] = { ...(targets[name] ?? {}), scaling: kind };
  return {
    ...(f.config === undefined ? {} : { config: f.config }),
    targets,
    data: f.data ?? '.pushq',
    ...(f.store === undefined ? {} : { store: f.store }),
    ...clusterArgs(f.cluster, f.store, f.advertise, f['lease-seconds'], f.host),
    ...(storeTimeout === undefined ? {} : { storeTimeoutSeconds: storeTimeout }),
    memory: f.memory,
    repair: f.repair,
    durable: !f['no-sync'],
    host: f.host ?? '127.0.0.1',
    port: f.port ?? 8123,
    grpcPort: f['grpc-port'] ?? 8124,
    drainSeconds: f['drain-seconds'] ?? 10,
    connections: f.connections ?? 128,
    allowHosts: f['allow-host'],
    allowOrigins: f['allow-origin'],
    allowHttpTargets: f['allow-http-target'],
    allowReset: f['allow-reset'],
    devServer: f['dev-server'],
    ...(f['auth-token'] === undefined ? {} : { authToken: f['auth-token'] }),
    ...(f['auth-token-file'] === undefined ? {} : { authTokenFile: f['auth-token-file'] }),
    insecurePublic: f['insecure-public'],
  };
}

/** `HOST:PORT` of the gRPC API, as a client's endpoint option takes it. */
function grpcAddress(service: PushqService): string {
  const host = new URL(service.url).hostname;
  return `${host}:${service.grpcPort ?? 0}`;
}

export async function serveCommand(args: string[], io: CliIo): Promise<number> {
  let parsed: ServeArgs | null;
  try {
    parsed = parseServeArgs(args);
  } catch (err) {
    if (err instanceof CliUsageError) return reportUsageError(SERVE, err, io);
    throw err;
  }
  if (parsed === null) {
    io.stdout(helpText(SERVE));
    return EXIT_OK;
  }
  // From here to the end, every signal has a meaning (serve-signals.ts): none may kill the
  // process by Node's default action, which would skip the sync and leave the lock behind.
  const signals = new ServeSignals(io);
  try {
    return await startAndServe(parsed, io, signals);
  } finally {
    signals.dispose();
  }
}

async function startAndServe(given: ServeArgs, io: CliIo, signals: ServeSignals): Promise<number> {
  // The token file is read first: a start it refuses has opened nothing.
  if (given.authTokenFile !== undefined) {
    try {
      given = { ...given, authToken: await readAuthTokenFile(given.authTokenFile, (line) => io.stderr(`pushq serve: ${line}\n`)) };
    } catch (err) {
      if (!(err instanceof ServeStartError)) throw err;
      io.stderr(`pushq serve: cannot start: ${err.message}\n`);
      return EXIT_FAILURE;
    }
  }
  // Without --config, the app's own queue file in the current directory, as App Engine reads it
  // (its reloads too); the startup line says so.
  const found = given.config === undefined ? findQueueFile(process.cwd()) : null;
  const parsed: ServeArgs = found === null ? given : { ...given, config: found };
  let config: QueueFileConfig = defaultQueueFileConfig();
  let declaresDefault = true; // no file: the preset default, as given
  if (parsed.config !== undefined) {
    const result = await loadQueueConfigFile(parsed.config);
    for (const w of result.warnings) io.stderr(`${formatIssue(w)}\n`);
    if (result.config === null) {
      for (const e of result.errors) io.stderr(`${formatIssue(e)}\n`);
      io.stderr(`pushq serve: ${parsed.config} is invalid; not starting\n`);
      return EXIT_FAILURE;
    }
    config = result.config;
    declaresDefault = result.declaresDefault;
  }

  if (parsed.cluster === true && parsed.store !== undefined) return serveCluster({ ...parsed, store: parsed.store }, config, declaresDefault, io, signals);

  let log: EventLog;
  let replayed: EngineEvent[] = [];
  let where: string;
  let lock: DataDirLock | undefined;
  let discard = (): Promise<void> => log.close();
  // The store's latest fold snapshot (events then holds what came after it), and its writer.
  let storeSnapshots: Pick<OpenedStore, 'snapshot' | 'writeSnapshots'> | undefined;
  if (parsed.memory) {
    log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: PUSHQ_VERSION, seed: 0, clock: 'wall', configHash: configHash(config) });
    where = 'memory (not durable)';
  } else if (parsed.store !== undefined) {
    const storeOptions = parsed.storeTimeoutSeconds === undefined ? {} : { statementTimeoutMs: parsed.storeTimeoutSeconds * 1000 };
    const opened = await openServeStore(
      parsed.store,
      configHash(config),
      (message) => {
        io.stderr(`pushq serve: deposed: ${message}; exiting\n`);
        process.exit(EXIT_FAILURE);
      },
      storeOptions,
    );
    if ('error' in opened) {
      io.stderr(`pushq serve: cannot open the store: ${opened.error}\n`);
      return EXIT_FAILURE;
    }
    ({ log, where, discard } = opened);
    replayed = opened.events;
    storeSnapshots = opened;
  } else {
    try {
      const data = await openDataDir(parsed.data, configHash(config), { durable: parsed.durable, repair: parsed.repair });
      log = data.log;
      lock = data.lock;
      discard = data.discard;
      replayed = data.events;
      const over = data.lock.takenOver;
      if (over !== null) {
        const was = over.previous === null ? 'an unreadable lock file' : `the lock of pid ${over.previous.pid} (started ${over.previous.startedAt}), which is no longer running`;
        io.stderr(`pushq serve: took over ${data.lock.path}: it held ${was}; a crashed server's, presumably\n`);
      }
      where = `${data.path}${parsed.durable ? '' : ' (no fsync)'}`;
      const t = data.tightened;
      if (t !== null) {
        const was = `mode ${t.from.toString(8).padStart(4, '0')}: an older pushq made its logs so`;
        io.stderr(
          t.error === null ?
            `pushq serve: ${t.path} was open to group or others (${was}), who could read every task's payload in it: made it 0600\n`
          : `pushq serve: warning: ${t.path} is open to group or others (${was}), who can read every task's payload in it, and pushq could not make it 0600 (${t.error}): chmod 600 ${t.path}\n`,
        );
      }
      if (data.droppedBytes > 0) io.stderr(`pushq serve: dropped a torn tail of ${counted(data.droppedBytes, 'byte')} (never acknowledged)\n`);
      const r = data.repaired;
      if (r !== null) {
        io.stderr(
          `pushq serve: --repair: ${data.path}:${r.line}: corrupt at byte ${r.offset} (${r.problem}); cut the log at byte ${r.cutAt}, the end of the last complete batch before it, ` +
            `and moved the ${counted(r.movedBytes, 'byte')} from there on to ${r.keptIn} (tasks in them are not restored)\n`,
        );
      } else if (parsed.repair) io.stderr(`pushq serve: --repair: ${data.path} is not corrupt; nothing changed\n`);
    } catch (err) {
      const message = err instanceof LogError ? logErrorMessage(err, 'serve') : (err as Error).message;
      io.stderr(`pushq serve: cannot open the data directory ${parsed.data}: ${message}\n`);
      return EXIT_FAILURE;
    }
  }

  let service: PushqService;
  try {
    service = await PushqService.start({
      config,
      ...(parsed.config === undefined ? {} : { configPath: parsed.config, configDeclaresDefault: declaresDefault }),
      targets: parsed.targets,
      log,
      ...(lock === undefined ? {} : { dataLock: lock }),
      replayed,
      ...(storeSnapshots?.snapshot == null ? {} : { snapshot: storeSnapshots.snapshot }),
      host: parsed.host,
      port: parsed.port,
      grpcPort: parsed.grpcPort,
      connections: parsed.connections,
      allowHosts: parsed.allowHosts,
      allowOrigins: parsed.allowOrigins,
      allowHttpTargets: parsed.allowHttpTargets,
      allowReset: parsed.allowReset,
      ...(parsed.devServer ? { devServer: true } : {}),
      ...(parsed.authToken === undefined ? {} : { authToken: parsed.authToken }),
      insecurePublic: parsed.insecurePublic,
      onApiReload: (reload) => reportApiReload(io, reload),
    });
  } catch (err) {
    io.stderr(`pushq serve: cannot start: ${(err as Error).message}\n`);
    await discard().catch(() => {}); // a first start leaves no trace in the data directory
    return EXIT_FAILURE;
  }
  replayed = []; // the events now live in the state; let them go
  const restoredFrom = storeSnapshots?.snapshot?.position ?? 0;
  const snapshots = storeSnapshots?.writeSnapshots(service);
  await lock?.recordPort(service.port);

  return new Promise<number>((resolve) => {
    const onHup = (): void => reportReload(io, service.reload());
    const onStop = (signal: string): void => {
      snapshots?.stop();
      io.stdout(`pushq serve: ${signal}: stopping (waiting up to ${parsed.drainSeconds} s for attempts in flight)\n`);
      service.close(parsed.drainSeconds * 1000).then(
        (report) => {
          // In memory nothing outlives the process: those attempts are not retried by anything.
          const inFlight = `${counted(report.abandoned, 'attempt')} still in flight`;
          const left = report.abandoned === 0 ? '' : parsed.memory ? ` (${inFlight}, lost with the in-memory log)` : ` (${inFlight} will be retried at the next start)`;
          io.stdout(`pushq serve: stopped${left}\n`);
          resolve(EXIT_OK);
        },
        (err: unknown) => {
          io.stderr(`pushq serve: shutdown failed: ${(err as Error).message}\n`);
          resolve(EXIT_FAILURE);
        },
      );
    };
    io.stdout(
      `pushq serve: API ${service.url}/v2/projects/-/locations/-/queues · gRPC ${grpcAddress(service)} · dashboard ${service.url}/ · data ${where}` +
        `${service.replayedEvents > 0 || restoredFrom > 0 ? ` (replayed ${counted(service.replayedEvents, 'event')}, ${counted(service.interruptedAttempts, 'interrupted attempt')} to retry${restoredFrom > 0 ? `, after its snapshot at position ${restoredFrom}` : ''})` : ''}` +
        ` · targets ${targetsSummary(parsed.targets)}` +
        ` · queues ${service.kernel.state.queues.map((q) => q.name).join(', ')}` +
        `${found === null ? '' : ` (from ${found} in the current directory; --config FILE to give another)`}` +
        `${parsed.devServer ? ` · dev-server mode: ${DEV_SERVER_RULES}` : ''}\n`,
    );
    // A restart with a file that made a push queue pull, or left a queue out (disabled), keeps its
    // tasks, as a reload does, and says so as a reload does: nothing else would tell the user why they never run.
    for (const line of strandedTaskLines(service.kernel.state, parsed.config)) io.stderr(`pushq serve: warning: ${line}\n`);
    // No target, or none for some queues' service: their every attempt would fail, said only task
    // by task (no-target-url). A reload says the same lines (service.ts reloadNow).
    for (const line of unroutedQueueLines(service.kernel.state.queues, parsed.targets)) io.stderr(`pushq serve: warning: ${line}\n`);
    // After the startup line, in the same turn: a stop or reload asked while starting runs now.
    signals.running({ reload: onHup, stop: onStop });
  });
}
