// Which queue, which headers, which request (S18, UNKNOWN_QUEUE, INVALID_QUEUE_MODE, reserved headers).
import { describe, expect, it } from 'vitest';
import type { QueueConfig } from '../../src/config/types.js';
import { RETRY_DEFAULTS } from '../../src/config/types.js';
import type { AttemptRequest } from '../../src/core/attempt.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { fileConfig, pushQueue } from '../helpers/config.js';
import { expectRefused } from '../helpers/refused.js';

const pull: QueueConfig = { name: 'pulled', mode: 'pull', state: 'running', rate_per_second: null, rate_exact: null, bucket_size: null, max_concurrent_requests: null, target: null, retry_parameters: RETRY_DEFAULTS };

describe('adding to a queue', () => {
  it('an unknown queue → UNKNOWN_QUEUE', () => {
    const s = createSimulation({ config: fileConfig(pushQueue('q', 5)) });
    expectRefused(s, () => s.addTask({ queue: 'nope' }), 'UNKNOWN_QUEUE');
  });

  it('a pull queue → INVALID_QUEUE_MODE', () => {
    const s = createSimulation({ config: fileConfig(pushQueue('q', 5), pull) });
    expectRefused(s, () => s.addTask({ queue: 'pulled' }), 'INVALID_QUEUE_MODE');
  });

  it.each(['Host', 'X-AppEngine-TaskName', 'x-appengine-queuename', 'X-Google-Foo'])('the reserved header %s → INVALID_HEADER', (header) => {
    const s = createSimulation({ config: fileConfig(pushQueue('q', 5)) });
    expectRefused(s, () => s.addTask({ queue: 'q', headers: { [header]: 'x' } }), 'INVALID_HEADER');
  });

  it('S18: no url → POST to /_ah/queue/<queue>; no queue → default', () => {
    const seen: AttemptRequest[] = [];
    const s = createSimulation({
      config: fileConfig(pushQueue('mail', 5)),
      worker: ({ request }) => {
        seen.push(request);
        return { status: 200, latencyMs: 1 };
      },
    });
    s.addTask({ queue: 'mail' });
    s.addTask({});
    s.addTask({ queue: 'mail', url: '/custom', method: 'PUT' });
    s.runUntilIdle();
    expect(seen.map((r) => [r.queue, r.method, r.url])).toEqual([
      ['mail', 'POST', '/_ah/queue/mail'],
      ['default', 'POST', '/_ah/queue/default'],
      ['mail', 'PUT', '/custom'],
    ]);
  });
});
