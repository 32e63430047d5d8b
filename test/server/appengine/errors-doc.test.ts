/**
 * docs/app-engine.md's error table says, for every engine error code, what `/rpc_http` answers:
 * checked here against the one mapping in src/server/appengine/rpc-errors.ts (and the code list
 * against the PushqErrorCode union), so the page cannot drift from the source.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PushqError, type PushqErrorCode } from '../../../src/core/errors.js';
import { RpcCallError, fromEngineError } from '../../../src/server/appengine/rpc-errors.js';
import { RPC_ERROR, TASK_QUEUE_ERROR } from '../../../src/server/appengine/messages.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const doc = readFileSync(join(ROOT, 'docs', 'app-engine.md'), 'utf8');

function engineCodes(): PushqErrorCode[] {
  const src = readFileSync(join(ROOT, 'src/core/errors.ts'), 'utf8');
  const body = /export type PushqErrorCode =([\s\S]*?);/.exec(src)?.[1] ?? '';
  return [...body.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1] as PushqErrorCode);
}

/** `| \`ENGINE\` | \`ANSWER\` (n) ... |` rows of the Errors table. */
function documented(): Map<string, { answer: string; number: number }> {
  const rows = new Map<string, { answer: string; number: number }>();
  for (const m of doc.matchAll(/^\| `([A-Z_]+)` \| `([A-Z_]+)` \((\d+)\)/gm)) rows.set(m[1]!, { answer: m[2]!, number: Number(m[3]) });
  return rows;
}

describe('docs/app-engine.md, Errors', () => {
  it('lists every engine code, with the answer rpc-errors.ts gives and its number', () => {
    const rows = documented();
    const codes = engineCodes();
    expect(codes.length).toBeGreaterThan(10);
    for (const code of codes) {
      const row = rows.get(code);
      expect(row, `${code} in docs/app-engine.md`).toBeDefined();
      const e = fromEngineError(new PushqError(code, 'x'));
      expect(row!.answer, code).toBe(e.code);
      const number = e instanceof RpcCallError ? RPC_ERROR[e.code] : TASK_QUEUE_ERROR[e.code];
      expect(row!.number, `${code}: the number`).toBe(number);
    }
  });
});
