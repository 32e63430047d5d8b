/**
 * The gRPC API of a cluster node (`google.cloud.tasks.v2.CloudTasks` on `--grpc-port`): as the
 * REST router (router.ts), any node takes a call for any queue and hands it to the queue's owner,
 * unchanged: to the queue's own gRPC service on 127.0.0.1 when this node owns it, else to the
 * owner node's gRPC front, marked forwarded (never forwarded twice). Messages travel as bytes;
 * only the resource name is decoded, to find the queue. The owner answers a CreateTask once its
 * batch is committed, so acknowledged means durable here too; its errors (status, message, the
 * ErrorInfo and BadRequest details) come back as they are.
 *
 * ListQueues pages the configuration's queues as one node does and asks each queue's owner for its queue. Calls naming no queue of the configuration
 * (IAM, queue create/update) go to any queue's service, which answers as a single node does.
 * A queue with no reachable owner is UNAVAILABLE with QUEUE_OWNER_UNKNOWN or
 * QUEUE_OWNER_UNAVAILABLE at the end of the message, as the REST router says it. With
 * `--auth-token`, a call without the token is refused by the front itself, before anything is
 * forwarded, with the single node's check (authRefusal), as the REST router's guard does.
 */
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { ApiError } from '../server/errors.js';
import { addNotServed, authRefusal, grpcError, pageRequest, statusDetails, type GrpcAuthorize } from '../server/grpc/grpc-service.js';
import { pageOf, pageOfItems, QUEUES_LIST } from '../server/page-token.js';
import { bindGrpc, grpcServerOptions, type BoundGrpc } from '../server/grpc/bind.js';
import { ConnectionBudget, GRPC_IDLE_MS, defaultApiServerLimits } from '../server/connection-limits.js';
import { cloudTasksProtos, SERVICE_NAME } from '../server/grpc/protos.js';
import type { ClusterErrorCode } from './errors.js';
import { askAgainAfterRefresh, FORWARDED_HEADER } from './router.js';

const QUEUE_IN = /^projects\/[^/]+\/locations\/[^/]+\/queues\/([^/]+)/;
const LOCATION = /^projects\/[^/]+\/locations\/[^/]+$/;

export interface GrpcTable {
  readonly node: string;
  /** `127.0.0.1:PORT` of the gRPC service of a queue this node owns now. */
  localGrpc(queue: string): string | undefined;
  /** `HOST:PORT` of the gRPC front of the node that owns `queue` (last look at the store). */
  remoteGrpc(queue: string): string | undefined;
  queues(): readonly string[];
  owned(): readonly string[];
  /** Reads who owns which queue from the store again (a queue moved since the last tick). */
  refresh(): Promise<void>;
}

type Callback = grpc.sendUnaryData<Buffer>;
const same = (b: Buffer): Buffer => b;

/** A refusal of this node's own (UNAVAILABLE), its code in the trailer's ErrorInfo as every API error has it, so a client reads it as err.reason. */
function refusal(code: ClusterErrorCode, text: string): grpc.ServiceError {
  const message = `${text} (${code})`;
  return Object.assign(new Error(message), { code: grpc.status.UNAVAILABLE, details: message, metadata: statusDetails(cloudTasksProtos(), grpc.status.UNAVAILABLE, { code, message }) });
}

export class GrpcFront {
  private readonly clients = new Map<string, grpc.Client>();

  private constructor(
    private readonly server: grpc.Server,
    private readonly bound: BoundGrpc,
    private readonly table: GrpcTable,
    private readonly forwardTimeoutMs: number,
    private readonly authorize: GrpcAuthorize | undefined,
  ) {}

  /** The port bound. */
  get port(): number {
    return this.bound.port;
  }

