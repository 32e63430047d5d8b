/** docs/errors.md lists exactly the store's and cluster mode's error codes the source defines. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');

function unionMembers(file: string, typeName: string): string[] {
  const src = readFileSync(join(ROOT, file), 'utf8');
  const body = new RegExp(`export type ${typeName} =([\\s\\S]*?);`).exec(src)?.[1];
  expect(body, `${typeName} in ${file}`).toBeDefined();
  return [...body!.replace(/\/\*\*[\s\S]*?\*\//g, '').matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]!);
}

function documented(heading: string): string[] {
  const section = doc.split(/^## /m).find((s) => s.startsWith(heading));
  expect(section, heading).toBeDefined();
  return [...section!.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]!);
}

describe('docs/errors.md', () => {
  it('documents exactly the store error codes', () => {
    expect(documented('Store').sort()).toEqual(unionMembers('src/store/store.ts', 'StoreErrorCode').sort());
  });

  it('documents exactly the cluster error codes', () => {
    expect(documented('Cluster').sort()).toEqual(unionMembers('src/cluster/errors.ts', 'ClusterErrorCode').sort());
  });
});
