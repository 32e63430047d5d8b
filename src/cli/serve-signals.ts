/**
 * The signals of `pushq serve`, from the first line of the command to its end, so that none of
 * them ever meets Node's default action (exit by signal: no sync, the data-dir lock left behind).
 *
 * Phases and what each signal does in them:
 *
 *   | phase    | SIGHUP                                   | SIGINT / SIGTERM                          |
 *   |----------|------------------------------------------|-------------------------------------------|
 *   | starting | reload once started (the file may have   | stop once started (or when the start      |
 *   |          | changed since it was read)               | fails, which ends the command anyway)     |
 *   | running  | reload                                   | stop: drain, sync, release, exit 0        |
 *   | stopping | ignored, said on stderr                  | ignored: the drain is bounded already     |
 *
 * Invariant: handlers are on the process from construction to `dispose`, and each phase has
 * exactly one meaning for each signal.
 */
import type { ReloadOutcome } from '../server/operations.js';
import type { CliIo } from './io.js';

export type ServePhase = 'starting' | 'running' | 'stopping';
export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface SignalTarget {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
}

export interface RunningHandlers {
  reload: () => void;
  stop: (signal: StopSignal) => void;
}

export class ServeSignals {
  private phaseNow: ServePhase = 'starting';
  private reloadAsked = false;
  private stopAsked: StopSignal | null = null;
  private handlers: RunningHandlers | null = null;

  constructor(
    private readonly io: CliIo,
    private readonly target: SignalTarget = process,
  ) {
    target.on('SIGHUP', this.onHup);
    target.on('SIGINT', this.onInt);
    target.on('SIGTERM', this.onTerm);
  }

  get phase(): ServePhase {
    return this.phaseNow;
  }

  /** The service is up: what was asked while starting happens now (a stop before a reload). */
  running(handlers: RunningHandlers): void {
    this.handlers = handlers;
    this.phaseNow = 'running';
    if (this.stopAsked !== null) this.stop(this.stopAsked);
    else if (this.reloadAsked) handlers.reload();
    this.reloadAsked = false;
  }

  dispose(): void {
    this.target.off('SIGHUP', this.onHup);
    this.target.off('SIGINT', this.onInt);
    this.target.off('SIGTERM', this.onTerm);
  }

  private stop(signal: StopSignal): void {
    this.phaseNow = 'stopping';
    this.handlers?.stop(signal);
  }

  private readonly onHup = (): void => {
    if (this.phaseNow === 'running') this.handlers?.reload();
    else if (this.phaseNow === 'starting') {
      this.reloadAsked = true;
      this.io.stderr('pushq serve: SIGHUP while starting: queue.yaml will be reloaded once started\n');
    } else this.io.stderr('pushq serve: SIGHUP while stopping: no reload\n');
  };

  private onStopSignal(signal: StopSignal): void {
    if (this.phaseNow === 'running') this.stop(signal);
    else if (this.phaseNow === 'starting') {
      this.stopAsked ??= signal;
      this.io.stderr(`pushq serve: ${signal} while starting: stopping once started\n`);
    } else this.io.stderr(`pushq serve: ${signal} while stopping: already stopping\n`);
  }

  private readonly onInt = (): void => this.onStopSignal('SIGINT');
  private readonly onTerm = (): void => this.onStopSignal('SIGTERM');
}

/**
 * Says how a reload went: applied (with its summary) on stdout; refused (each issue with its file,
 * line and column) or failed on stderr, as serve's other diagnostics. One node and a cluster node alike.
 */
export function reportReload(io: CliIo, reload: Promise<ReloadOutcome>): void {
  reload.then(
    (r) => (r.ok ? io.stdout : io.stderr)(`pushq serve: reload ${r.ok ? 'applied' : 'refused'}\n${r.lines.map((l) => `  ${l}\n`).join('')}`),
    (err: unknown) => io.stderr(`pushq serve: reload failed: ${(err as Error).message}\n`),
  );
}

/**
 * A reload asked through `POST /pushq/reload`: applied, it is said on stdout as a SIGHUP's is (the
 * output must not tell of queues the service no longer runs), naming the endpoint; refused or
 * failed, it is the caller's answer only (docs/serve.md, "Reload and signals").
 */
export function reportApiReload(io: CliIo, reload: Promise<ReloadOutcome>): void {
  reload.then(
    (r) => {
      if (r.ok) io.stdout(`pushq serve: reload applied (POST /pushq/reload)\n${r.lines.map((l) => `  ${l}\n`).join('')}`);
    },
    () => undefined, // the endpoint answers it
  );
}
