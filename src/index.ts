/** pushq's public entry point. Every export is documented where it is defined. */
export * from './config/types.js';
