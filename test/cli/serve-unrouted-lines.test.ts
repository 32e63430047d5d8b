// serve's warning of queues whose service no --target gives a URL (server/unrouted-queues.ts
// unroutedQueueLines): what it says a task can do about it must be true for that queue.
import { expect, it } from 'vitest';
import { unroutedQueueLines } from '../../src/server/unrouted-queues.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { attemptTarget } from '../../src/core/attempt.js';
import { fileConfig, pushQueue } from '../helpers/config.js';

it('a queue with a target of its own is not told a task may name another service: its target overrides the task\'s (S37)', () => {
  const s = createSimulation({ config: fileConfig(pushQueue('mail', 5), pushQueue('reports', 5, { target: 'v2.batch' })) });
  const targets = { worker: { url: 'http://127.0.0.1:9/', scaling: 'automatic' as const } };
  // The fact the line rests on: a task of `reports` that names `worker` still goes to v2.batch.
  s.addTask({ queue: 'reports', name: 'r', target: 'worker' });
  const q = s.state.queueByName.get('reports')!;
  expect(attemptTarget(s.state, q, s.state.tasks.base)).toBe('v2.batch');
  const lines = unroutedQueueLines(s.state.queues, targets);
  const reports = lines.find((l) => l.includes('queue reports'));
  expect(reports).toBe(
    'no --target gives a URL for service v2.batch, where queue reports sends its tasks: each attempt of its App Engine tasks fails (no-target-url), ' +
      'whatever service the task names (the queue\'s target overrides it); give --target v2.batch=URL',
  );
  // A queue without one: a task naming a service with a URL does reach it.
  expect(lines.find((l) => l.includes('mail'))).toContain('unless the task names a service that has one; give --target default=URL');
});

it('no target at all: one line naming every running push queue, its own target or not (no service has a URL); a pull queue is not named', () => {
  const s = createSimulation({ config: fileConfig(pushQueue('mail', 5), { ...pushQueue('inbox', 5), mode: 'pull', rate_per_second: null, rate_exact: null, bucket_size: null, max_concurrent_requests: null }, pushQueue('reports', 5, { target: 'v2.batch' })) });
  expect(unroutedQueueLines(s.state.queues, {})).toEqual([
    'no --target is given, so no service has a URL: each attempt of an App Engine task fails (no-target-url) in queues default, mail, reports; ' +
      'give --target default=URL (every service without a URL of its own then uses it)',
  ]);
});
