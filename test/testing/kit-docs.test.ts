// docs/testing.md shows test/testing/kit-example.test.ts verbatim (between its markers), so the
// documented example is the one that runs; and every checker the doc lists is exported.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kit from '../../src/testing/index.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('docs/testing.md', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'testing.md'), 'utf8');

  it('contains the runnable example exactly as it is tested', () => {
    const source = readFileSync(join(ROOT, 'test', 'testing', 'kit-example.test.ts'), 'utf8');
    const example = source.slice(source.indexOf('// --- example start ---\n') + '// --- example start ---\n'.length, source.indexOf('// --- example end ---')).trimEnd();
    expect(example.length).toBeGreaterThan(500);
    expect(doc).toContain('```ts\n' + example + '\n```');
  });

  it('names only exports that exist', () => {
    const named = [...doc.matchAll(/`(check[A-Za-z]+|[a-z][A-Za-z]+Arbitrary|runScenario|prepareScenario|formatViolations|namedTasks|render[A-Za-z]+|startPushq|scenarioEventBudget|ScenarioBudgetError)[`(]/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(10);
    for (const name of new Set(named)) expect(kit, name).toHaveProperty(name);
  });
});
