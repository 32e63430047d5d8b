import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lifecycleTable } from '../../src/core/lifecycle-doc.js';

describe('docs/architecture.md', () => {
  it('embeds the lifecycle table generated from the task machine', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'architecture.md'), 'utf8');
    const embedded = /<!-- lifecycle:begin -->\n([\s\S]*?)\n<!-- lifecycle:end -->/.exec(doc)?.[1];
    expect(embedded, 'run `node scripts/update-docs.mjs` after changing the machine').toBe(lifecycleTable());
  });
});
