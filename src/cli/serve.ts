/**
 * `pushq serve`: a local push-queue service (docs/serve.md). Parses flags, loads queue.yaml,
 * locks and opens the data directory (a second server on it is refused, exit 1), starts the
 * PushqService, prints one startup line. Signals are handled from the start to the end
 * (serve-signals.ts): SIGHUP reloads queue.yaml, SIGINT/SIGTERM shut down (bounded wait for
 * attempts in flight, log synced, lock released) and exit 0; while starting they wait for the
 * start, while stopping they change nothing.
 */
import { formatIssue } from '../config/issues.js';
import { loadQueueConfigFile } from '../config/load.js';
import { defaultQueueFileConfig } from '../config/defaults.js';
import type { QueueFileConfig } from '../config/types.js';
import type { TargetScaling, TargetSettings } from '../core/events.js';
import { configHash } from '../engine/simulation.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION, type EventLog } from '../log/event-log.js';
import { MemoryEventLog } from '../log/memory-log.js';
import { openDataDir } from '../server/data-dir.js';
import type { DataDirLock } from '../server/data-dir-lock.js';
import { PushqService } from '../server/service.js';
import { PUSHQ_VERSION } from '../version.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';
import { ServeSignals } from './serve-signals.js';
import type { EngineEvent } from '../core/events.js';

export const SERVE_USAGE = `usage: pushq serve [--config queue.yaml] [--target NAME=URL ...] [--data DIR]
                   [--host 127.0.0.1] [--port N] [--connections N]

Runs App Engine push queues locally: tasks are dispatched over real HTTP to your
app, with rate, bucket, concurrency, ETA and retries enforced. The API is the
Cloud Tasks v2 REST API (docs/serve.md); a live dashboard is at http://HOST:PORT/.

options:
  --config FILE          queue.yaml / queue.xml (default: only the default queue)
  --target NAME=URL      base URL of App Engine service NAME (repeatable); tasks with
                         no target go to "default"
  --scaling NAME=KIND    automatic (10 min deadline, the default), basic or manual (24 h)
  --data DIR             where the event log lives (default ./.pushq)
  --memory               keep the log in memory only (not durable; for quick trials)
  --no-sync              write the log without fdatasync (faster; a machine crash may lose it)
  --host HOST            address to bind (default 127.0.0.1)
  --port N               port (default 8123; 0 picks a free one)
  --drain-seconds S      on SIGINT/SIGTERM, wait at most S seconds for attempts in flight (default 10)
  --connections N        connections per worker origin (default 128): at most N requests at
                         once at one worker; beyond 2N handed to the pool, queues wait
                         (backpressure, docs/serve.md)
  -h, --help             show this help

signals: SIGHUP reloads queue.yaml (deploy semantics); SIGINT/SIGTERM stop.
`;

interface ServeArgs {
  config?: string;
  targets: Record<string, TargetSettings>;
  data: string;
  memory: boolean;
  durable: boolean;
  host: string;
  port: number;
  drainSeconds: number;
  connections: number;
}

const SCALINGS: readonly TargetScaling[] = ['automatic', 'basic', 'manual'];

function parseArgs(args: string[]): ServeArgs | string {
  const out: ServeArgs = { targets: {}, data: '.pushq', memory: false, durable: true, host: '127.0.0.1', port: 8123, drainSeconds: 10, connections: 128 };
  const scalings: [string, TargetScaling][] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const eq = arg.indexOf('=');
    const [flag, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    try {
      switch (flag) {
        case '--config': out.config = value(); break;
        case '--data': out.data = value(); break;
        case '--memory': out.memory = true; break;
        case '--no-sync': out.durable = false; break;
        case '--host': out.host = value(); break;
        case '--port': {
          const p = Number(value());
          if (!Number.isInteger(p) || p < 0 || p > 65535) return `--port must be 0..65535`;
          out.port = p;
          break;
        }
        case '--drain-seconds': {
          const s = Number(value());
          if (!(s >= 0)) return '--drain-seconds must be 0 or more';
          out.drainSeconds = s;
          break;
        }
        case '--connections': {
          const n = Number(value());
          if (!Number.isInteger(n) || n < 1 || n > 4096) return '--connections must be a whole number from 1 to 4096';
          out.connections = n;
          break;
        }
        case '--target': {
          const v = value();
          const k = v.indexOf('=');
          if (k <= 0) return `--target wants NAME=URL, got "${v}"`;
          const name = v.slice(0, k);
          const url = v.slice(k + 1);
          let u: URL;
          try {
            u = new URL(url);
          } catch {
            return `--target ${name}: "${url}" is not a URL`;
          }
          if (u.protocol !== 'http:' && u.protocol !== 'https:') return `--target ${name}: only http and https URLs`;
          out.targets[name] = { scaling: out.targets[name]?.scaling ?? 'automatic', url };
          break;
        }
        case '--scaling': {
          const v = value();
          const k = v.indexOf('=');
          const kind = v.slice(k + 1) as TargetScaling;
          if (k <= 0 || !SCALINGS.includes(kind)) return `--scaling wants NAME=automatic|basic|manual, got "${v}"`;
          scalings.push([v.slice(0, k), kind]);
          break;
        }
        default:
          return `unknown option ${arg}`;
      }
    } catch (err) {
      return (err as Error).message;
    }
  }
  for (const [name, scaling] of scalings) out.targets[name] = { ...(out.targets[name] ?? {}), scaling };
  return out;
}

