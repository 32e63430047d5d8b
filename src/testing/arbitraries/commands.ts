/**
 * Operator commands at random virtual times: pause, resume and purge a queue; delete or force-run
 * a named task; optionally redeploy a queue configuration (deploy semantics, reference §1.4). Commands may be refused (a task already ended, a run of a task in flight): the
 * scenario runner counts refusals as outcomes, they are part of what is being tested.
 */
import fc from 'fast-check';
import type { QueueFileConfig } from '../../config/types.js';
import { checkKitOptions, requireQueues } from './options.js';

export type QueueCommand =
  | { kind: 'pause' | 'resume' | 'purge'; atSeconds: number; queue: string }
  | { kind: 'delete' | 'run'; atSeconds: number; queue: string; name: string }
  | { kind: 'reload'; atSeconds: number; config: QueueFileConfig };

export interface CommandArbitraryOptions {
  /** Queues that pause, resume and purge may name: at least one. */
  queues: readonly string[];
  /** Tasks that delete/run may target; without any, only queue commands are drawn. */
  tasks: readonly { queue: string; name: string }[];
  /** Commands, 0 to 1,000. Default 6. */
  maxCommands?: number;
  /** Latest command time, seconds, 0 to a year. Default 60. */
  atSecondsMax?: number;
  /** Configurations a `reload` command may deploy; without it, no reloads are drawn. */
  reloads?: fc.Arbitrary<QueueFileConfig>;
}

export function queueCommandsArbitrary(options: CommandArbitraryOptions): fc.Arbitrary<QueueCommand[]> {
  checkKitOptions('queueCommandsArbitrary', options);
  const queues = requireQueues('queueCommandsArbitrary', options.queues);
  const at = fc.double({ min: 0, max: options.atSecondsMax ?? 60, noNaN: true });
  const queueCommand = fc.record({ kind: fc.constantFrom('pause' as const, 'resume' as const, 'resume' as const, 'purge' as const), atSeconds: at, queue: fc.constantFrom(...queues) });
  const arbitraries: fc.Arbitrary<QueueCommand>[] = [queueCommand];
  if (options.tasks.length > 0) {
    arbitraries.push(
      fc.record({ kind: fc.constantFrom('delete' as const, 'run' as const), atSeconds: at, task: fc.constantFrom(...options.tasks) }).map(({ kind, atSeconds, task }) => ({ kind, atSeconds, queue: task.queue, name: task.name })),
    );
  }
  if (options.reloads) arbitraries.push(fc.record({ kind: fc.constant('reload' as const), atSeconds: at, config: options.reloads }));
  return fc.array(fc.oneof(...arbitraries), { maxLength: options.maxCommands ?? 6 });
}
