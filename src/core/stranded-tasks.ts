/**
 * Tasks a queue holds that nothing will dispatch, because of its configuration rather than a
 * command: a push queue a file made `mode: pull` (App Engine would let workers lease its tasks;
 * pushq serves no pull API), and a queue the file left out, which a deploy disables with its tasks
 * kept (reference §1.4). A reload says so, and so does a start with such a file: otherwise the
 * tasks wait for ever with no word why ("applied (11 queues)" says nothing of the twelfth).
 */
import { resumable } from './decide.js';
import type { EngineState, QueueRuntime } from './state.js';
import { TaskState } from './task-machine.js';

/** Why `q`'s tasks are not dispatched, of the reasons above; null when none holds. */
export type StrandedBy = 'disabled' | 'pull';

export function strandedBy(q: QueueRuntime): StrandedBy | null {
  if (q.disabled) return 'disabled';
  return q.isPush ? null : 'pull';
}

/** Tasks `q` holds that are not ended: pending, in flight or backing off. */
function unendedTasks(q: QueueRuntime): number {
  const c = q.countByState;
  return (c[TaskState.Pending] as number) + (c[TaskState.Dispatching] as number) + (c[TaskState.Backoff] as number);
}

/** Tasks `q` holds that nothing will dispatch (strandedBy); 0 for a queue that dispatches. */
export function strandedTasks(q: QueueRuntime): number {
  return strandedBy(q) === null ? 0 : unendedTasks(q);
}

/**
 * One line for each queue whose tasks are stranded (POST /pushq/reload's lines and stdout; a
 * start's warnings on stderr). `configFile`: the queue.yaml or queue.xml, as the command was given
 * it; undefined when none was (only the default queue, and a reload reloads nothing).
 */
export function strandedTaskLines(state: EngineState, configFile: string | undefined): string[] {
  const lines: string[] = [];
  for (const q of state.queues) {
    const n = strandedTasks(q);
    if (n === 0) continue;
    const tasks = n === 1 ? 'task' : 'tasks';
    if (strandedBy(q) === 'disabled') {
      lines.push(`queue ${q.name}: ${whyDisabled(state, q, configFile)}, and holds ${n} ${tasks} that pushq will not dispatch; ${[...disabledRemedies(state, q, configFile), 'or purge it'].join(', ')}`);
    } else {
      lines.push(`queue ${q.name}: now mode: pull, and holds ${n} push ${tasks} that pushq will not dispatch (it serves no pull API); set mode: push again to dispatch them, or purge the queue`);
    }
  }
  return lines;
}

/** Whether the configuration in force declares `q` (a disabled queue it declares was kept so by resume_paused_queues: false). */
function declared(state: EngineState, q: QueueRuntime): boolean {
  return state.config?.queues.some((c) => c.name === q.name) === true;
}

function whyDisabled(state: EngineState, q: QueueRuntime, configFile: string | undefined): string {
  if (configFile === undefined) return 'not in the queue configuration (no --config was given, so only the default queue), so disabled (as App Engine disables a queue a deploy leaves out)';
  if (declared(state, q)) return `disabled (left out of an earlier ${configFile}; resume_paused_queues: false keeps it so)`;
  return `not in ${configFile}, so disabled (as App Engine disables a queue a deploy leaves out)`;
}

/**
 * What dispatches a disabled queue's tasks again, only what works for `q`: a resume is offered
 * for a push queue it is not refused for (decide.ts resumable: rate 0 holds it, outside dev-server
 * mode); a resumed pull queue would dispatch nothing either.
 */
function disabledRemedies(state: EngineState, q: QueueRuntime, configFile: string | undefined): string[] {
  const remedies: string[] = [];
  const push = q.isPush ? '' : ' with mode: push';
  if (configFile === undefined) remedies.push(`restart with --config naming a queue file that declares it${push}`);
  else if (!declared(state, q)) remedies.push(`add it to ${configFile} again${push} and reload`);
  if (q.isPush && resumable(state, q)) remedies.push(`resume it (POST /v2/projects/-/locations/-/queues/${q.name}:resume)`);
  else if (declared(state, q) && configFile !== undefined) remedies.push(`give it ${q.isPush ? 'a rate above 0' : 'mode: push'} in ${configFile}, reload, then resume it`);
  return remedies;
}
