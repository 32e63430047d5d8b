/** docs/errors.md lists every engine, API, serve start, log, data directory and experiment, store, snapshot and cluster error code the source defines, and no other; each one src/ raises somewhere; the HTTP status it gives each engine, API and cluster code is the one answered; and the codes of the simulation outputs and the command line. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClusterError, type ClusterErrorCode } from '../../src/cluster/errors.js';
import type { PushqErrorCode } from '../../src/core/errors.js';
import { ApiError, type ApiErrorCode } from '../../src/server/errors.js';
import { unionMembers } from '../helpers/doc-text.js';

const ROOT = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');

/** Codes in the first column of a markdown table under `heading`. */
function documented(heading: string): string[] {
  return [...documentedRows(heading).keys()];
}

/** The rows of the markdown table under `heading`: code → its cells after the first. */
function documentedRows(heading: string): Map<string, string[]> {
  const section = doc.split(/^## /m).find((s) => s.startsWith(heading));
  expect(section, heading).toBeDefined();
  return new Map([...section!.matchAll(/^\| `([A-Z_]+)` \|(.*)\|$/gm)].map((m) => [m[1]!, m[2]!.split(' | ').map((c) => c.trim())]));
}

/** Every src/ file's text, by path. */
function sources(dir = join(ROOT, 'src')): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) for (const [p, text] of sources(path)) out.set(p, text);
    else if (entry.name.endsWith('.ts')) out.set(path, readFileSync(path, 'utf8'));
  }
  return out;
}

describe('docs/errors.md', () => {
  it('documents exactly the engine error codes', () => {
    expect(documented('Engine').sort()).toEqual(unionMembers('src/core/errors.ts', 'PushqErrorCode').sort());
  });

  it('documents exactly the HTTP (and gRPC) API error codes', () => {
    expect(documented('HTTP API').sort()).toEqual(unionMembers('src/server/errors.ts', 'ApiErrorCode').sort());
  });

  it('documents exactly the serve start error codes', () => {
    expect(documented('Serve start').sort()).toEqual(unionMembers('src/server/start-errors.ts', 'ServeStartErrorCode').sort());
  });

  it('documents exactly the experiment error codes', () => {
    expect(documented('Experiments').sort()).toEqual(unionMembers('src/experiments/errors.ts', 'ExperimentErrorCode').sort());
  });

  it('documents exactly the log error codes', () => {
    expect(documented('Logs').sort()).toEqual(unionMembers('src/log/log-errors.ts', 'LogErrorCode').sort());
  });

  it('documents exactly the data directory error codes', () => {
    expect(documented('Data directory').sort()).toEqual(unionMembers('src/server/data-dir-lock.ts', 'DataDirErrorCode').sort());
  });

  it('documents exactly the store error codes', () => {
    expect(documented('Store').sort()).toEqual(unionMembers('src/store/store.ts', 'StoreErrorCode').sort());
  });

  it('documents exactly the snapshot error codes', () => {
    expect(documented('Snapshots').sort()).toEqual(unionMembers('src/server/fold-snapshot.ts', 'SnapshotErrorCode').sort());
  });

  it('documents exactly the cluster error codes', () => {
    expect(documented('Cluster').sort()).toEqual(unionMembers('src/cluster/errors.ts', 'ClusterErrorCode').sort());
  });

  it('documents the codes of the simulation inputs and outputs and of the command line', () => {
    const codes = ['src/projections/series.ts', 'src/simulate/report/write.ts', 'src/cli/args.ts', 'src/simulate/worker-rules.ts', 'src/dispatch/worker-model.ts', 'src/config/object-check.ts', 'src/testing/event-budget.ts', 'src/engine/stall-guard.ts'].flatMap((file) => [...readFileSync(join(ROOT, file), 'utf8').matchAll(/readonly code = '([A-Z_]+)'/g)].map((m) => m[1]));
    expect(documented('Simulation inputs').sort()).toEqual(codes.sort());
  });

  it('documents no code that src/ never raises: each is written somewhere besides its type\'s list of codes', () => {
    // A code's union member is a line `| 'CODE'` (or the one-line union of start-errors.ts); a raise
    // names it elsewhere: `new XError('CODE', ...)`, `super('CODE', ...)`, `readonly code = 'CODE'`.
    const text = [...sources().values()].join('\n').replace(/^\s*\| '[A-Z_]+'.*$/gm, '').replace(/^export type \w+ = '[A-Z_]+'(?: \| '[A-Z_]+')+;$/gm, '');
    const codes = [...new Set([...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]!))];
    expect(codes.length).toBeGreaterThan(70);
    expect(codes.filter((code) => !text.includes(`'${code}'`))).toEqual([]);
  });

  it('gives each engine, API and cluster code the HTTP status the API answers it with', () => {
    const wrong: string[] = [];
    const check = (heading: string, answer: (code: string) => { httpStatus: number; status: string }): void => {
      for (const [code, cells] of documentedRows(heading)) {
        const { httpStatus, status } = answer(code);
        // TOMBSTONED_TASK's cell goes on about get/delete/run, TASK_RELEASED's says no service answers it.
        if (!cells.at(-1)!.startsWith(`${httpStatus} ${status}`)) wrong.push(`${code}: documented "${cells.at(-1)}", answered ${httpStatus} ${status}`);
      }
    };
    check('Engine', (code) => new ApiError(code as PushqErrorCode, 'x', undefined));
    check('HTTP API', (code) => new ApiError(code as ApiErrorCode, 'x'));
    check('Cluster', (code) => new ClusterError(code as ClusterErrorCode, 'x'));
    expect(wrong).toEqual([]);
  });

  it('names the configuration error code', () => {
    const src = readFileSync(join(ROOT, 'src', 'config', 'issues.ts'), 'utf8');
    const code = /code = '([A-Z_]+)'/.exec(src)?.[1];
    expect(code).toBe('CONFIG_INVALID');
    expect(doc).toContain(`\`${code}\``);
  });
});