  /**
   * `authorize`: the node's `--auth-token` check (absent: none), made here before anything is
   * forwarded; `budget`: the node's bound on client connections, shared with its HTTP port
   * (connection-limits.ts).
   */
  static async start(table: GrpcTable, host: string, port: number, forwardTimeoutMs: number, authorize?: GrpcAuthorize, budget = new ConnectionBudget(defaultApiServerLimits().connectionsMax)): Promise<GrpcFront> {
    const p = cloudTasksProtos();
    const server = new grpc.Server(grpcServerOptions(GRPC_IDLE_MS));
    let front: GrpcFront | undefined;
    const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const method of p.service.methodsArray) {
      const path = `/${SERVICE_NAME}/${method.name}`;
      definition[method.name] = { path, requestStream: false, responseStream: false, requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same };
      const requestType = method.resolvedRequestType as protobuf.Type;
      implementation[method.name] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: Callback) => void front!.answer(method.name, path, requestType, call, callback);
    }
    server.addService(definition, implementation);
    addNotServed(server, authorize); // the locations mixin: refused here, as one node refuses it
    const bound = await bindGrpc(server, host, port, budget); // a port in use: PORT_IN_USE, as on one node
    front = new GrpcFront(server, bound, table, forwardTimeoutMs, authorize);
    return front;
  }

  private async answer(name: string, path: string, requestType: protobuf.Type, call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: Callback): Promise<void> {
    // Refused here, as one node refuses it: forwarded, a ListQueues would lose each queue to its owner's refusal.
    const refused = authRefusal(this.authorize, call.metadata);
    if (refused !== undefined) return callback(grpcError(refused));
    const forwarded = call.metadata.get(FORWARDED_HEADER).length > 0;
    let resource = '';
    let message: Record<string, unknown> = {};
    try {
      message = requestType.toObject(requestType.decode(call.request));
      resource = typeof message.name === 'string' && message.name !== '' ? message.name : typeof message.parent === 'string' ? message.parent : '';
    } catch {
      // Not a message of its type: any queue's service answers INVALID_ARGUMENT as one node does.
    }
    if (name === 'ListQueues' && LOCATION.test(resource)) return this.listQueues(resource, message, call, callback, forwarded);
    const queue = QUEUE_IN.exec(resource)?.[1];
    const known = queue !== undefined && this.table.queues().includes(queue);
    const local = known ? this.table.localGrpc(queue) : undefined;
    if (local !== undefined) return this.forward(local, path, call.request, call.metadata, false, callback);
    if (!known) return this.anywhere(path, call, callback, forwarded);
    if (forwarded) return callback(refusal('QUEUE_OWNER_UNAVAILABLE', `queue ${queue} is not (or no longer) owned by node ${this.table.node}: it is moving; retry`));
    const remote = this.table.remoteGrpc(queue);
    if (remote === undefined) return callback(refusal('QUEUE_OWNER_UNKNOWN', `no live node owns queue ${queue} right now (a node left and its lease has not run out, or the queue is moving); retry`));
    this.forward(remote, path, call.request, call.metadata, true, callback);
  }

  /** A call naming no queue of the configuration: any queue's service answers it as a single node would. */
  private anywhere(path: string, call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: Callback, forwarded: boolean): void {
    for (const q of this.table.owned()) {
      const local = this.table.localGrpc(q);
      if (local !== undefined) return this.forward(local, path, call.request, call.metadata, false, callback);
    }
    if (!forwarded) {
      for (const q of this.table.queues()) {
        const remote = this.table.remoteGrpc(q);
        if (remote !== undefined) return this.forward(remote, path, call.request, call.metadata, true, callback);
      }
    }
    callback(refusal('QUEUE_OWNER_UNKNOWN', 'no node that owns a queue is known to answer this call; retry'));
  }

  private forward(address: string, path: string, request: Buffer, incoming: grpc.Metadata, remote: boolean, callback: Callback): void {
    let client = this.clients.get(address);
    if (client === undefined) {
      client = new grpc.Client(address, grpc.credentials.createInsecure());
      this.clients.set(address, client);
    }
    const metadata = new grpc.Metadata();
    for (const auth of incoming.get('authorization')) metadata.add('authorization', auth);
    if (remote) metadata.set(FORWARDED_HEADER, this.table.node);
    client.makeUnaryRequest(path, same, same, request, metadata, { deadline: Date.now() + this.forwardTimeoutMs }, (err, answer) => {
      // This node's queue began to end while the call was on its way to the queue's service, which
      // refused it at its door (SHUTTING_DOWN: nothing was done): the node runs, the queue is moving.
      if (err !== null && !remote && err.code === grpc.status.UNAVAILABLE && /\(SHUTTING_DOWN\)$/.test(err.details)) return callback(refusal('QUEUE_OWNER_UNAVAILABLE', `the queue's service on node ${this.table.node} stopped taking calls (the queue is moving); not acknowledged, retry`));
      if (err !== null) return callback(err.code === grpc.status.UNAVAILABLE && err.metadata.get('grpc-status-details-bin').length === 0 && !/\(QUEUE_OWNER_/.test(err.details) ? refusal('QUEUE_OWNER_UNAVAILABLE', `the owner (${address}) did not answer: ${err.details}; not acknowledged, retry`) : err);
      callback(null, answer ?? Buffer.alloc(0));
    });
  }

  /**
   * ListQueues: a page of the configuration's queues, paged as one node pages its queues
   * (page-token.ts); each queue's resource asked of its owner (queues with no reachable owner now
   * are left out of their page).
   */
  private listQueues(parent: string, message: Record<string, unknown>, call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: Callback, forwarded: boolean): void {
    let page: { items: string[]; nextPageToken?: string };
    try {
      page = pageOfItems(this.table.queues(), pageOf(pageRequest(message), QUEUES_LIST), QUEUES_LIST);
    } catch (err) {
      if (err instanceof ApiError) return callback(grpcError(err));
      throw err;
    }
    const p = cloudTasksProtos();
    const getQueue = p.root.lookupType('google.cloud.tasks.v2.GetQueueRequest');
    const queueType = p.root.lookupType('google.cloud.tasks.v2.Queue');
    const listType = p.root.lookupType('google.cloud.tasks.v2.ListQueuesResponse');
    const path = `/${SERVICE_NAME}/GetQueue`;
    const ask = (queue: string): Promise<protobuf.Message | null> =>
      new Promise<protobuf.Message | null>((resolve) => {
        const address = this.table.localGrpc(queue) ?? (forwarded ? undefined : this.table.remoteGrpc(queue));
        if (address === undefined) return resolve(null);
        const request = Buffer.from(getQueue.encode(getQueue.fromObject({ name: `${parent}/queues/${queue}` })).finish());
        this.forward(address, path, request, call.metadata, this.table.localGrpc(queue) === undefined, (err, answer) => resolve(err || !answer ? null : queueType.decode(answer)));
      });
    // A forwarded call is answered from what this node owns: only the first node reads the owners again.
    const found = forwarded ? Promise.all(page.items.map(ask)) : askAgainAfterRefresh(this.table, page.items, ask);
    void found.then((queues) => callback(null, Buffer.from(listType.encode(listType.create({ queues: queues.filter((q) => q !== null), nextPageToken: page.nextPageToken ?? '' })).finish())));
  }

  async close(): Promise<void> {
    this.bound.close();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 1000);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    for (const c of this.clients.values()) c.close();
  }
}
