#!/usr/bin/env node
// The CLI is compiled TypeScript, bundled into a few chunks in dist/bundle/ (built by `npm install`
// / `npm ci` through `prepare`: tsc, then scripts/bundle-cli.mjs, which says why).
import { main } from '../dist/bundle/main.js';

// A reader that goes away (`pushq validate a.yaml | head -1`) is no failure of pushq's: what it
// would have read is dropped (src/cli/io.ts writes nothing more once stdout is destroyed) and the
// command ends with its own exit status, instead of dying on an unhandled EPIPE.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
});

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err?.stack ?? String(err)); process.exitCode = 70; },
);
