/**
 * App Engine's `POST /rpc_http` on a cluster node (docs/cluster.md, "App Engine /rpc_http"): the
 * call is routed by the queue its message names (rpc-route.ts) and forwarded exactly as a REST
 * call is (router.ts): in process to the queue's service when this node owns it, else to the
 * owner's router, marked forwarded; the owner's answer bytes come back unchanged, so a task added
 * is acknowledged once it is in the store, whichever node the app called. A call whose answer no
 * queue decides (its headers wrong, another service, a method refused, ...: rpc-route.ts) is
 * answered here, as one node answers it, whatever owner is reachable.
 *
 * A call that reaches no owner (none known, or it did not answer) is answered as the one-node
 * server answers a transient failure: HTTP 200, `application_error` TRANSIENT_ERROR, the detail
 * ending with the cluster's code (QUEUE_OWNER_UNKNOWN / QUEUE_OWNER_UNAVAILABLE): the App Engine
 * libraries report it as an API error and the app retries, never a bare HTTP error they would read
 * as a broken API server.
 *
 * FetchQueueStats names several queues: each is asked of its owner and the answers are merged in
 * the call's order (a queue outside the configuration gets one node's row for it here). FetchQueues asks every owner for its queues and merges them by name.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { discardUnreadBody, readBodyUpTo } from '../server/body.js';
import { MESSAGES, TASK_QUEUE_ERROR, utf8, type RemoteRequest } from '../server/appengine/messages.js';
import { RpcCallError } from '../server/appengine/rpc-errors.js';
import { RPC_CONTENT_TYPE, RPC_REQUEST_BYTES_MAX, checkCall, errorResponse, okResponse, rpcOverQuota, rpcTooLarge } from '../server/appengine/rpc-http.js';
import { UNKNOWN_QUEUE_STATS } from '../server/appengine/taskqueue-service.js';
import { ServerBusyError } from '../server/body-budget.js';
import { ClusterError } from './errors.js';
import type { Answer, Hop, Router } from './router.js';
import { NOT_TAKEN_HEADER, noOwner } from './router.js';
import { planRpc, withRequest, type RpcPlan } from './rpc-route.js';

export class RpcFront {
  constructor(private readonly router: Router) {}

  /** Answers one /rpc_http call: always a remote_api Response (or drops a client that left). */
  async answer(req: IncomingMessage, res: ServerResponse, forwarded: boolean): Promise<void> {
    try {
      checkCall(req); // as one node checks it, before its body is read: whatever owner is reachable
    } catch (err) {
      discardUnreadBody(req, res);
      reply(res, errorResponse(err as RpcCallError));
      return;
    }
    let body: Buffer | null;
    try {
      body = await readBodyUpTo(req, RPC_REQUEST_BYTES_MAX);
    } catch (err) {
      if (err instanceof ServerBusyError) {
        // Past the node's body budget (body-budget.ts): refused as one node refuses it, nothing done.
        discardUnreadBody(req, res);
        reply(res, errorResponse(rpcOverQuota(err)));
        return;
      }
      res.destroy(); // the client went away: nothing was done
      return;
    }
    if (body === null) {
      // As one node: answered at once, the rest of the body discarded (body.ts).
      discardUnreadBody(req, res);
      reply(res, errorResponse(rpcTooLarge(RPC_REQUEST_BYTES_MAX)));
      return;
    }
    const table = this.router.table;
    const plan = planRpc(body, (q) => table.queues().includes(q));
    try {
      await this.route(plan, req, res, body, forwarded);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof ClusterError) {
        if (err.reachedNoService) res.setHeader(NOT_TAKEN_HEADER, '1');
        return reply(res, transient(err));
      }
      reply(res, errorResponse(err));
    }
  }

  private async route(plan: RpcPlan, req: IncomingMessage, res: ServerResponse, body: Buffer, forwarded: boolean): Promise<void> {
    switch (plan.kind) {
      case 'queue':
        return this.router.toOwner(plan.queue, req, res, forwarded, body);
      case 'anywhere':
        return this.router.answerWith(await this.router.forwardAnywhere(plan.queue, req, body, forwarded), res);
      case 'refused':
        return reply(res, errorResponse(plan.error));
      case 'answered':
        return reply(res, okResponse(plan.response));
      case 'stats':
        return this.stats(plan.envelope, plan.names, req, res, forwarded);
      case 'list':
        return this.list(plan.envelope, plan.maxRows, req, res, forwarded);
      default: {
        const never: never = plan;
        throw new Error(`unhandled plan ${JSON.stringify(never)}`);
      }
    }
  }

  /** The hop of a configured queue's part of a call. */
  private hop(queue: string, forwarded: boolean): Hop {
    const target = this.router.target(queue, forwarded);
    if (target === null || target === 'anywhere') throw noOwner(queue);
    return target;
  }

  /** Sends `request` (the method's message) in `envelope` to `hop`; the decoded Response, or the answer to give as it is (an error). */
  private async ask(hop: Hop, envelope: RemoteRequest, request: Uint8Array, req: IncomingMessage): Promise<{ response: Uint8Array } | { final: Answer }> {
    const out = await this.router.forward(hop.url, req, withRequest(envelope, request), hop.remote, true); // FetchQueueStats, FetchQueues: reads
    if (out instanceof ClusterError) throw out;
    let response: { response?: Uint8Array; application_error?: unknown; rpc_error?: unknown };
    try {
      response = MESSAGES.Response.decode(out.body) as typeof response;
    } catch {
      return { final: out };
    }
    if (out.status !== 200 || response.application_error != null || response.rpc_error != null || response.response === undefined) return { final: out };
    return { response: response.response };
  }

  /**
   * FetchQueueStats: the configured names grouped by owner, each group asked once, the answers put
   * back in the call's order; a name outside the configuration gets one node's row for it here.
   */
  private async stats(envelope: RemoteRequest, names: string[], req: IncomingMessage, res: ServerResponse, forwarded: boolean): Promise<void> {
    const configured = new Set(this.router.table.queues());
    const groups = new Map<string, { hop: Hop; at: number[] }>();
    const merged: unknown[] = names.map(() => UNKNOWN_QUEUE_STATS);
    names.forEach((name, i) => {
      if (!configured.has(name)) return;
      const hop = this.hop(name, forwarded);
      const group = groups.get(hop.url) ?? { hop, at: [] };
      group.at.push(i);
      groups.set(hop.url, group);
    });
    const inner = MESSAGES.FetchQueueStatsRequest.decode(envelope.request) as unknown as Record<string, unknown>;
    for (const { hop, at } of groups.values()) {
      const part = MESSAGES.FetchQueueStatsRequest.encode(MESSAGES.FetchQueueStatsRequest.create({ ...inner, queue_name: at.map((i) => Buffer.from(names[i]!)) })).finish();
      const out = await this.ask(hop, envelope, part, req);
      if ('final' in out) return this.router.answerWith(out.final, res);
      const stats = (MESSAGES.FetchQueueStatsResponse.decode(out.response) as unknown as { queueStats?: unknown[] }).queueStats ?? [];
      if (stats.length !== at.length) throw new ClusterError('QUEUE_OWNER_UNAVAILABLE', `the owner (${hop.url}) answered ${stats.length} queues' stats for ${at.length}; retry`);
      at.forEach((i, j) => (merged[i] = stats[j]));
    }
    reply(res, okResponse(MESSAGES.FetchQueueStatsResponse.encode(MESSAGES.FetchQueueStatsResponse.create({ queueStats: merged })).finish()));
  }

  /** FetchQueues: every owned queue's row, asked of its owner (a queue with no reachable owner now is left out, as ListQueues does), by name. */
  private async list(envelope: RemoteRequest, maxRows: number, req: IncomingMessage, res: ServerResponse, forwarded: boolean): Promise<void> {
    const table = this.router.table;
    // Owners read at the last tick may be out of date (a start, a rebalance): a queue without one
    // known is looked up again first, as ListQueues does (askAgainAfterRefresh in router.ts).
    if (!forwarded && table.queues().some((q) => table.local(q) === undefined && table.remote(q) === undefined)) await table.refresh();
    const groups = new Map<string, { hop: Hop; queues: Set<string> }>();
    for (const queue of table.queues()) {
      const local = table.local(queue);
      const remote = local === undefined && !forwarded ? table.remote(queue) : undefined;
      const hop = local !== undefined ? { url: local, remote: false } : remote !== undefined ? { url: remote, remote: true } : null;
      if (hop === null) continue;
      const group = groups.get(hop.url) ?? { hop, queues: new Set<string>() };
      group.queues.add(queue);
      groups.set(hop.url, group);
    }
    const all = MESSAGES.FetchQueuesRequest.encode(MESSAGES.FetchQueuesRequest.create({ max_rows: 0 })).finish();
    const rows = new Map<string, unknown>();
    await Promise.all(
      [...groups.values()].map(async ({ hop, queues }) => {
        try {
          const out = await this.ask(hop, envelope, all, req);
          if ('final' in out) return;
          const found = (MESSAGES.FetchQueuesResponse.decode(out.response) as unknown as { queue?: { queue_name?: Uint8Array }[] }).queue ?? [];
          for (const row of found) {
            const name = utf8(row.queue_name);
            if (queues.has(name) && !rows.has(name)) rows.set(name, row);
          }
        } catch {
          // No answer from that owner: its queues are left out.
        }
      }),
    );
    const names = [...rows.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const kept = maxRows > 0 ? names.slice(0, maxRows) : names;
    reply(res, okResponse(MESSAGES.FetchQueuesResponse.encode(MESSAGES.FetchQueuesResponse.create({ queue: kept.map((n) => rows.get(n)) })).finish()));
  }
}

/** No owner reached: the one-node server's form of a transient failure, with the cluster's code at the end of the detail. */
function transient(err: ClusterError): Uint8Array {
  return MESSAGES.Response.encode(MESSAGES.Response.create({ application_error: { code: TASK_QUEUE_ERROR.TRANSIENT_ERROR, detail: err.message } })).finish();
}

function reply(res: ServerResponse, answer: Uint8Array): void {
  res.writeHead(200, { 'content-type': RPC_CONTENT_TYPE, 'content-length': answer.byteLength });
  res.end(answer);
}

