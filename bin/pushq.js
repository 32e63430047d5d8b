#!/usr/bin/env node
// The CLI is compiled TypeScript, bundled into a few chunks in dist/bundle/ (built by `npm install`
// / `npm ci` through `prepare`: tsc, then scripts/bundle-cli.mjs, which says why).
import { main } from '../dist/bundle/main.js';

// A reader that goes away (`pushq simulate x.yaml --json | head -c 100`) is no failure of pushq's:
// stop quietly, as a Unix tool stopped by SIGPIPE does, instead of dying on an unhandled EPIPE.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err?.stack ?? String(err)); process.exitCode = 70; },
);
