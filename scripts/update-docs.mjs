#!/usr/bin/env node
// Regenerates the parts of docs/ that come from the code (run after `npm run build`):
// the task lifecycle table and the layering rules in docs/architecture.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lifecycleTable } from '../dist/core/lifecycle-doc.js';
import { layersTable } from '../dist/layers.js';

const path = join(import.meta.dirname, '..', 'docs', 'architecture.md');
const doc = readFileSync(path, 'utf8');
const next = doc
  .replace(/<!-- lifecycle:begin -->[\s\S]*?<!-- lifecycle:end -->/, `<!-- lifecycle:begin -->\n${lifecycleTable()}\n<!-- lifecycle:end -->`)
  .replace(/<!-- layers:begin -->[\s\S]*?<!-- layers:end -->/, `<!-- layers:begin -->\n${layersTable()}\n<!-- layers:end -->`);
writeFileSync(path, next);
console.log(next === doc ? 'docs/architecture.md: up to date' : 'docs/architecture.md: generated tables updated');
