/**
 * What the `pushq serve --store` tests share: a throwaway PostgreSQL, a scratch directory holding
 * their queue.yaml, and the workers and serve processes they start, all stopped after the file's
 * tests; and a CreateTask on the queue `work` of that file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { count } from '../cluster/cluster-harness.js';
import { startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { killEveryStarted, type ServeProcess } from '../helpers/serve-process.js';
import type { Worker } from '../helpers/worker.js';

export interface ServeStoreFixture {
  readonly pg: PgCluster;
  /** The scratch directory; its queue.yaml is the one given. */
  readonly dir: string;
  readonly queueYamlPath: string;
  /** Started by the tests, stopped after them. */
  readonly workers: Worker[];
  readonly children: ServeProcess[];
}

export function serveStoreFixture(prefix: string, queueYaml: string): ServeStoreFixture {
  let pg: PgCluster | undefined;
  let dir: string | undefined;
  const workers: Worker[] = [];
  const children: ServeProcess[] = [];
  beforeAll(async () => {
    pg = await startPgCluster();
    dir = await mkdtemp(join(tmpdir(), prefix));
    await writeFile(join(dir, 'queue.yaml'), queueYaml);
  }, 120_000);
  afterAll(async () => {
    // Every process started, not only those in `children` (one still starting when a test failed is in no list), stopped ones too.
    await killEveryStarted();
    for (const w of workers) await w.close();
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    get pg(): PgCluster {
      return pg as PgCluster;
    },
    get dir(): string {
      return dir as string;
    },
    get queueYamlPath(): string {
      return join(dir as string, 'queue.yaml');
    },
    workers,
    children,
  };
}

/** A CreateTask of `name` on queue `work` through the REST API at `api`; its HTTP status. */
export async function createWork(api: string, name: string): Promise<number> {
  const res = await fetch(`${api}/work/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ task: { name: `projects/p/locations/l/queues/work/tasks/${name}`, appEngineHttpRequest: { relativeUri: `/k/${name}` } } }),
  });
  await res.arrayBuffer();
  return res.status;
}

/**
 * What `startServe` is given for a node a test kills -9 (or stops) and replaces: its lease on the
 * store lasts 5 s (PUSHQ_STORE_LEASE_MS), not 15 s, so the wait for it to run out is a third as
 * long. Renewed every 1.7 s and valid 4.25 s after a renewal was sent: a renewal late by a loaded
 * machine does not lose it, but one held up by a busy node at load 19 (fifteen clients, as
 * crash-workload.ts runs) did; such a node keeps the default lease.
 */
export const SHORT_LEASE = { env: { PUSHQ_STORE_LEASE_MS: '5000' } };

/**
 * Resolves once the single node's lease on the store at `url` has run out (a killed node's runs on
 * unrenewed, up to 15 s, SHORT_LEASE's 5 s, and a start before then is refused: docs/cluster.md).
 */
export async function nodeLeaseRunOut(url: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((await count(url, `SELECT count(*) AS n FROM pushq_streams WHERE stream = '~node' AND owner IS NOT NULL AND lease_expires_at > now()`)) > 0) {
    if (Date.now() > until) throw new Error(`the node's lease did not run out in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
