/**
 * The live progress line of `pushq simulate` on a terminal: virtual time reached, events per
 * second, tasks settled, and an estimate of the time left when the run's end is known (`until`).
 * At most 10 updates a second, on stderr, rewritten in place and cleared at the end. Off with
 * --quiet, and when stderr is not a terminal (a pipe, a file, CI): nothing is written at all.
 *
 * Wall time is read here, in the shell, never by the simulation.
 */
import type { Simulation } from '../simulate/simulation.js';
import { TaskState } from '../core/task-machine.js';

const UPDATE_MS = 100;

export interface ProgressSink {
  write(text: string): void;
}

export class ProgressLine {
  private lastDrawMs: number;
  private readonly startedMs: number;
  private drawn = false;

  constructor(
    private readonly sink: ProgressSink,
    /** The run's end in virtual µs, when known. */
    private readonly endUs: number | null,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.startedMs = now();
    this.lastDrawMs = this.startedMs;
  }

  /** Called often (every few thousand timers): draws when 100 ms have passed since the last draw. */
  readonly tick = (sim: Simulation): void => {
    const nowMs = this.now();
    if (nowMs - this.lastDrawMs < UPDATE_MS) return;
    this.lastDrawMs = nowMs;
    this.sink.write(`\r${progressText(sim, (nowMs - this.startedMs) / 1000, this.endUs)}\x1b[K`);
    this.drawn = true;
  };

  /** Clears the line (only if one was drawn). */
  clear(): void {
    if (this.drawn) this.sink.write('\r\x1b[K');
    this.drawn = false;
  }
}

/** The line's text (without control characters). */
function progressText(sim: Simulation, wallSeconds: number, endUs: number | null): string {
  const state = sim.state;
  let settled = 0;
  for (const q of state.queues) {
    const c = q.countByState;
    settled += (c[TaskState.Succeeded] as number) + (c[TaskState.Failed] as number) + (c[TaskState.Deleted] as number);
  }
  const nowUs = sim.kernel.now;
  const rate = wallSeconds > 0 ? state.eventsApplied / wallSeconds : 0;
  let text = `virtual ${clock(nowUs / 1e6)} · ${compact(rate)} events/s · ${settled.toLocaleString('en')} tasks settled`;
  if (endUs !== null && endUs > 0 && nowUs > 0) {
    const left = (wallSeconds * (endUs - nowUs)) / nowUs;
    text += ` · ~${Math.max(0, Math.ceil(left))}s left`;
  }
  return text;
}

/** `1d02h03m`, `2h03m04s`, `3m04s`, `4.5s`. */
function clock(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3_600);
  const m = Math.floor((s % 3_600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (d > 0) return `${d}d${pad(h)}h${pad(m)}m`;
  if (h > 0) return `${h}h${pad(m)}m${pad(s % 60)}s`;
  return `${m}m${pad(s % 60)}s`;
}

function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}
