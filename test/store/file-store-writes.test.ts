/**
 * The file store's whole-file writes (a stream's snapshot, the epochs) go through the one atomic
 * write of src/log/atomic-file.ts: a write that fails leaves no temporary file behind, and an
 * acquire whose epochs could not be written leaves the store as it was, on disk and in memory.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/store/file-store.js';
import { TEST_HEADER as HEADER } from '../log/conformance.js';


let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function freshStore(): FileStore {
  dir = mkdtempSync(join(tmpdir(), 'pushq-file-store-'));
  return new FileStore(dir);
}

describe('the file store’s whole-file writes', () => {
  /** A store with stream q leased to node-a, whose epochs file can no longer be written (its path taken by a directory). */
  async function storeWithUnwritableEpochs(): Promise<{ store: FileStore; epoch: number }> {
    const store = freshStore();
    await store.ensureStream('q', HEADER);
    const lease = (await store.acquire('q', 'node-a', 10_000))!;
    rmSync(join(dir, 'epochs.json'));
    mkdirSync(join(dir, 'epochs.json'));
    return { store, epoch: lease.epoch };
  }

  it('a write that fails leaves no temporary file behind', async () => {
    const { store } = await storeWithUnwritableEpochs();
    const before = readdirSync(dir).sort();
    await expect(store.acquire('q', 'node-a', 10_000)).rejects.toThrow(/EISDIR|directory/);
    expect(readdirSync(dir).sort()).toEqual(before);
    await store.close();
  });

  it('an acquire whose epochs cannot be written moves no epoch on: the holder still writes', async () => {
    const { store, epoch } = await storeWithUnwritableEpochs();
    await expect(store.acquire('q', 'node-a', 10_000)).rejects.toThrow();
    // The failed acquire granted nothing, so the lease it would have replaced is still the stream's.
    await expect(store.append('q', epoch, [])).resolves.toBe(0);
    await store.close();
  });
});
