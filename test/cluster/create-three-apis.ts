/**
 * Creates tasks on a cluster through all three APIs in turn (task i: REST when i % 3 = 0, gRPC with
 * the official Node client when 1, App Engine's /rpc_http Add when 2), with the rules of
 * cluster-harness.ts's createTasks: a call that fails (no answer, UNAVAILABLE, TRANSIENT_ERROR) is
 * tried again with the same name on the next live node; acknowledged is a success; "already
 * exists" on a retry means an earlier try was taken but never acknowledged.
 */
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { MESSAGES, TASK_QUEUE_ERROR } from '../../src/server/appengine/messages.js';
import { RPC_HEADERS, addRequest, encodeMessage, envelope } from '../helpers/remote-api.js';
import { createTasks, restCreate, type CreateOutcome, type CreateTry, type Node, type TaskToCreate } from './cluster-harness.js';

const API_NAMES = ['rest', 'grpc', 'rpc_http'] as const;
export type ApiName = (typeof API_NAMES)[number];

export class ThreeApiCreator {
  private readonly clients = new Map<Node, CloudTasksClient>();
  /** Acknowledged creates per API. */
  readonly byApi: Record<ApiName, number> = { rest: 0, grpc: 0, rpc_http: 0 };

  private grpcClient(node: Node): CloudTasksClient {
    let c = this.clients.get(node);
    if (c === undefined) {
      c = new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: node.proc.grpcPort, sslCreds: grpc.credentials.createInsecure() });
      this.clients.set(node, c);
    }
    return c;
  }

  private async once(api: ApiName, node: Node, t: TaskToCreate): Promise<CreateTry> {
    const relativeUri = `/t/${t.queue}/${t.name}`;
    if (api === 'rest') return restCreate(node, t);
    if (api === 'grpc') {
      try {
        await this.grpcClient(node).createTask({ parent: `projects/p/locations/l/queues/${t.queue}`, task: { name: `projects/p/locations/l/queues/${t.queue}/tasks/${t.name}`, appEngineHttpRequest: { relativeUri } } }, { timeout: 10_000 });
        return 'ok';
      } catch (err) {
        const code = (err as { code?: number }).code;
        if (code === grpc.status.ALREADY_EXISTS) return 'exists';
        if (code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED || code === grpc.status.CANCELLED || code === grpc.status.UNKNOWN) return 'retry';
        throw new Error(`create ${t.name} through ${node.id}'s gRPC: ${(err as Error).message}`);
      }
    }
    let response: { application_error?: { code: number; detail: string } | null };
    try {
      const body = envelope('taskqueue', 'Add', encodeMessage('AddRequest', addRequest(t.queue, { task_name: Buffer.from(t.name), url: Buffer.from(relativeUri) })));
      const res = await fetch(`${node.proc.url}/rpc_http`, { method: 'POST', headers: RPC_HEADERS, body, signal: AbortSignal.timeout(10_000) });
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (res.status !== 200) return 'retry';
      response = MESSAGES.Response.decode(bytes) as typeof response;
    } catch {
      return 'retry';
    }
    const code = response.application_error?.code;
    if (code === undefined) return 'ok';
    if (code === TASK_QUEUE_ERROR.TASK_ALREADY_EXISTS || code === TASK_QUEUE_ERROR.TOMBSTONED_TASK) return 'exists';
    if (code === TASK_QUEUE_ERROR.TRANSIENT_ERROR) return 'retry';
    throw new Error(`create ${t.name} through ${node.id}'s /rpc_http: ${response.application_error!.detail}`);
  }

  /** Creates `tasks` as createTasks does, each through the API its index picks, over the nodes `alive()` lists at that moment. */
  create(alive: () => readonly Node[], tasks: readonly TaskToCreate[], parallel: number, deadlineMs: number): Promise<CreateOutcome> {
    const api = (index: number): ApiName => API_NAMES[index % API_NAMES.length]!;
    return createTasks(alive, tasks, parallel, deadlineMs, (node, t, index) => this.once(api(index), node, t), (index) => this.byApi[api(index)]++);
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
  }
}
