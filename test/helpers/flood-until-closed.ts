/**
 * Runs test/helpers/connection-flood.mjs (misbehaving clients in a process of their own) against
 * a port until the server has closed every connection, or `untilMs` passes; the last stats it
 * printed. For the ports whose limits a test checks from outside (connection-limits.ts).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface FloodStats {
  opened: number;
  failed: number;
  closed: number;
  answered408: number;
  /** When the first and the last connection were closed, ms after each opened. */
  closedAtMs: [number, number] | null;
}

export async function floodUntilClosed(port: number, mode: 'idle' | 'slowloris', count: number, untilMs: number): Promise<FloodStats> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'connection-flood.mjs'), String(port), mode, String(count), '500'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let last: FloodStats | null = null;
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    buf += s;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    if (lines.length > 0) last = JSON.parse(lines[lines.length - 1]!) as FloodStats;
  });
  const exited = new Promise((r) => child.once('exit', r));
  const end = Date.now() + untilMs;
  while (Date.now() < end && (last as FloodStats | null)?.closed !== count) await new Promise((r) => setTimeout(r, 100));
  child.stdin.end();
  await exited;
  if (last === null) throw new Error(`connection-flood.mjs printed nothing against port ${port}`);
  return last;
}
