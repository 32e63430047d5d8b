/**
 * The gRPC API of a cluster node (`google.cloud.tasks.v2.CloudTasks` on `--grpc-port`): as the
 * REST router (router.ts), any node takes a call for any queue and hands it to the queue's owner,
 * unchanged: to the queue's own gRPC service on 127.0.0.1 when this node owns it, else to the
 * owner node's gRPC front, marked forwarded (never forwarded twice). Messages travel as bytes;
 * only the resource name is decoded, to find the queue. The owner answers a CreateTask once its
 * batch is committed, so acknowledged means durable here too; its errors (status, message, the
 * ErrorInfo and BadRequest details) come back as they are.
 *
 * A call that surely reached no queue's service (no connection to the owner could be made, so not
 * one byte of it left; or the owner's front or service refused it before any work) is sent once
 * more after reading the owners again, to the new owner when the store names one, as the REST
 * router does; else it is refused with the `x-pushq-not-taken: 1` trailer, the REST header's twin.
 * A call that may have reached the owner (its connection dropped mid-call, a deadline) is never
 * sent again: a create whose answer was lost may have been taken.
 *
 * ListQueues pages the configuration's queues as one node does and asks each queue's owner for its queue. Calls naming no queue of the configuration
 * (IAM, queue create/update) go to any queue's service, which answers as a single node does.
 * A queue with no reachable owner is UNAVAILABLE with QUEUE_OWNER_UNKNOWN or
 * QUEUE_OWNER_UNAVAILABLE at the end of the message, as the REST router says it. With
 * `--auth-token`, a call without the token is refused by the front itself, before anything is
 * forwarded, with the single node's check (authRefusal), as the REST router's guard does.
 *
 * One client is kept per address it forwards to, and closed (closeUnused, every tick) once no
 * queue's owner or local service answers there any more: nodes that restart on new ports, and
 * queues taken again on new local ports, would otherwise leave a client each, held for ever. Once
 * the front closes none is made: a call still under way is refused SHUTTING_DOWN, sent nowhere.
 */
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { ApiError } from '../server/errors.js';
import { addNotServed, authRefusal, grpcError, pageRequest, statusDetails, type GrpcAuthorize } from '../server/grpc/grpc-service.js';
import { pageOf, pageOfItems, QUEUES_LIST } from '../server/page-token.js';
import { bindGrpc, grpcServerOptions, type BoundGrpc } from '../server/grpc/bind.js';
import { ConnectionBudget, GRPC_IDLE_MS, REQUEST_TIMEOUT_MS, defaultApiServerLimits } from '../server/connection-limits.js';
import { BODY_BYTES_HELD_MAX, BodyBudget } from '../server/body-budget.js';
import { cloudTasksProtos, SERVICE_NAME } from '../server/grpc/protos.js';
import type { ClusterErrorCode } from './errors.js';
import { fateOf, ownerFailedText, sendToOwner, surelyNotTaken, type HopFate } from './not-taken.js';
import { askAgainAfterRefresh, FORWARDED_HEADER, NOT_TAKEN_HEADER } from './router.js';

const QUEUE_IN = /^projects\/[^/]+\/locations\/[^/]+\/queues\/([^/]+)/;
const LOCATION = /^projects\/[^/]+\/locations\/[^/]+$/;
/**
 * grpc-js's answer to a call it never put on a connection: the channel has none to the address
 * (refused, unreachable), so the call failed at its pick and not one byte of it was sent. A call
 * that was sent and then lost its connection says otherwise ("Connection dropped", a reset).
 */
const NEVER_SENT = /^No connection established\b/;

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

/**
 * A refusal of this node's own (UNAVAILABLE), its code in the trailer's ErrorInfo as every API
 * error has it, so a client reads it as err.reason; `notTaken`: the call reached no queue's
 * service, said in the `x-pushq-not-taken: 1` trailer (the REST router's header), so a client, or
 * the node that forwarded it, knows sending it again cannot take it twice.
 */
function refusal(code: ClusterErrorCode, text: string, notTaken: boolean): grpc.ServiceError {
  const message = `${text} (${code})`;
  const metadata = statusDetails(cloudTasksProtos(), grpc.status.UNAVAILABLE, { code, message });
  if (notTaken) metadata.set(NOT_TAKEN_HEADER, '1');
  return Object.assign(new Error(message), { code: grpc.status.UNAVAILABLE, details: message, metadata });
}

/** What one hop gave: the answer, or the error to give the caller, and what it tells of the call (not-taken.ts). */
interface Hop {
  err: grpc.ServiceError | null;
  answer: Buffer;
  fate: HopFate;
}

/** Where a call goes: a queue's service here, or (`remote`) another node's front. */
interface Place {
  address: string;
  remote: boolean;
}

/** A client to one address, and how many calls it has on their way now (it is not closed under them). */
interface Forwarder {
  client: grpc.Client;
  calls: number;
}

