/**
 * The coordinator of transactional tasks (src/server/appengine/task-transactions.ts) on its own,
 * with times given: at most 5 tasks per transaction, counted over every add, a refused add staging
 * none; a transaction ends once (commit, rollback or expiry 60 s after it began) and is then
 * unknown; at most 1000 open at once, expired ones dropped at the next begin; handles from two
 * coordinators (a restart) do not collide.
 */
import { describe, expect, it } from 'vitest';
import type { TaskSpec } from '../../../src/core/task-spec.js';
import { TaskNameReservedError, TASKS_PER_TRANSACTION_MAX, TRANSACTIONS_OPEN_MAX, TRANSACTION_LIFETIME_US, TaskTransactions, TransactionRefusal } from '../../../src/server/appengine/task-transactions.js';

const APP = 's~app';
/** No task of the engine holds any name. */
const NONE_HELD = (): boolean => false;
const tasks = (n: number, tag = 't'): TaskSpec[] => Array.from({ length: n }, (_, i) => ({ queue: 'default', url: `/${tag}/${i}` }));

function refusal(fn: () => unknown): TransactionRefusal {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TransactionRefusal);
    return err as TransactionRefusal;
  }
  throw new Error('expected a refusal');
}

describe('TaskTransactions', () => {
  it('names each task at staging, txn<handle>-<k>, past a name a task holds; commit gives the tasks under those names', () => {
    const c = new TaskTransactions(64);
    const h = c.begin(APP, 0);
    const taken = new Set(['default/txn64-1']);
    expect(c.stage(h, APP, tasks(2, 'a'), 0, (q, n) => taken.has(`${q}/${n}`))).toEqual(['txn64-0', 'txn64-2']);
    expect(c.stage(h, APP, [{ queue: 'other', url: '/b' }], 0, NONE_HELD)).toEqual(['txn64-2']);
    expect(c.stage(h, APP, tasks(1, 'c'), 0, NONE_HELD)).toEqual(['txn64-3']);
    expect(c.commit(h, APP, 0).map((t) => `${t.queue}/${t.name}`)).toEqual(['default/txn64-0', 'default/txn64-2', 'other/txn64-2', 'default/txn64-3']);
  });

  it('a chosen name is reserved in its queue while the transaction is open; a commit, rollback, expiry or clear frees it', () => {
    const c = new TaskTransactions(8);
    const h = c.begin(APP, 0);
    c.stage(h, APP, tasks(1), 0, NONE_HELD);
    expect(c.reservedBy('default', 'txn8-0', 1)).toBe(h);
    expect(c.reservedBy('other', 'txn8-0', 1)).toBeNull();
    c.commit(h, APP, 1);
    expect(c.reservedBy('default', 'txn8-0', 1)).toBeNull();
    const r = c.begin(APP, 0);
    c.stage(r, APP, tasks(1), 0, NONE_HELD);
    c.rollback(r, APP, 0);
    expect(c.reservedBy('default', 'txn9-0', 0)).toBeNull();
    const old = c.begin(APP, 0);
    c.stage(old, APP, tasks(1), 0, NONE_HELD);
    expect(c.reservedBy('default', 'txn10-0', TRANSACTION_LIFETIME_US)).toBe(old);
    expect(c.reservedBy('default', 'txn10-0', TRANSACTION_LIFETIME_US + 1)).toBeNull();
    const cleared = c.begin(APP, 0);
    c.stage(cleared, APP, tasks(1), 0, NONE_HELD);
    c.clear();
    expect(c.reservedBy('default', 'txn11-0', 0)).toBeNull();
    expect(new TaskNameReservedError('txn8-0', 'default', 8).message).toBe('task "txn8-0" already exists in queue "default": the name was chosen for a task of open transaction 8, added when it commits');
  });

  it('commit gives every staged task, in order, once; the transaction is then unknown', () => {
    const c = new TaskTransactions(100);
    const h = c.begin(APP, 0);
    expect(h).toBe(100);
    c.stage(h, APP, tasks(2, 'a'), 1, NONE_HELD);
    c.stage(h, APP, tasks(1, 'b'), 2, NONE_HELD);
    expect(c.commit(h, APP, 3).map((t) => t.url)).toEqual(['/a/0', '/a/1', '/b/0']);
    expect(c.openCount).toBe(0);
    const again = refusal(() => c.commit(h, APP, 4));
    expect(again.code).toBe('BAD_REQUEST');
    expect(again.message).toMatch(/cannot commit transaction 100 of app "s~app": pushq has no such open transaction \(.*already committed or rolled back/);
    expect(refusal(() => c.stage(h, APP, tasks(1), 4, NONE_HELD)).message).toMatch(/cannot add tasks to transaction 100/);
  });

  it('at most 5 tasks per transaction, counted over every add; the add that would pass it stages none', () => {
    const c = new TaskTransactions(1);
    const six = c.begin(APP, 0);
    const r = refusal(() => c.stage(six, APP, tasks(TASKS_PER_TRANSACTION_MAX + 1), 0, NONE_HELD));
    expect(r.code).toBe('BAD_REQUEST');
    expect(r.message).toMatch(/6 more would make 6 in transaction 1, and one transaction adds at most 5; none of these was added/);
    expect(c.commit(six, APP, 0)).toEqual([]);

    const split = c.begin(APP, 0);
    c.stage(split, APP, tasks(3, 'first'), 0, NONE_HELD);
    expect(refusal(() => c.stage(split, APP, tasks(3, 'second'), 0, NONE_HELD)).message).toMatch(/3 more would make 6 .*\(it holds 3 already\)/);
    c.stage(split, APP, tasks(2, 'fits'), 0, NONE_HELD);
    expect(c.commit(split, APP, 0).map((t) => t.url)).toEqual(['/first/0', '/first/1', '/first/2', '/fits/0', '/fits/1']);
  });

  it('rollback drops the tasks and ends the transaction; a second rollback is refused', () => {
    const c = new TaskTransactions(1);
    const h = c.begin(APP, 0);
    c.stage(h, APP, tasks(2), 0, NONE_HELD);
    c.rollback(h, APP, 0);
    expect(c.openCount).toBe(0);
    expect(refusal(() => c.rollback(h, APP, 0)).message).toMatch(/cannot roll back transaction 1/);
    expect(refusal(() => c.commit(h, APP, 0)).code).toBe('BAD_REQUEST');
  });

  it('another app, or a handle never given, names no transaction', () => {
    const c = new TaskTransactions(1);
    const h = c.begin(APP, 0);
    expect(refusal(() => c.commit(h, 's~other', 0)).message).toMatch(/of app "s~other": pushq has no such open transaction/);
    expect(refusal(() => c.commit(h + 1, APP, 0)).code).toBe('BAD_REQUEST');
    expect(c.commit(h, APP, 0)).toEqual([]);
  });

  it('a transaction lives 60 s from its begin (the service\'s clock): at 60 s it commits, after it it has expired', () => {
    const c = new TaskTransactions(1);
    const onTime = c.begin(APP, 1_000);
    c.stage(onTime, APP, tasks(1), 1_000 + TRANSACTION_LIFETIME_US, NONE_HELD);
    expect(c.commit(onTime, APP, 1_000 + TRANSACTION_LIFETIME_US)).toHaveLength(1);
    const late = c.begin(APP, 1_000);
    c.stage(late, APP, tasks(1), 2_000, NONE_HELD);
    const r = refusal(() => c.commit(late, APP, 1_001 + TRANSACTION_LIFETIME_US));
    expect(r.message).toMatch(/cannot commit transaction 2: it expired, 60 s after it began .*its tasks were not added/);
    expect(c.openCount).toBe(0);
    expect(refusal(() => c.commit(late, APP, 1_001 + TRANSACTION_LIFETIME_US)).message).toMatch(/no such open transaction/);
  });

  it('at most 1000 open at once: the next begin is refused until one ends or expires (expired ones are dropped at a begin)', () => {
    const c = new TaskTransactions(1);
    const handles = Array.from({ length: TRANSACTIONS_OPEN_MAX }, (_, i) => c.begin(APP, i));
    expect(new Set(handles).size).toBe(TRANSACTIONS_OPEN_MAX);
    const full = refusal(() => c.begin(APP, TRANSACTIONS_OPEN_MAX));
    expect(full.code).toBe('TOO_MANY_OPEN');
    expect(full.message).toMatch(/1000 transactions are open, the most pushq keeps at once \(1000\)/);
    c.rollback(handles[500]!, APP, TRANSACTIONS_OPEN_MAX);
    c.begin(APP, TRANSACTIONS_OPEN_MAX);
    expect(() => c.begin(APP, TRANSACTIONS_OPEN_MAX)).toThrow(TransactionRefusal);
    // 60 s after the first ten began (at 0..9 µs), they have expired: a begin drops them.
    c.begin(APP, 9 + TRANSACTION_LIFETIME_US + 1);
    expect(c.openCount).toBe(TRANSACTIONS_OPEN_MAX - 9);
    expect(refusal(() => c.commit(handles[0]!, APP, 9 + TRANSACTION_LIFETIME_US + 1)).message).toMatch(/no such open transaction/);
    expect(c.commit(handles[10]!, APP, 10 + TRANSACTION_LIFETIME_US)).toEqual([]);
  });

  it('clear drops every open transaction (a reset)', () => {
    const c = new TaskTransactions(1);
    const h = c.begin(APP, 0);
    c.clear();
    expect(refusal(() => c.commit(h, APP, 0)).code).toBe('BAD_REQUEST');
  });

  it('two coordinators (a restart) start their handles at different random bases, exact as numbers', () => {
    const a = new TaskTransactions().begin(APP, 0);
    const b = new TaskTransactions().begin(APP, 0);
    expect(a).not.toBe(b);
    for (const h of [a, b]) expect(Number.isSafeInteger(h) && h > 0).toBe(true);
  });
});
