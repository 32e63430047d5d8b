/** The throwaway PostgreSQL cluster for tests: src/testing/pg-cluster.ts (there so scripts running dist/ can start one too). */
export * from '../../src/testing/pg-cluster.js';
