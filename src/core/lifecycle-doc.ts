/**
 * The task lifecycle as a markdown table, generated from the machine (STYLE.md §14: documented
 * from the machine itself, not by hand). docs/architecture.md embeds it between markers, and a
 * test fails when the two differ.
 */
import { TASK_EVENTS, TASK_STATES, TRANSITION_TABLE, FINAL_STATES, type TaskState } from './task-machine.js';

export function lifecycleTable(): string {
  const header = `| state | ${TASK_EVENTS.join(' | ')} |`;
  const rule = `|---|${TASK_EVENTS.map(() => '---').join('|')}|`;
  const rows = TASK_STATES.map((state, s) => {
    const cells = TASK_EVENTS.map((_, e) => {
      const to = TRANSITION_TABLE[s * TASK_EVENTS.length + e] as number;
      return to < 0 ? '·' : `→ ${TASK_STATES[to]}`;
    });
    const name = FINAL_STATES.has(s as TaskState) ? `${state} (final)` : state;
    return `| ${name} | ${cells.join(' | ')} |`;
  });
  return [header, rule, ...rows].join('\n');
}
