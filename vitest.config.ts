import { relative } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The slowest test files, slowest first (per-file durations of a clean-clone run on the 2-core CI
 * machine: 51 s down to 16 s; the next ones take 16 s or less).
 * Two workers share the files; a long file that starts last leaves one worker idle while the other
 * finishes it. Vitest orders files by the durations of the previous run it cached in node_modules/.vite,
 * which a clean clone (CI) does not have: it falls back to the largest file first, and some of the
 * slowest files are short ones that run commands (test/docs/experiments-doc.test.ts, 56 lines, ran
 * among the last). Without that cache these start first, in this order, then the rest as Vitest
 * orders them. A file missing here is only started later; a file that no longer exists is ignored.
 */
const SLOWEST_FIRST = [
  'test/swarm/swarm.test.ts',
  'test/server/api-connections.test.ts',
  'test/e2e/dashboard-replay.test.ts',
  'test/cli/experiments.test.ts',
  'test/cluster/failover-kill.test.ts',
  'test/store/serve-postgres.test.ts',
  'test/swarm/pg-swarm.test.ts',
  'test/server/worker-never-answers.test.ts',
  'test/simulate/report-browser.test.ts',
  'test/server/worker-outage-flood.test.ts',
  'test/docs/experiments-doc.test.ts',
  'test/store/serve-postgres-hung.test.ts',
  'test/store/pg-lock-holder.test.ts',
  'test/cluster/cluster-crash-forwarded.test.ts',
  'test/store/serve-postgres-crash-commands.test.ts',
  'test/e2e/dashboard.test.ts',
  'test/e2e/dashboard-cluster-no-owner.test.ts',
  'test/cluster/cluster-store.test.ts',
  'test/e2e/serve-repair.test.ts',
  'test/docs/package.test.ts',
  'test/cli/replay-ui.test.ts',
  'test/engine/stall-guard.test.ts',
  'test/cluster/grpc-forward-not-taken.test.ts',
  'test/e2e/dashboard-reconnect.test.ts',
  'test/server/data-dir-unusable.test.ts',
  'test/e2e/serve-crash-commands.test.ts',
  'test/e2e/dashboard-cluster.test.ts',
  'test/swarm/planted.test.ts',
  'test/cluster/reload-while-stopping.test.ts',
  'test/docs/serve-doc.test.ts',
  'test/simulate/bands-report.test.ts',
  'test/cluster/cluster-admin.test.ts',
];

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    const path = (f: TestSpecification): string => relative(root, f.moduleId).split('\\').join('/');
    // With the previous run's durations cached for every file, Vitest's own order (failed first, then longest) is better informed.
    if (sorted.every((f) => this.ctx.cache.getFileTestResults(`${f.project.name}:${path(f)}`) !== undefined)) return sorted;
    const rank = (f: TestSpecification): number => {
      const i = SLOWEST_FIRST.indexOf(path(f));
      return i < 0 ? SLOWEST_FIRST.length : i;
    };
    return sorted
      .map((f, i) => ({ f, i, r: rank(f) }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map(({ f }) => f);
  }
}

/**
 * Files that share nothing through process state (no module mocks, no environment they change and
 * do not restore, no servers or child processes left running, no process-wide listeners): they run
 * one after another in a worker's one process (isolate: false) instead of each in a fresh one. A
 * fresh process costs each file a fork, Vitest's start in it and its own module imports (1-3 s at
 * load, more than half the suite's files take less than that to run): measured on test/core,
 * test/config and test/projections (36 files), 23.4-26.9 s isolated against 12.3-12.9 s not;
 * test/engine, test/scenario and spec (46 files), 49.7 s against 32.7 s; 55 short files of
 * test/log, cli, simulate, experiments, testing and docs, 323 / 229 s against 176 / 179 s (load
 * 12-15, global setup included); 63 files of test/server, 365 / 210 s against 154 / 165 s (load
 * 9-17). The files that start servers or nodes (test/testing/start-pushq-*, test/cli/replay-ui*,
 * serve-store-events-released, test/server) leave nothing running: --detectAsyncLeaks finds only
 * fetch's and undici's own pending requests, no socket, server, timer or child process. A file that
 * mocks a module, measures the process's heap or changes process-wide state for itself stays
 * isolated (NEEDS_ITS_OWN_PROCESS); METADATA_SERVER_DETECTION is set once for every process by
 * test/global-setup.ts. test/store shares too (each file's fixture starts and stops its own
 * PostgreSQL, and its teardown kills every process the file started; serve-postgres-snapshot gives
 * its setting to its servers' environment, not this process's): its 23 files at load 8-11, 281 and
 * 264 s isolated against 254 s not (imports 20 and 19 s against 13 s, CPU 110 and 107 s against
 * 99 s; the tests themselves vary more with the load). test/e2e and cluster start nodes and Chromium and stay isolated for now
 * (measured, not yet checked under a full run); test/swarm runs a few long files in-process.
 */
const SHARE_A_PROCESS = [
  'test/core/**/*.test.ts',
  'test/config/**/*.test.ts',
  'test/projections/**/*.test.ts',
  'test/engine/**/*.test.ts',
  'test/scenario/**/*.test.ts',
  'spec/**/*.spec.ts',
  'test/log/**/*.test.ts',
  'test/cli/**/*.test.ts',
  'test/simulate/**/*.test.ts',
  'test/experiments/**/*.test.ts',
  'test/testing/**/*.test.ts',
  'test/docs/**/*.test.ts',
  'test/architecture/**/*.test.ts',
  'test/server/**/*.test.ts',
  'test/store/**/*.test.ts',
];
const NEEDS_ITS_OWN_PROCESS = [
  'test/config/positions-scale.test.ts', // vi.mock of src/config/positions.js
  'test/log/atomic-file-durable.test.ts', // vi.mock of node:fs
  'test/log/snapshot-atomic.test.ts', // vi.mock of node:fs
  'test/cli/simulate-write-failure.test.ts', // vi.mock
  'test/server/data-dir-lock-disk-full.test.ts', // vi.mock of node:fs/promises
  'test/server/reload-order.test.ts', // vi.mock of src/server/config-thread.js
  'test/server/api-connections.test.ts', // measures the process's heap (--expose-gc): the files before it would count
  'test/server/worker-never-answers.test.ts', // measures the process's heap (--expose-gc)
  'test/server/worker-outage-flood.test.ts', // measures the process's heap (--expose-gc)
  'test/store/replay-store-writes.test.ts', // vi.mock of node:fs
];

const common = { testTimeout: 60_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    // Builds dist/ once, for the tests that run the real CLI.
    globalSetup: ['test/global-setup.ts'],
    // Integration tests start real servers and child processes; two cores, so keep the pool small.
    maxWorkers: 2,
    sequence: { sequencer: SlowestFirst },
    projects: [
      { test: { ...common, name: 'shared', include: SHARE_A_PROCESS, exclude: [...configDefaults.exclude, ...NEEDS_ITS_OWN_PROCESS], isolate: false } },
      { test: { ...common, name: 'isolated', include: ['spec/**/*.spec.ts', 'test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...SHARE_A_PROCESS] } },
      // Matched by SHARE_A_PROCESS, so excluded above, but run isolated.
      { test: { ...common, name: 'isolated-mocks', include: NEEDS_ITS_OWN_PROCESS } },
    ],
  },
});