export class GrpcFront {
  private readonly clients = new Map<string, Forwarder>();
  /** close() has begun: no client is made any more (one made after close's sweep would never be closed). */
  private closing = false;

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
   * forwarded; `budget`: the node's bound on client connections, and `bodies` its budget of
   * request-body bytes held at once, each shared with its HTTP port (connection-limits.ts,
   * body-budget.ts): a node holds at most one budget's bytes, whichever port they came in on.
   */
  static async start(table: GrpcTable, host: string, port: number, forwardTimeoutMs: number, authorize?: GrpcAuthorize, budget = new ConnectionBudget(defaultApiServerLimits().connectionsMax), bodies = new BodyBudget(BODY_BYTES_HELD_MAX)): Promise<GrpcFront> {
    const p = cloudTasksProtos();
    const server = new grpc.Server(grpcServerOptions(GRPC_IDLE_MS, { requestMs: REQUEST_TIMEOUT_MS, bodies, busy: grpcError }));
    let front: GrpcFront | undefined;
    const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const method of p.service.methodsArray) {
      const path = `/${SERVICE_NAME}/${method.name}`;
      definition[method.name] = { path, requestStream: false, responseStream: false, requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same };
      const requestType = method.resolvedRequestType as protobuf.Type;
      // A read is a method whose REST mapping is a GET (the proto's google.api.http option), as REST reads are the GETs.
      const read = method.options?.['(google.api.http).get'] !== undefined;
      implementation[method.name] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: Callback) => void front!.answer(method.name, path, requestType, read, call, callback);
    }
    server.addService(definition, implementation);
    addNotServed(server, authorize); // the locations mixin: refused here, as one node refuses it
    const bound = await bindGrpc(server, host, port, budget); // a port in use: PORT_IN_USE, as on one node
    front = new GrpcFront(server, bound, table, forwardTimeoutMs, authorize);
    return front;
  }

  private async answer(name: string, path: string, requestType: protobuf.Type, read: boolean, call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: Callback): Promise<void> {
    // Refused here, as one node refuses it: forwarded, a ListQueues would lose each queue to its owner's refusal.
    const denied = authRefusal(this.authorize, call.metadata);
    if (denied !== undefined) return callback(grpcError(denied));
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
    if (queue === undefined || !this.table.queues().includes(queue)) return this.anywhere(path, read, call, callback, forwarded);
    this.reply(await this.toOwner(queue, path, read, call, forwarded), callback);
  }

  /**
   * Sends the call to `queue`'s owner: its service here, else the owner's front (not for a call
   * forwarded to this node: never twice). One that surely reached no queue's service (no owner
   * known, no connection made, or refused before any work) is sent once more after reading the
   * owners again, when the queue's place changed meanwhile: the rule the REST router follows too (not-taken.ts).
   */
  private async toOwner(queue: string, path: string, read: boolean, call: grpc.ServerUnaryCall<Buffer, Buffer>, forwarded: boolean): Promise<Hop> {
    const out = await sendToOwner<Place, Hop>({
      forwarded,
      place: () => {
        const local = this.table.localGrpc(queue);
        if (local !== undefined) return { address: local, remote: false };
        const remote = forwarded ? undefined : this.table.remoteGrpc(queue);
        return remote === undefined ? undefined : { address: remote, remote: true };
      },
      samePlace: (a, b) => a.address === b.address,
      send: (place) => this.hop(place.address, path, read, call.request, call.metadata, place.remote),
      fate: (hop) => hop.fate,
      refresh: () => this.table.refresh(),
    });
    if (out !== undefined) return out;
    if (forwarded) return refused('QUEUE_OWNER_UNAVAILABLE', `queue ${queue} is not (or no longer) owned by node ${this.table.node}: it is moving; retry`);
    return refused('QUEUE_OWNER_UNKNOWN', `no live node owns queue ${queue} right now (a node left and its lease has not run out, or the queue is moving); retry`);
  }

  private reply(out: Hop, callback: Callback): void {
    if (out.err !== null) return callback(out.err);
    callback(null, out.answer);
  }

  /** A call naming no queue of the configuration: any queue's service answers it as a single node would. */
  private anywhere(path: string, read: boolean, call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: Callback, forwarded: boolean): void {
    for (const q of this.table.owned()) {
      const local = this.table.localGrpc(q);
      if (local !== undefined) return void this.hop(local, path, read, call.request, call.metadata, false).then((out) => this.reply(out, callback));
    }
    if (!forwarded) {
      for (const q of this.table.queues()) {
        const remote = this.table.remoteGrpc(q);
        if (remote !== undefined) return void this.hop(remote, path, read, call.request, call.metadata, true).then((out) => this.reply(out, callback));
      }
    }
    this.reply(refused('QUEUE_OWNER_UNKNOWN', 'no node that owns a queue is known to answer this call; retry'), callback);
  }

  /** One hop of the call to `address` (a queue's service here, or, `remote`, another node's front), with what it gave; `read`: the call changes nothing. */
  private hop(address: string, path: string, read: boolean, request: Buffer, incoming: grpc.Metadata, remote: boolean): Promise<Hop> {
    // A call still on its way here when the front closed (waiting for the owners to be read again,
    // past the forced shutdown) is refused as the rest of the shutdown refuses it, sent nowhere.
    if (this.closing) return Promise.resolve(this.shuttingDown());
    let forwarder = this.clients.get(address);
    if (forwarder === undefined) {
      forwarder = { client: new grpc.Client(address, grpc.credentials.createInsecure()), calls: 0 };
      this.clients.set(address, forwarder);
    }
    const metadata = new grpc.Metadata();
    for (const auth of incoming.get('authorization')) metadata.add('authorization', auth);
    if (remote) metadata.set(FORWARDED_HEADER, this.table.node);
    const used = forwarder;
    used.calls++;
    return new Promise<Hop>((resolve) => {
      used.client.makeUnaryRequest(path, same, same, request, metadata, { deadline: Date.now() + this.forwardTimeoutMs }, (err, answer) => {
        used.calls--;
        resolve(err === null ? { err: null, answer: answer ?? Buffer.alloc(0), fate: 'may-have-arrived' } : this.failed(err, address, remote, read));
      });
    });
  }

  /** A hop's error as the caller gets it, and what it tells of the call. */
  private failed(err: grpc.ServiceError, address: string, remote: boolean, read: boolean): Hop {
    const unavailable = err.code === grpc.status.UNAVAILABLE;
    // The owner's front said so itself (its own refusal, before any queue's service): passed on, mark and all.
    const marked = err.metadata.get(NOT_TAKEN_HEADER)[0] === '1';
    // This node's queue began to end while the call was on its way to the queue's service, which
    // refused it at its door (SHUTTING_DOWN, before any work): the node runs, the queue is moving.
    const closedHere = !remote && unavailable && /\(SHUTTING_DOWN\)$/.test(err.details);
    // Any status but UNAVAILABLE, or the owner's own answer (an API error with its details, or a front's QUEUE_OWNER_* of before the mark): given as it is.
    const asItIs = !unavailable || err.metadata.get('grpc-status-details-bin').length > 0 || /\(QUEUE_OWNER_/.test(err.details);
    const fate = fateOf({ refusedBeforeWork: marked || closedHere, speaksForItself: asItIs, neverSent: NEVER_SENT.test(err.details) });
    if (marked) return { err, answer: Buffer.alloc(0), fate };
    if (closedHere) return refused('QUEUE_OWNER_UNAVAILABLE', `the queue's service on node ${this.table.node} stopped taking calls (the queue is moving); not taken, retry`, fate);
    if (asItIs) return { err, answer: Buffer.alloc(0), fate };
    return refused('QUEUE_OWNER_UNAVAILABLE', ownerFailedText(address, err.details, fate, read), fate);
  }

  /**
   * Closes the client of each address no queue's owner nor local service answers at now (a node
   * gone, or restarted on other ports; a queue given up here), unless calls are on their way on it.
   * The node calls it at every tick, once it has read the owners.
   */
  closeUnused(): void {
    const wanted = new Set<string>();
    for (const q of this.table.queues()) {
      const local = this.table.localGrpc(q);
      if (local !== undefined) wanted.add(local);
      const remote = this.table.remoteGrpc(q);
      if (remote !== undefined) wanted.add(remote);
    }
    for (const [address, forwarder] of this.clients) {
      if (wanted.has(address) || forwarder.calls > 0) continue;
      forwarder.client.close();
      this.clients.delete(address);
    }
  }

  /** The addresses this front holds a client for now. */
  clientAddresses(): string[] {
    return [...this.clients.keys()];
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
        void this.hop(address, path, true, request, call.metadata, this.table.localGrpc(queue) === undefined).then((out) => resolve(out.err !== null ? null : queueType.decode(out.answer)));
      });
    // A forwarded call is answered from what this node owns: only the first node reads the owners again.
    const found = forwarded ? Promise.all(page.items.map(ask)) : askAgainAfterRefresh(this.table, page.items, ask);
    void found.then((queues) => callback(null, Buffer.from(listType.encode(listType.create({ queues: queues.filter((q) => q !== null), nextPageToken: page.nextPageToken ?? '' })).finish())));
  }

  /** The refusal of a call the closing front will not send on: SHUTTING_DOWN, as a stopping service says it, marked not taken (nothing was sent). */
  private shuttingDown(): Hop {
    const status = grpcError(new ApiError('SHUTTING_DOWN', `node ${this.table.node}'s gRPC front is shutting down; the call was not sent on, retry (another node)`));
    status.metadata.set(NOT_TAKEN_HEADER, '1');
    return { err: Object.assign(new Error(status.details), status), answer: Buffer.alloc(0), fate: 'refused-before-work' };
  }

  async close(): Promise<void> {
    this.closing = true;
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
    for (const f of this.clients.values()) f.client.close();
    this.clients.clear();
  }
}

/** A refusal of this node's own, marked not taken when the call surely reached no queue's service (by default: nothing was sent anywhere). */
function refused(code: ClusterErrorCode, text: string, fate: HopFate = 'never-sent'): Hop {
  return { err: refusal(code, text, surelyNotTaken(fate)), answer: Buffer.alloc(0), fate };
}
