// A task's own dispatch deadline (Cloud Tasks `dispatch_deadline`, Java `TaskOptions.dispatchDeadline`):
// checked at add time (Java [15 s, 24 h], reference §3.2; Cloud Tasks [15 s, 24 h 15 s], reference §4),
// carried in TaskAdded, and used as the attempt's handler deadline instead of the scaling one (S34),
// which still caps it.
import { describe, expect, it } from 'vitest';
import { checkTaskSpec, TASK_LIMITS } from '../../src/core/task-spec.js';
import { PushqError } from '../../src/core/errors.js';
import { createSimulation } from '../../src/simulate/simulation.js';
import { attemptDeadline, DEADLINE_AUTOMATIC_US, DEADLINE_BASIC_MANUAL_US } from '../../src/core/handler-deadline.js';
import { fileConfig, pushQueue } from '../helpers/config.js';
import { expectRefused } from '../helpers/refused.js';

const S = 1_000_000;
const H = 3600 * S;

function refusal(spec: Parameters<typeof checkTaskSpec>[0], flavour?: 'taskqueue' | 'cloud-tasks'): PushqError {
  try {
    checkTaskSpec(spec, 0, flavour, 3);
  } catch (err) {
    expect(err).toBeInstanceOf(PushqError);
    return err as PushqError;
  }
  throw new Error('accepted');
}

describe('checkTaskSpec: dispatchDeadlineUs', () => {
  it('accepts the bounds: 15 s and 24 h (Task Queue / Java), 24 h 15 s (Cloud Tasks)', () => {
    expect(checkTaskSpec({ dispatchDeadlineUs: 15 * S }, 0).options?.dispatchDeadlineUs).toBe(15 * S);
    expect(checkTaskSpec({ dispatchDeadlineUs: 24 * H }, 0).options?.dispatchDeadlineUs).toBe(24 * H);
    expect(checkTaskSpec({ dispatchDeadlineUs: 24 * H + 15 * S }, 0, 'cloud-tasks').options?.dispatchDeadlineUs).toBe(24 * H + 15 * S);
    expect(checkTaskSpec({}, 0).options?.dispatchDeadlineUs).toBeUndefined();
    expect(TASK_LIMITS.dispatch_deadline_us_min).toBe(15 * S);
  });

  it.each([
    ['below 15 s', 15 * S - 1, 'taskqueue'],
    ['zero', 0, 'taskqueue'],
    ['negative', -20 * S, 'taskqueue'],
    ['above 24 h (Java)', 24 * H + 1, 'taskqueue'],
    ['above 24 h 15 s (Cloud Tasks)', 24 * H + 15 * S + 1, 'cloud-tasks'],
    ['not whole microseconds', 15.5 * S + 0.5, 'taskqueue'],
    ['NaN', NaN, 'taskqueue'],
    ['Infinity', Infinity, 'cloud-tasks'],
  ] as const)('refuses %s with INVALID_DISPATCH_DEADLINE naming the field and the task', (_, us, flavour) => {
    const err = refusal({ dispatchDeadlineUs: us }, flavour);
    expect(err.code).toBe('INVALID_DISPATCH_DEADLINE');
    expect(err.details).toEqual({ field: 'dispatchDeadline', index: 3 });
    expect(err.message).toMatch(/^dispatchDeadline: /);
  });

  it('a string is refused too (a JavaScript caller without types)', () => {
    expect(refusal({ dispatchDeadlineUs: '30000000' as unknown as number }).code).toBe('INVALID_DISPATCH_DEADLINE');
  });
});

describe('attemptDeadline', () => {
  const settings = { targets: { batch: { scaling: 'basic' as const } }, tombstoneSeconds: 0 };
  it('is the scaling deadline without a task deadline', () => {
    expect(attemptDeadline(settings, 'default', undefined)).toBe(DEADLINE_AUTOMATIC_US);
    expect(attemptDeadline(settings, 'batch', undefined)).toBe(DEADLINE_BASIC_MANUAL_US);
  });
  it("an undeclared service's is default's: its attempts go to default's URL, so they get default's deadline too", () => {
    const basicDefault = { targets: { default: { scaling: 'basic' as const, url: 'http://127.0.0.1:9/' }, batch: { scaling: 'automatic' as const } }, tombstoneSeconds: 0 };
    expect(attemptDeadline(basicDefault, 'reports', undefined)).toBe(DEADLINE_BASIC_MANUAL_US);
    expect(attemptDeadline(basicDefault, 'v2.reports', undefined)).toBe(DEADLINE_BASIC_MANUAL_US);
    // A declared service keeps its own, even with no URL of its own (its attempts then go to default's URL).
    expect(attemptDeadline(basicDefault, 'batch', undefined)).toBe(DEADLINE_AUTOMATIC_US);
    expect(attemptDeadline(settings, 'reports', undefined)).toBe(DEADLINE_AUTOMATIC_US);
  });
  it("is the task's own, capped by the service's timeout", () => {
    expect(attemptDeadline(settings, 'default', 15 * S)).toBe(15 * S);
    expect(attemptDeadline(settings, 'default', 30 * 60 * S)).toBe(DEADLINE_AUTOMATIC_US);
    expect(attemptDeadline(settings, 'v1.batch', 2 * H)).toBe(2 * H);
    expect(attemptDeadline(settings, 'batch', 24 * H + 15 * S)).toBe(DEADLINE_BASIC_MANUAL_US);
  });
});

