/** The throwaway PostgreSQL cluster for tests: src/testing/pg-cluster.ts (there so scripts running dist/ can start one too). */
import { afterAll, beforeAll } from 'vitest';
import { startPgCluster, type PgCluster } from '../../src/testing/pg-cluster.js';

export * from '../../src/testing/pg-cluster.js';

/** A throwaway PostgreSQL for the calling file's tests: started before them, stopped after them. */
export function pgForTheseTests(): { readonly pg: PgCluster } {
  let pg: PgCluster | undefined;
  beforeAll(async () => {
    pg = await startPgCluster();
  }, 120_000);
  afterAll(async () => {
    await pg?.stop();
  });
  return {
    get pg(): PgCluster {
      if (pg === undefined) throw new Error('the test PostgreSQL is not started yet (use it inside a test)');
      return pg;
    },
  };
}
