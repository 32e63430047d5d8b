/**
 * Operator commands at random virtual times: pause, resume and purge a queue; delete or force-run
 * a named task; optionally redeploy a queue configuration (deploy semantics, reference §1.4). Commands may be refused (a task already ended, a run of a task in flight): the
 * scenario runner counts refusals as outcomes, they are part of what is being tested.
 */
import fc from 'fast-check';
import type { QueueFileConfig } from '../../config/types.js';
import { decimalArbitrary } from './decimal.js';
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
  const { tasks } = options;
  return drawnCommandsArbitrary(options, queues.length, tasks.length).map((drawn) => resolveCommands(drawn, queues, tasks));
}

/**
 * A command as drawn before its queue or task is known: `pick` is resolved modulo the queues (or
 * the named tasks, for delete and run). So a scenario draws its commands beside its workloads
 * (scenario.ts), not chained on them, and fast-check shrinks both.
 */
export type DrawnCommand =
  | { kind: 'pause' | 'resume' | 'purge' | 'delete' | 'run'; atSeconds: number; pick: number }
  | { kind: 'reload'; atSeconds: number; config: QueueFileConfig };

/** Commands of queueCommandsArbitrary's options (`queues` and `tasks` aside); delete and run only if `taskPicks` > 0. */
export function drawnCommandsArbitrary(options: Omit<CommandArbitraryOptions, 'queues' | 'tasks'>, queuePicks: number, taskPicks: number): fc.Arbitrary<DrawnCommand[]> {
  const at = decimalArbitrary(0, options.atSecondsMax ?? 60);
  const pick = (picks: number) => fc.integer({ min: 0, max: Math.max(0, picks - 1) });
  const arbitraries: fc.Arbitrary<DrawnCommand>[] = [fc.record({ kind: fc.constantFrom('pause' as const, 'resume' as const, 'resume' as const, 'purge' as const), atSeconds: at, pick: pick(queuePicks) })];
  if (taskPicks > 0) arbitraries.push(fc.record({ kind: fc.constantFrom('delete' as const, 'run' as const), atSeconds: at, pick: pick(taskPicks) }));
  if (options.reloads) arbitraries.push(fc.record({ kind: fc.constant('reload' as const), atSeconds: at, config: options.reloads }));
  return fc.array(fc.oneof(...arbitraries), { maxLength: options.maxCommands ?? 6 });
}

/** The commands of drawn ones over `queues` and `tasks`; a delete or run is left out when no task is named. */
export function resolveCommands(drawn: readonly DrawnCommand[], queues: readonly string[], tasks: readonly { queue: string; name: string }[]): QueueCommand[] {
  const out: QueueCommand[] = [];
  for (const c of drawn) {
    if (c.kind === 'reload') out.push(c);
    else if (c.kind === 'delete' || c.kind === 'run') {
      const task = tasks[c.pick % Math.max(1, tasks.length)];
      if (task !== undefined) out.push({ kind: c.kind, atSeconds: c.atSeconds, queue: task.queue, name: task.name });
    } else out.push({ kind: c.kind, atSeconds: c.atSeconds, queue: queues[c.pick % queues.length]! });
  }
  return out;
}
