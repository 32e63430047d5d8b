import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['spec/**/*.spec.ts', 'test/**/*.test.ts'],
    // Builds dist/ once, for the tests that run the real CLI.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real servers and child processes; two cores, so keep the pool small.
    maxWorkers: 2,
  },
});
