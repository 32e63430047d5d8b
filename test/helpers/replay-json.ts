/**
 * `pushq replay ARGS --json` run by the command's own code in this process (replayCommand, what
 * bin/pushq.js runs for `replay`), for tests that compare another reading (a node's ?at=, the
 * dashboard) with replay's, often many times over: a child process each cost ~0.6-1 s on the 2-core
 * machine, most of it starting node. The command line itself is tested where it is the point
 * (test/cli/replay*.test.ts; on a store: cluster-basic, cluster-crash-commands, store/serve-postgres).
 */
import { expect } from 'vitest';
import { replayCommand } from '../../src/cli/replay.js';

/** What the command prints, parsed; its exit status must be 0 (else its stderr is the failure's message). */
export async function replayJson(args: readonly string[]): Promise<any> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await replayCommand([...args, '--json'], { stdout: (s) => out.push(s), stderr: (s) => err.push(s) });
  expect(code, `pushq replay ${args.join(' ')} --json: ${err.join('')}`).toBe(0);
  return JSON.parse(out.join(''));
}
