/**
 * `POST /pushq/reset` on a cluster node (`--allow-reset`, for test suites): every queue of the
 * cluster is reset by its owner, whichever node was called, as one node resets all of its queues.
 * A test suite that resets between tests expects exactly that; a reset of the called node's queues
 * alone would leave tasks and tombstones behind on the others.
 *
 * The node asks each queue's service it owns and every other owner's router (marked forwarded: that
 * node resets the queues it owns and says which). Each service answers as one node does (so
 * RESET_NOT_ALLOWED and a body that is not empty are refused there, with one definition). A queue
 * no one reset (no reachable owner right now, or it moved while the call went round) makes the
 * call UNAVAILABLE, naming those queues: reset is idempotent, so the caller sends it again.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClusterError } from './errors.js';
import { readBody, send, type Router } from './router.js';

interface ResetAnswer {
  reset?: boolean;
  queues?: string[];
}

export async function resetEveryQueue(router: Router, req: IncomingMessage, res: ServerResponse, forwarded: boolean): Promise<void> {
  const body = await readBody(req);
  const table = router.table;
  if (!forwarded) await table.refresh();
  const hops = new Map<string, boolean>();
  for (const queue of table.queues()) {
    const local = table.local(queue);
    const remote = local === undefined && !forwarded ? table.remote(queue) : undefined;
    if (local !== undefined) hops.set(local, false);
    else if (remote !== undefined) hops.set(remote, true);
  }
  const answers = await Promise.all([...hops].map(([url, remote]) => router.forward(url, req, body, remote)));
  const done = new Set<string>();
  for (const out of answers) {
    if (out instanceof ClusterError) continue; // its queues are missed below
    // A refusal (--allow-reset not given, a body that is not empty) is the same on every node: answered as it came.
    if (out.status !== 200) return router.answerWith(out, res);
    for (const q of (JSON.parse(out.body.toString('utf8')) as ResetAnswer).queues ?? []) done.add(q);
  }
  const queues = table.queues().filter((q) => done.has(q));
  if (forwarded) return send(res, 200, { reset: true, queues });
  const missed = table.queues().filter((q) => !done.has(q));
  if (missed.length > 0) {
    throw new ClusterError(
      'QUEUE_OWNER_UNAVAILABLE',
      `reset ${queues.length} of ${table.queues().length} queues; ${missed.join(', ')} had no reachable owner (a node left, or the queue moved meanwhile); reset again (it is idempotent)`,
    );
  }
  send(res, 200, { reset: true, queues });
}