export async function serveCommand(args: string[], io: CliIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(SERVE_USAGE);
    return EXIT_OK;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    io.stderr(`pushq serve: ${parsed}\n\n${SERVE_USAGE}`);
    return EXIT_USAGE;
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

async function startAndServe(parsed: ServeArgs, io: CliIo, signals: ServeSignals): Promise<number> {
  let config: QueueFileConfig = defaultQueueFileConfig();
  if (parsed.config !== undefined) {
    const result = await loadQueueConfigFile(parsed.config);
    for (const w of result.warnings) io.stderr(`${formatIssue(w)}\n`);
    if (result.config === null) {
      for (const e of result.errors) io.stderr(`${formatIssue(e)}\n`);
      io.stderr(`pushq serve: ${parsed.config} is invalid; not starting\n`);
      return EXIT_FAILURE;
    }
    config = result.config;
  }

  let log: EventLog;
  let replayed: EngineEvent[] = [];
  let where: string;
  let lock: DataDirLock | undefined;
  if (parsed.memory) {
    log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: PUSHQ_VERSION, seed: 0, clock: 'wall', configHash: configHash(config) });
    where = 'memory (not durable)';
  } else {
    try {
      const data = await openDataDir(parsed.data, configHash(config), { durable: parsed.durable });
      log = data.log;
      lock = data.lock;
      replayed = data.events;
      const over = data.lock.takenOver;
      if (over !== null) {
        const was = over.previous === null ? 'an unreadable lock file' : `the lock of pid ${over.previous.pid} (started ${over.previous.startedAt}), which is no longer running`;
        io.stderr(`pushq serve: took over ${data.lock.path}: it held ${was}; a crashed server's, presumably\n`);
      }
      where = `${data.path}${parsed.durable ? '' : ' (no fsync)'}`;
      if (data.droppedBytes > 0) io.stderr(`pushq serve: dropped a torn tail of ${data.droppedBytes} bytes (never acknowledged)\n`);
    } catch (err) {
      io.stderr(`pushq serve: cannot open the data directory ${parsed.data}: ${(err as Error).message}\n`);
      return EXIT_FAILURE;
    }
  }

  let service: PushqService;
  try {
    service = await PushqService.start({
      config,
      ...(parsed.config === undefined ? {} : { configPath: parsed.config }),
      targets: parsed.targets,
      log,
      ...(lock === undefined ? {} : { dataLock: lock }),
      replayed,
      host: parsed.host,
      port: parsed.port,
      connections: parsed.connections,
    });
  } catch (err) {
    io.stderr(`pushq serve: cannot start: ${(err as Error).message}\n`);
    await log.close().catch(() => {});
    await lock?.release().catch(() => {});
    return EXIT_FAILURE;
  }
  replayed = []; // the events now live in the state; let them go
  await lock?.recordPort(service.port);

  return new Promise<number>((resolve) => {
    const onHup = (): void => {
      service.reload().then(
        (r) => io.stdout(`pushq serve: reload ${r.ok ? 'applied' : 'refused'}\n${r.lines.map((l) => `  ${l}\n`).join('')}`),
        (err: unknown) => io.stderr(`pushq serve: reload failed: ${(err as Error).message}\n`),
      );
    };
    const onStop = (signal: string): void => {
      io.stdout(`pushq serve: ${signal}: stopping (waiting up to ${parsed.drainSeconds} s for attempts in flight)\n`);
      service.close(parsed.drainSeconds * 1000).then(
        (report) => {
          io.stdout(`pushq serve: stopped${report.abandoned > 0 ? ` (${report.abandoned} attempts still in flight will be retried at the next start)` : ''}\n`);
          resolve(EXIT_OK);
        },
        (err: unknown) => {
          io.stderr(`pushq serve: shutdown failed: ${(err as Error).message}\n`);
          resolve(EXIT_FAILURE);
        },
      );
    };
    const targets = Object.entries(parsed.targets).map(([n, t]) => `${n}=${t.url ?? '(no URL)'}${t.scaling === 'automatic' ? '' : ` (${t.scaling})`}`);
    io.stdout(
      `pushq serve: API ${service.url}/v2/projects/-/locations/-/queues · dashboard ${service.url}/ · data ${where}` +
        `${service.replayedEvents > 0 ? ` (replayed ${service.replayedEvents} events, ${service.interruptedAttempts} interrupted attempts to retry)` : ''}` +
        ` · targets ${targets.length > 0 ? targets.join(', ') : 'none (every attempt fails: give --target default=URL)'}` +
        ` · queues ${service.kernel.state.queues.map((q) => q.name).join(', ')}\n`,
    );
    // After the startup line, in the same turn: a stop or reload asked while starting runs now.
    signals.running({ reload: onHup, stop: onStop });
  });
}
