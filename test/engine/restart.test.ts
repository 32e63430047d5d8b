/**
 * resumeFromLog (src/engine/restart.ts), the one restart path of `pushq serve` and the crash
 * swarm: the logged state is kept, and the configuration is applied only when the file differs
 * (deploy semantics, reference §1.4). So a queue paused through the API stays paused across a
 * restart with the same queue.yaml, and a deploy of another file resumes it. The end-to-end check
 * is test/e2e/serve-restart-settings.test.ts; this one needs no build and no process.
 */
import { describe, expect, it } from 'vitest';
import type { QueueFileConfig } from '../../src/core/queue-config.js';
import { createEngineState, queueStateName } from '../../src/core/state.js';
import { resumeFromLog } from '../../src/engine/restart.js';
import { VirtualDriver } from '../../src/engine/virtual-driver.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { replay } from '../../src/log/replay.js';
import type { EngineEvent } from '../../src/core/events.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

const SETTINGS = { targets: { default: { scaling: 'automatic' as const } }, tombstoneSeconds: 3600 };
const worker = { answer: (_: unknown, out: { status: number; latencyUs: number }) => ((out.status = 200), (out.latencyUs = 1000)) };

/** One incarnation: the state folded from `before`, resumed with `config`; returns its log's events. */
function incarnation(before: EngineEvent[], config: QueueFileConfig, act?: (d: VirtualDriver) => void): { events: EngineEvent[]; driver: VirtualDriver } {
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: 'x' });
  const state = before.length === 0 ? createEngineState() : replay(before);
  const driver = new VirtualDriver({ state, log, worker, now: 1_000_000 * (before.length + 1) });
  resumeFromLog(driver.kernel, config, SETTINGS);
  act?.(driver);
  return { events: [...before, ...log.toArray()], driver };
}

const stateOf = (d: VirtualDriver, queue: string) => queueStateName(d.kernel.state.queues.find((q) => q.config.name === queue)!);

describe('resumeFromLog', () => {
  const file = fileConfig(pushQueue('q', 5));
  it('keeps a queue paused through the API across a restart with the same queue.yaml', () => {
    const first = incarnation([], file, (d) => d.kernel.pauseQueue('q'));
    expect(stateOf(first.driver, 'q')).toBe('paused');
    const second = incarnation(first.events, file);
    expect(stateOf(second.driver, 'q')).toBe('paused');
    // Nothing applied: the restart logged no ConfigApplied.
    expect(second.events.slice(first.events.length).filter((e) => e.type === 'ConfigApplied')).toEqual([]);
  });

  it('keeps it paused when the configuration says resume_paused_queues: true, which the log does not write (true and absent are one)', () => {
    // A configuration given in code may say true (checkQueueFileConfig takes it); the ConfigApplied
    // event leaves it out (configInKeyOrder: only false is written), so the restart must compare the
    // configuration as it would be logged, or the same one reads as another file and is deployed.
    const withKey: QueueFileConfig = { ...file, resume_paused_queues: true };
    const first = incarnation([], withKey, (d) => d.kernel.pauseQueue('q'));
    const second = incarnation(first.events, withKey);
    expect(stateOf(second.driver, 'q')).toBe('paused');
    expect(second.events.slice(first.events.length).filter((e) => e.type === 'ConfigApplied')).toEqual([]);
  });

  it('resumes it when the restart brings another queue.yaml (a deploy)', () => {
    const first = incarnation([], file, (d) => d.kernel.pauseQueue('q'));
    const second = incarnation(first.events, fileConfig(pushQueue('q', 6)));
    expect(stateOf(second.driver, 'q')).toBe('running');
  });
});
