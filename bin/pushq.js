#!/usr/bin/env node
// The CLI is compiled TypeScript, bundled into a few chunks in dist/bundle/ (built by `npm install`
// / `npm ci` through `prepare`: tsc, then scripts/bundle-cli.mjs, which says why).
import { main } from '../dist/bundle/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err?.stack ?? String(err)); process.exitCode = 70; },
);
