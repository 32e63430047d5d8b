/** What each signal means in each phase of `pushq serve` (src/cli/serve-signals.ts). */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ServeSignals, type StopSignal } from '../../src/cli/serve-signals.js';

function setup() {
  const proc = new EventEmitter();
  const err: string[] = [];
  const calls: string[] = [];
  const signals = new ServeSignals({ stdout: () => {}, stderr: (s: string) => void err.push(s) }, proc as unknown as NodeJS.Process);
  const handlers = { reload: () => void calls.push('reload'), stop: (s: StopSignal) => void calls.push(`stop ${s}`) };
  const send = (signal: NodeJS.Signals) => proc.emit(signal);
  return { proc, err, calls, signals, handlers, send };
}

describe('ServeSignals', () => {
  it('handles every signal from construction to dispose, and none after', () => {
    const { proc, signals } = setup();
    for (const s of ['SIGHUP', 'SIGINT', 'SIGTERM']) expect(proc.listenerCount(s)).toBe(1);
    signals.dispose();
    for (const s of ['SIGHUP', 'SIGINT', 'SIGTERM']) expect(proc.listenerCount(s)).toBe(0);
  });

  it('while starting: remembers a reload and a stop, and runs the stop (not the reload) once running', () => {
    const { err, calls, signals, handlers, send } = setup();
    send('SIGHUP');
    send('SIGTERM');
    send('SIGINT');
    expect(calls).toEqual([]);
    expect(signals.phase).toBe('starting');
    expect(err.join('')).toMatch(/SIGHUP while starting.*\n.*SIGTERM while starting: stopping once started/);
    signals.running(handlers);
    expect(calls).toEqual(['stop SIGTERM']);
    expect(signals.phase).toBe('stopping');
  });

  it('while starting: a reload alone runs once running', () => {
    const { calls, signals, handlers, send } = setup();
    send('SIGHUP');
    send('SIGHUP');
    signals.running(handlers);
    expect(calls).toEqual(['reload']);
    expect(signals.phase).toBe('running');
  });

  it('running: SIGHUP reloads each time; the first SIGINT or SIGTERM stops, later signals change nothing', () => {
    const { err, calls, signals, handlers, send } = setup();
    signals.running(handlers);
    send('SIGHUP');
    send('SIGHUP');
    send('SIGINT');
    send('SIGHUP');
    send('SIGTERM');
    send('SIGINT');
    expect(calls).toEqual(['reload', 'reload', 'stop SIGINT']);
    expect(err).toEqual(['pushq serve: SIGHUP while stopping: no reload\n', 'pushq serve: SIGTERM while stopping: already stopping\n', 'pushq serve: SIGINT while stopping: already stopping\n']);
  });
});
