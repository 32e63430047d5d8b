/** pushq's public test kit: fast-check arbitraries for your own property tests. */
export * from './arbitraries/queue-config.js';
