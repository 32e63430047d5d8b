/**
 * `startPushq`: a real `pushq serve` inside a test process, for users' own test suites. It runs
 * the same service as the command (REST and gRPC APIs, real HTTP dispatch to `targets`), with the
 * log in memory and both ports picked free, so suites may start several side by side. `reset()`
 * between tests is the API's `POST /pushq/reset` (served because the harness starts with
 * `allowReset`): every task and tombstone dropped, every token bucket full, the queues kept.
 *
 *   const pushq = await startPushq({ queueYaml: 'queue:\n- name: emails\n  rate: 5/s\n', targets: { default: worker.url } });
 *   // REST at pushq.url, gRPC at 127.0.0.1:pushq.grpcPort
 *   await pushq.reset();
 *   await pushq.close();
 */
import { defaultQueueFileConfig } from '../config/defaults.js';
import { requireValidConfig } from '../config/issues.js';
import { detectFormat, parseQueueConfig } from '../config/parse.js';
import type { TargetScaling, TargetSettings } from '../core/events.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../log/event-log.js';
import { MemoryEventLog } from '../log/memory-log.js';
import { PushqService, type ShutdownReport } from '../server/service.js';
import { inputName, targetUrlError } from '../server/start-errors.js';
import { configHash } from '../log/config-hash.js';
import { PUSHQ_VERSION } from '../version.js';

export interface StartPushqOptions {
  /** queue.yaml, or queue.xml (text starting with `<`), as text; absent: only the `default` queue (5/s, bucket 5). */
  queueYaml?: string;
  /** App Engine service → base URL of your worker (`--target NAME=URL`), or `{ url, scaling }`. */
  targets?: Record<string, string | { url: string; scaling?: TargetScaling }>;
  /** More hosts HTTP target tasks may reach beyond loopback (`--allow-http-target`). */
  allowHttpTargets?: string[];
  /** Serve `POST /pushq/reset` (default true: `reset()` uses it). */
  allowReset?: boolean;
  /** Every request needs `Authorization: Bearer TOKEN` (`--auth-token`). */
  authToken?: string;
  /** Dispatch as dev_appserver does (`--dev-server`, docs/serve.md): one task at a time, limits and pauses ignored, names kept for ever. */
  devServer?: boolean;
}

/** Why `reset()` did nothing: refused by the server (its API code), or called after `close()`. */
export type PushqResetErrorCode = 'RESET_NOT_ALLOWED' | 'PUSHQ_CLOSED' | (string & {});

export class PushqResetError extends Error {
  override name = 'PushqResetError';
  constructor(
    /** The API's code (`RESET_NOT_ALLOWED`, `SHUTTING_DOWN`, ...), or `PUSHQ_CLOSED`. */
    readonly code: PushqResetErrorCode,
    text: string,
  ) {
    super(`startPushq reset(): ${text} (${code})`);
  }
}

/** The refusal of `POST /pushq/reset`, named in startPushq's words (`allowReset: false`, not `--allow-reset`). */
async function resetRefusal(res: Response): Promise<PushqResetError> {
  const body = await res.text();
  let code = `HTTP_${res.status}`;
  let message = body;
  try {
    const error = (JSON.parse(body) as { error?: { message?: string; details?: { reason?: string }[] } }).error;
    code = error?.details?.find((d) => typeof d.reason === 'string')?.reason ?? code;
    message = error?.message ?? body;
  } catch {
    // Not the API's JSON: the body as it came.
  }
  if (code === 'RESET_NOT_ALLOWED') return new PushqResetError(code, 'this pushq was started with allowReset: false, so it does not serve POST /pushq/reset; start it without that option to reset between tests');
  return new PushqResetError(code, `POST /pushq/reset was refused with ${res.status}: ${message}`);
}

export interface RunningPushq {
  /** The REST API and dashboard, `http://127.0.0.1:PORT`; the queues are under `${url}/v2/projects/P/locations/L/queues`. */
  url: string;
  /** The gRPC API's port on 127.0.0.1 (`google.cloud.tasks.v2.CloudTasks`). */
  grpcPort: number;
  /** `127.0.0.1:PORT` of the gRPC API, as clients' endpoint options take it. */
  grpcEndpoint: string;
  /** The service itself (its kernel, its state), for assertions that need more than the API. */
  service: PushqService;
  /** Drops every task and tombstone, fills every token bucket, keeps the queues (`POST /pushq/reset`); refused: a PushqResetError. */
  reset(): Promise<void>;
  /** Stops it: attempts in flight get `graceMs` (default 1000) to finish. */
  close(graceMs?: number): Promise<ShutdownReport>;
}

/** The name a configuration's issues are reported under, by its text (`<` first: queue.xml), as the reader tells the format. */
function configFileName(text: string): string {
  return detectFormat('', text) === 'xml' ? 'queue.xml' : 'queue.yaml';
}

export async function startPushq(options: StartPushqOptions = {}): Promise<RunningPushq> {
  const config = options.queueYaml === undefined ? defaultQueueFileConfig() : requireValidConfig(parseQueueConfig(options.queueYaml, { file: configFileName(options.queueYaml) }));
  const targets: Record<string, TargetSettings> = {};
  for (const [name, t] of Object.entries(options.targets ?? {})) {
    // Named as you wrote it (`targets.default`, or `targets.default.url`), before anything starts.
    const refused = targetUrlError(`${inputName('targets', 'options', name)}${typeof t === 'string' ? '' : '.url'}`, typeof t === 'string' ? t : t.url);
    if (refused !== null) throw refused;
    targets[name] = typeof t === 'string' ? { scaling: 'automatic', url: t } : { scaling: t.scaling ?? 'automatic', url: t.url };
  }
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: PUSHQ_VERSION, seed: 0, clock: 'wall', configHash: configHash(config) });
  const service = await PushqService.start({
    config,
    targets,
    log,
    host: '127.0.0.1',
    port: 0,
    grpcPort: 0,
    allowReset: options.allowReset ?? true,
    // Refusals name these options (`authToken`), not pushq serve's flags.
    inputNames: 'options',
    ...(options.allowHttpTargets === undefined ? {} : { allowHttpTargets: options.allowHttpTargets }),
    ...(options.authToken === undefined ? {} : { authToken: options.authToken }),
    ...(options.devServer === true ? { devServer: true } : {}),
  });
  const grpcPort = service.grpcPort as number;
  let closed = false;
  return {
    url: service.url,
    grpcPort,
    grpcEndpoint: `127.0.0.1:${grpcPort}`,
    service,
    async reset(): Promise<void> {
      // Said plainly, not as fetch's "TypeError: fetch failed" from a port nobody listens on.
      if (closed) throw new PushqResetError('PUSHQ_CLOSED', 'this pushq was closed; start another with startPushq');
      const res = await fetch(`${service.url}/pushq/reset`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(options.authToken === undefined ? {} : { authorization: `Bearer ${options.authToken}` }) },
        body: '{}',
      });
      if (!res.ok) throw await resetRefusal(res);
    },
    close: (graceMs = 1000) => {
      closed = true;
      return service.close(graceMs);
    },
  };
}
