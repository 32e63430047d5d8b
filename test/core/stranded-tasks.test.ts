// What a reload and a start say of a queue whose tasks nothing dispatches (core/stranded-tasks.ts):
// every remedy a line offers must be one that works for that queue.
import { describe, expect, it } from 'vitest';
import { createSimulation } from '../../src/simulate/simulation.js';
import { strandedTaskLines } from '../../src/core/stranded-tasks.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

const RESUME = 'resume it (POST /v2/projects/-/locations/-/queues/jobs:resume)';

/** A simulation whose queue `jobs` (configured `jobs`) holds two tasks, then is given `next`. */
function holdingTwo(jobs: ReturnType<typeof pushQueue>, next: ReturnType<typeof fileConfig>) {
  const s = createSimulation({ config: fileConfig(jobs, pushQueue('other', 1)) });
  s.pauseQueue('jobs');
  s.addTasks([{ queue: 'jobs' }, { queue: 'jobs' }]);
  s.kernel.applyConfig(next, s.state.settings);
  return s;
}

describe('a queue disabled with tasks', () => {
  it('left out, with a rate: re-add and reload, resume, or purge; each remedy works', () => {
    const s = holdingTwo(pushQueue('jobs', 5), fileConfig(pushQueue('other', 1)));
    expect(strandedTaskLines(s.state, 'q.yaml')).toEqual([
      'queue jobs: not in q.yaml, so disabled (as App Engine disables a queue a deploy leaves out), and holds 2 tasks that pushq will not dispatch; ' +
        `add it to q.yaml again and reload, ${RESUME}, or purge it`,
    ]);
    s.resumeQueue('jobs');
    expect(strandedTaskLines(s.state, 'q.yaml')).toEqual([]);
  });

  it('left out with rate 0: "resume it" is not offered (it is refused QUEUE_NOT_RESUMABLE)', () => {
    const s = holdingTwo(pushQueue('jobs', 0), fileConfig(pushQueue('other', 1)));
    const [line] = strandedTaskLines(s.state, 'q.yaml');
    expect(() => s.resumeQueue('jobs')).toThrow(/QUEUE_NOT_RESUMABLE|rate 0/);
    expect(line).not.toContain('resume it');
    expect(line).toMatch(/; add it to q\.yaml again and reload, or purge it$/);
  });

  it('in the file again with resume_paused_queues: false (still disabled): not told it is missing from the file, nor to add it', () => {
    const s = holdingTwo(pushQueue('jobs', 5), fileConfig(pushQueue('other', 1)));
    s.kernel.applyConfig({ ...fileConfig(pushQueue('jobs', 5), pushQueue('other', 1)), resume_paused_queues: false }, s.state.settings);
    expect(s.queue('jobs').state).toBe('disabled');
    expect(strandedTaskLines(s.state, 'q.yaml')).toEqual([
      'queue jobs: disabled (left out of an earlier q.yaml; resume_paused_queues: false keeps it so), and holds 2 tasks that pushq will not dispatch; ' +
        `${RESUME}, or purge it`,
    ]);
  });

  it('started with no queue file (only the default queue): not told to add it to a queue.yaml and reload, which reloads nothing', () => {
    const s = holdingTwo(pushQueue('jobs', 5), fileConfig());
    expect(strandedTaskLines(s.state, undefined)).toEqual([
      'queue jobs: not in the queue configuration (no --config was given, so only the default queue), so disabled (as App Engine disables a queue a deploy leaves out), ' +
        `and holds 2 tasks that pushq will not dispatch; restart with --config naming a queue file that declares it, ${RESUME}, or purge it`,
    ]);
  });

  it('left out after a file made it mode: pull: re-added as push, not resumed (a running pull queue dispatches nothing either)', () => {
    const s = holdingTwo(pushQueue('jobs', 5), fileConfig(pushQueue('jobs', 5, { mode: 'pull' }), pushQueue('other', 1)));
    s.kernel.applyConfig(fileConfig(pushQueue('other', 1)), s.state.settings);
    const [line] = strandedTaskLines(s.state, 'q.yaml');
    expect(line).toMatch(/; add it to q\.yaml again with mode: push and reload, or purge it$/);
  });
});
