/**
 * A cluster node's reload that the stop overtakes: SIGHUP, then SIGTERM while queue.yaml is still
 * being read (on its worker thread, src/server/config-thread.ts, which takes a while for a large
 * file). A single node refuses such a reload, "pushq is shutting down: no reload" (service.ts reads
 * `closing` again after the read); the cluster node went on after its read, set the new file on a
 * node that was stopping and said "reload applied (N queues) on node ..." after "stopping".
 *
 * The stop is kept long enough for the read to end during it by an attempt in flight that the
 * worker answers after 15 s (the node drains it, --drain-seconds 30).
 */
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { startWorker } from '../helpers/worker.js';
import { clusterFixture, ownedBy, queueYaml, startNode, waitUntil, writeQueueYaml } from './cluster-harness.js';

const fx = clusterFixture('pushq-cluster-reload-stop-');

/** queue.yaml with q0 as before and `pull` pull queues with long acls: 25 of them about 1.7 MiB, read for a second or more. */
function largeYaml(pull: number): string {
  const lines = [queueYaml(1, 10, 10).trimEnd()];
  for (let q = 0; q < pull; q++) {
    lines.push(`- name: pull-${q}`, '  mode: pull', '  acl:');
    for (let a = 0; a < 1500; a++) lines.push(`  - user_email: user-${a}-of-queue-${q}@example.com`);
  }
  return `${lines.join('\n')}\n`;
}

describe('pushq serve --cluster: a reload the stop overtakes', () => {
  it('is refused as shutting down, as one node refuses it, not applied on the stopping node', { timeout: 120_000 }, async () => {
    const url = await fx.pg.database();
    const w = await startWorker(() => ({ status: 200, delayMs: 15000 }));
    fx.workers.push(w);
    const path = await writeQueueYaml(fx.dir, queueYaml(1, 10, 10));
    const node = await startNode(['--config', path, '--store', url, '--lease-seconds', '2', '--drain-seconds', '30', '--target', `default=${w.url}`]);
    fx.nodes.push(node);
    await waitUntil('q0 taken', async () => (await ownedBy(node)).includes('q0'), 20_000);
    const created = await fetch(`${node.api}/q0/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task: { appEngineHttpRequest: { relativeUri: '/t/q0/slow' } } }),
    });
    expect(created.status).toBe(200);
    await w.waitFor((r) => r.length === 1, 20_000, 'the slow attempt');

    await writeFile(path, largeYaml(25));
    node.proc.child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 150));
    node.proc.child.kill('SIGTERM');
    expect(await node.proc.exited).toBe(0);
    const out = node.proc.stdout();
    const err = node.proc.stderr();
    expect(out).toContain('SIGTERM: stopping');
    expect(out, out).not.toContain('reload applied');
    expect(err, err).toContain('pushq serve: reload refused\n  pushq is shutting down: no reload\n');
  });
});
