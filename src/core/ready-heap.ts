/**
 * A queue's waiting tasks, in (eta, id) order: ids grow with arrival, so equal ETAs dispatch in
 * arrival order and the order never depends on insertion luck.
 *
 * Two sorted structures, and the top is the smaller of their heads:
 *
 *   run   ids appended in increasing (eta, id) order: a FIFO, O(1) push and pop
 *   heap  a binary min-heap for the entries that arrive out of order
 *
 * Most pushes arrive in order (a workload's tasks at one ETA, retries re-entering at the time
 * their backoff ends), so a million-task queue is mostly a FIFO; the heap takes the rest. Each
 * entry's eta is copied beside its id: reading the task table's eta column at random would miss
 * the cache on every comparison.
 *
 * Removal from the middle (delete, purge, force-run) is lazy: the entry stays until it reaches
 * the top, where `dropStale` discards it because the task is no longer pending at that eta.
 * evolve calls `dropStale` after every change, so the top entry is always a live one.
 */
import { TaskState } from './task-machine.js';
import type { TaskTable } from './task-table.js';

export class ReadyHeap {
  // The in-order run: entries [runHead, runTail).
  private runIds: Int32Array = new Int32Array(16);
  private runKeys: Float64Array = new Float64Array(16);
  private runHead = 0;
  private runTail = 0;
  // The heap (parent(i) = (i - 1) >> 1, children 2i + 1 and 2i + 2; [0] is due first).
  private ids: Int32Array = new Int32Array(16);
  private keys: Float64Array = new Float64Array(16);
  private heapSize = 0;

  constructor(private readonly table: TaskTable) {}

  /** Entries, live and stale. */
  get size(): number {
    return this.runTail - this.runHead + this.heapSize;
  }

  /** The task due first, or -1 (after dropStale, a live one). */
  peek(): number {
    const fromRun = this.runHead < this.runTail;
    if (this.heapSize === 0) return fromRun ? (this.runIds[this.runHead] as number) : -1;
    if (!fromRun || this.heapFirst()) return this.ids[0] as number;
    return this.runIds[this.runHead] as number;
  }

  /** Adds task `id`, which must be held (task-table.ts), at its current eta. */
  push(id: number): void {
    const key = this.table.eta[this.table.row(id)] as number;
    const tail = this.runTail;
    if (tail === this.runHead) {
      this.runHead = 0;
      this.runTail = 0;
      this.appendRun(id, key);
      return;
    }
    const lastKey = this.runKeys[tail - 1] as number;
    if (key > lastKey || (key === lastKey && id > (this.runIds[tail - 1] as number))) this.appendRun(id, key);
    else this.heapPush(id, key);
  }

  /** Removes the top entry. */
  pop(): void {
    const fromRun = this.runHead < this.runTail;
    if (this.heapSize > 0 && (!fromRun || this.heapFirst())) this.heapPop();
    else if (fromRun) this.runHead++;
  }

  /** Pops entries from the top while they are stale (task not pending, or pending at another eta). */
  dropStale(): void {
    const table = this.table;
    for (;;) {
      const fromRun = this.runHead < this.runTail;
      let id: number;
      let key: number;
      if (this.heapSize > 0 && (!fromRun || this.heapFirst())) {
        id = this.ids[0] as number;
        key = this.keys[0] as number;
      } else if (fromRun) {
        id = this.runIds[this.runHead] as number;
        key = this.runKeys[this.runHead] as number;
      } else {
        return;
      }
      // A stale entry's task may have ended and given its row to another task: heldRow says so.
      const r = table.heldRow(id);
      if (r >= 0 && table.state[r] === TaskState.Pending && table.eta[r] === key) return;
      this.pop();
    }
  }

  /** Whether the heap's top comes before the run's head (both non-empty). */
  private heapFirst(): boolean {
    const hk = this.keys[0] as number;
    const rk = this.runKeys[this.runHead] as number;
    return hk < rk || (hk === rk && (this.ids[0] as number) < (this.runIds[this.runHead] as number));
  }

  private appendRun(id: number, key: number): void {
    if (this.runTail === this.runIds.length) {
      const live = this.runTail - this.runHead;
      if (live * 2 <= this.runIds.length) {
        // Most of the array is consumed: move the live entries to its start, in place (a new
        // array each time would be garbage at the pace of a queue's traffic).
        this.runIds.copyWithin(0, this.runHead, this.runTail);
        this.runKeys.copyWithin(0, this.runHead, this.runTail);
      } else {
        const ids = new Int32Array(this.runIds.length * 2);
        ids.set(this.runIds.subarray(this.runHead, this.runTail));
        const keys = new Float64Array(this.runKeys.length * 2);
        keys.set(this.runKeys.subarray(this.runHead, this.runTail));
        this.runIds = ids;
        this.runKeys = keys;
      }
      this.runHead = 0;
      this.runTail = live;
    }
    this.runIds[this.runTail] = id;
    this.runKeys[this.runTail] = key;
    this.runTail++;
  }

  private heapPush(id: number, key: number): void {
    if (this.heapSize === this.ids.length) {
      const ids = new Int32Array(this.ids.length * 2);
      ids.set(this.ids);
      this.ids = ids;
      const keys = new Float64Array(this.keys.length * 2);
      keys.set(this.keys);
      this.keys = keys;
    }
    const ids = this.ids;
    const keys = this.keys;
    let pos = this.heapSize++;
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

  private heapPop(): void {
    const n = --this.heapSize;
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
}
