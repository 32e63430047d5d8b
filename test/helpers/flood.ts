/**
 * Misbehaving clients (test/helpers/connection-flood.mjs) in a process of their own, so their
 * sockets count against its own file-descriptor limit: `new Flood(port, mode, count)`, then
 * `until` the stats it prints say what a test waits for, and `stop`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import { join } from 'node:path';
import { EVENT_BOUND_MS } from './event-bound.js';

export interface FloodStats {
  opened: number;
  failed: number;
  closed: number;
  answered408: number;
  closedAtMs: [number, number] | null;
  errors: Record<string, number>;
}

export class Flood {
  last: FloodStats | null = null;
  private readonly child: ChildProcess;
  private readonly exited: Promise<unknown>;

  constructor(port: number, mode: 'idle' | 'slowloris' | 'slowbody', count: number, everyMs = 1000) {
    this.child = spawn(process.execPath, [join(import.meta.dirname, 'connection-flood.mjs'), String(port), mode, String(count), String(everyMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buf = '';
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      buf += s;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      if (lines.length > 0) this.last = JSON.parse(lines[lines.length - 1]!) as FloodStats;
    });
    this.exited = new Promise((r) => this.child.once('exit', r));
  }

  async until(pred: (s: FloodStats) => boolean, timeoutMs: number, what: string): Promise<FloodStats> {
    const end = Date.now() + timeoutMs;
    while (this.last === null || !pred(this.last)) {
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify(this.last)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.last;
  }

  async stop(): Promise<void> {
    this.child.stdin!.end();
    await this.exited;
  }
}

/**
 * The check every client port passes (connection-limits.ts): 50 idle and 50 slowloris clients
 * (side by side, each mode checked on its own) are each told 408 and closed at the headers timeout
 * (checked every second, not Node's default minute), while `answersMeanwhile` (a request of a
 * polite client) is answered. `who` names the server in the failure messages.
 */
export async function expectSlowClientsClosedAtHeadersTimeout(port: number, headersTimeoutMs: number, who: string, answersMeanwhile: () => Promise<void>): Promise<void> {
  const floods = (['idle', 'slowloris'] as const).map((mode) => ({ mode, flood: new Flood(port, mode, 50, 500) }));
  let results: { mode: string; stats: FloodStats }[];
  try {
    for (const { mode, flood } of floods) await flood.until((s) => s.opened === 50, EVENT_BOUND_MS, `the ${mode} connections to open`);
    await answersMeanwhile();
    results = await Promise.all(floods.map(async ({ mode, flood }) => ({ mode, stats: await flood.until((s) => s.closed === 50, headersTimeoutMs + 15_000, `the ${mode} connections to be closed`) })));
  } finally {
    await Promise.all(floods.map(({ flood }) => flood.stop()));
  }
  for (const { mode, stats } of results) {
    expect(stats.opened, mode).toBe(50);
    expect(stats.closed, `${mode}: every connection closed by ${who}`).toBe(50);
    expect(stats.answered408, `${mode}: each told 408`).toBe(50);
    expect(stats.closedAtMs![0], `${mode}: closed before the headers timeout`).toBeGreaterThanOrEqual(headersTimeoutMs - 100);
    expect(stats.closedAtMs![1], `${mode}: closed late`).toBeLessThan(headersTimeoutMs + 3000);
  }
}