describe('a task with its own dispatch deadline, in the simulation', () => {
  function run(latencyMs: number) {
    const deadlines = new Map<string, number>();
    const sim = createSimulation({
      config: fileConfig(pushQueue('q', 5, { retry: { task_retry_limit: 1, min_backoff_seconds: 1 } })),
      targets: { batch: { scaling: 'basic' } },
      worker: ({ request }) => {
        deadlines.set(request.name, request.deadlineUs);
        return { status: 200, latencyMs };
      },
    });
    sim.addTask({ queue: 'q', name: 'own', dispatchDeadlineSeconds: 15 });
    sim.addTask({ queue: 'q', name: 'plain' });
    sim.addTask({ queue: 'q', name: 'long-on-automatic', dispatchDeadlineSeconds: 1800 });
    sim.addTask({ queue: 'q', name: 'long-on-basic', target: 'batch', dispatchDeadlineSeconds: 2 * 3600 });
    sim.runUntilIdle();
    return { sim, deadlines };
  }

  it('a 20 s worker fails every attempt of a task with a 15 s deadline, at 15 s; tasks without one succeed', () => {
    const { sim, deadlines } = run(20_000);
    const own = sim.events.find((e) => e.type === 'TaskAdded' && e.options?.name === 'own')!;
    expect(own).toMatchObject({ options: { dispatchDeadlineUs: 15 * S } });
    const ownId = (own as { id: number }).id;
    const ends = sim.events.filter((e) => (e.type === 'AttemptFailed' || e.type === 'TaskGaveUp' || e.type === 'AttemptSucceeded') && e.id === ownId);
    expect(ends.map((e) => e.type)).toEqual(['AttemptFailed', 'TaskGaveUp']);
    for (const e of ends) expect(e).toMatchObject({ reason: 'deadline', status: null, latencyUs: 15 * S });
    expect(sim.task('q', 'plain').state).toBe('succeeded');
    expect(sim.task('q', 'long-on-automatic').state).toBe('succeeded');
    expect(sim.task('q', 'long-on-basic').state).toBe('succeeded');
    expect(deadlines.get('own')).toBe(15 * S);
    expect(deadlines.get('plain')).toBe(DEADLINE_AUTOMATIC_US);
    expect(deadlines.get('long-on-automatic')).toBe(DEADLINE_AUTOMATIC_US); // capped: automatic scaling's 10 min
    expect(deadlines.get('long-on-basic')).toBe(2 * H);
  });

  it('a 10 s worker is within the 15 s deadline', () => {
    const { sim } = run(10_000);
    expect(sim.task('q', 'own').state).toBe('succeeded');
  });

  it('the real dispatcher path reads the same deadline off the state (Kernel.attemptRequest)', () => {
    const { sim } = run(10_000);
    const idOf = (name: string) => (sim.events.find((e) => e.type === 'TaskAdded' && e.options?.name === name) as { id: number }).id;
    expect(sim.kernel.attemptRequest({ type: 'AttemptDispatched', t: 0, id: idOf('own') }).deadlineUs).toBe(15 * S);
    expect(sim.kernel.attemptRequest({ type: 'AttemptDispatched', t: 0, id: idOf('plain') }).deadlineUs).toBe(DEADLINE_AUTOMATIC_US);
  });

  it('refuses a deadline out of range and changes nothing', () => {
    const sim = createSimulation({ config: fileConfig(pushQueue('q', 5)) });
    sim.addTask({ queue: 'q' });
    expectRefused(sim, () => sim.addTask({ queue: 'q', dispatchDeadlineSeconds: 14.9 }), 'INVALID_DISPATCH_DEADLINE');
    expectRefused(sim, () => sim.addTask({ queue: 'q', dispatchDeadlineSeconds: 24 * 3600 + 15 }), 'INVALID_DISPATCH_DEADLINE'); // Java's 24 h
  });
});
