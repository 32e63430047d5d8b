/**
 * `pushq replay LOG --ui` says when its time-travel index is done, counting its checkpoints by the
 * CLI's one rule for a count and its noun (src/cli/counted.ts): a small log has one checkpoint,
 * and the line says `1 checkpoint`, not `1 checkpoints`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushq, ROOT } from '../helpers/cli.js';
import { startReplayUi } from '../helpers/replay-ui-process.js';

let dir: string;
let log: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-replay-ui-index-'));
  log = join(dir, 'flaky.jsonl');
  const run = await pushq(['simulate', join(ROOT, 'examples/retries/flaky-worker.yaml'), '--log', log]);
  expect(run.code, run.stderr).toBe(0);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('pushq replay --ui: the index line', () => {
  it('counts one checkpoint in the singular', async () => {
    const ui = await startReplayUi(log, ['--port', '0']);
    try {
      const deadline = Date.now() + 30_000;
      while (!/time travel indexed/.test(ui.stdout()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const line = ui.stdout().split('\n').find((l) => l.includes('time travel indexed'));
      expect(line, ui.stdout()).toMatch(/^pushq replay: time travel indexed: 1 checkpoint in \d+\.\d\d s$/);
    } finally {
      ui.child.kill('SIGINT');
    }
    expect(await ui.exited).toBe(0);
  });
});
