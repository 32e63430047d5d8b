/**
 * A queue's waiting tasks, ordered by (eta, id): a binary min-heap of task ids with each entry's
 * eta copied beside it (a million-task table is megabytes; reading its eta column at random would
 * miss the cache on every comparison). Ids grow with arrival, so equal ETAs dispatch in arrival
 * order and the order never depends on insertion luck.
 *
 * Removal from the middle (delete, purge, force-run) is lazy: the entry stays until it reaches
 * the top, where `dropStale` discards it because the task is no longer pending at that eta.
 * evolve calls `dropStale` after every change, so the top entry is always a live one.
 *
 *            [0]              parent(i) = (i - 1) >> 1
 *          /     \            children  = 2i + 1, 2i + 2
 *        [1]     [2]          [0] is the task due first
 */
import { TaskState } from './task-machine.js';
import type { TaskTable } from './task-table.js';

export class ReadyHeap {
  private ids: Int32Array = new Int32Array(16);
  private keys: Float64Array = new Float64Array(16);
  /** Entries, live and stale. */
  size = 0;

  constructor(private readonly table: TaskTable) {}

  /** The live task due first, or -1. */
  peek(): number {
    return this.size === 0 ? -1 : (this.ids[0] as number);
  }

  push(id: number): void {
    if (this.size === this.ids.length) this.grow();
    const key = this.table.eta[id] as number;
    const ids = this.ids;
    const keys = this.keys;
    let pos = this.size++;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      const pk = keys[parent] as number;
      if (pk < key || (pk === key && (ids[parent] as number) < id)) break;
      ids[pos] = ids[parent] as number;
      keys[pos] = pk;
      pos = parent;
    }
    ids[pos] = id;
    keys[pos] = key;
  }

  /** Removes the top entry. */
  pop(): void {
    const n = --this.size;
    if (n === 0) return;
    const ids = this.ids;
    const keys = this.keys;
    const id = ids[n] as number;
    const key = keys[n] as number;
    let pos = 0;
    for (;;) {
      let child = 2 * pos + 1;
      if (child >= n) break;
      let ck = keys[child] as number;
      const right = child + 1;
      if (right < n) {
        const rk = keys[right] as number;
        if (rk < ck || (rk === ck && (ids[right] as number) < (ids[child] as number))) {
          child = right;
          ck = rk;
        }
      }
      if (key < ck || (key === ck && id < (ids[child] as number))) break;
      ids[pos] = ids[child] as number;
      keys[pos] = ck;
      pos = child;
    }
    ids[pos] = id;
    keys[pos] = key;
  }

  /** Pops entries from the top while they are stale (task not pending, or pending at another eta). */
  dropStale(): void {
    const table = this.table;
    while (this.size > 0) {
      const id = this.ids[0] as number;
      if (table.state[id] === TaskState.Pending && table.eta[id] === this.keys[0]) return;
      this.pop();
    }
  }

  private grow(): void {
    const ids = new Int32Array(this.ids.length * 2);
    ids.set(this.ids);
    this.ids = ids;
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
  }
}
