/**
 * `google.cloud.tasks.v2.CloudTasks` over gRPC (@grpc/grpc-js), on its own port (`--grpc-port`),
 * beside the REST API and on the same engine: every call is an operation of operations.ts, so
 * validation, errors and durability are REST's.
 *
 * - A request is decoded here (a body that is no message of its type is INVALID_ARGUMENT), its
 *   resource name split into project, location, queue and task as the REST path would be.
 * - An error is REST's ApiError with the matching gRPC status code; its message is the same text
 *   ending in its code, and the trailer `grpc-status-details-bin` carries a google.rpc.Status whose
 *   details are an ErrorInfo (reason: the code) and, when a field is at fault, a BadRequest naming
 *   it, as Google's own services send them (the official clients decode both).
 * - A message larger than REQUEST_BODY_BYTES_MAX is refused by grpc-js from its length prefix,
 *   before it is read (RESOURCE_EXHAUSTED): no handler runs for it.
 * - Queue create / update / delete are FAILED_PRECONDITION (queues come from queue.yaml); the IAM
 *   calls, and the locations mixin's (a service of its own: addNotServed), are UNIMPLEMENTED.
 * - With `--auth-token`, every call needs the metadata `authorization: Bearer TOKEN`.
 */
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { ApiError, ERROR_DOMAIN, toApiError, type ApiOperation, type GoogleStatus } from '../errors.js';
import { changeQueue, createTask, deleteTask, getQueue, getTask, listQueues, listTasks, NOT_SERVED, notServed, notServedError, queuesAreFromYaml, runTask, type ApiContext } from '../operations.js';
import type { PageRequest } from '../page-token.js';
import { parseView, type Location } from '../resources.js';
import type { InputNames } from '../start-errors.js';
import { bindGrpc, grpcServerOptions, type BoundGrpc } from './bind.js';
import { BODY_BYTES_HELD_MAX, BodyBudget } from '../body-budget.js';
import { ConnectionBudget, GRPC_IDLE_MS, REQUEST_TIMEOUT_MS, defaultApiServerLimits } from '../connection-limits.js';
import { cloudTasksProtos, SERVICE_NAME, type CloudTasksProtos } from './protos.js';
import { jsonToMessage, messageToJson } from './proto-json.js';

/** google.rpc.Code by status name. */
const GRPC_CODE: Readonly<Record<GoogleStatus, grpc.status>> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  UNIMPLEMENTED: grpc.status.UNIMPLEMENTED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  DATA_LOSS: grpc.status.DATA_LOSS,
  INTERNAL: grpc.status.INTERNAL,
};

type Request = Record<string, unknown>;
type Operation = (ctx: ApiContext, request: Request) => Promise<Record<string, unknown>> | Record<string, unknown>;

const LOCATION = /^projects\/([^/]+)\/locations\/([^/]+)$/;
const QUEUE = /^projects\/([^/]+)\/locations\/([^/]+)\/queues\/([^/]+)$/;
const TASK = /^projects\/([^/]+)\/locations\/([^/]+)\/queues\/([^/]+)\/tasks\/([^/]+)$/;

function resource(request: Request, field: 'name' | 'parent', pattern: RegExp, shape: string): { loc: Location; queue: string; task: string } {
  const value = request[field];
  const m = typeof value === 'string' ? pattern.exec(value) : null;
  if (m === null) throw new ApiError('INVALID_FIELD', `${field} ${JSON.stringify(String(value ?? '')).slice(0, 200)} is not ${shape}`, field);
  return { loc: { project: m[1] as string, location: m[2] as string }, queue: m[3] ?? '', task: m[4] ?? '' };
}

const queueOf = (r: Request, field: 'name' | 'parent' = 'name') => resource(r, field, QUEUE, 'projects/PROJECT/locations/LOCATION/queues/QUEUE');
const taskOf = (r: Request) => resource(r, 'name', TASK, 'projects/PROJECT/locations/LOCATION/queues/QUEUE/tasks/TASK');
/** The page a List call asks for (a cluster node's gRPC front reads ListQueues' with it too). */
export const pageRequest = (r: Request): PageRequest => ({ pageSize: (r['pageSize'] as number | undefined) ?? 0, pageToken: (r['pageToken'] as string | undefined) ?? '', filter: (r['filter'] as string | undefined) ?? '' });

/** The served methods, by their name in the service. */
const OPERATIONS: Readonly<Record<string, Operation>> = {
  ListQueues: (ctx, r) => listQueues(ctx, resource(r, 'parent', LOCATION, 'projects/PROJECT/locations/LOCATION').loc, pageRequest(r)),
  GetQueue: (ctx, r) => {
    const q = queueOf(r);
    return getQueue(ctx, q.loc, q.queue);
  },
  CreateQueue: () => queuesAreFromYaml(),
  UpdateQueue: () => queuesAreFromYaml(),
  DeleteQueue: () => queuesAreFromYaml(),
  PurgeQueue: (ctx, r) => {
    const q = queueOf(r);
    return changeQueue(ctx, q.loc, q.queue, 'purge');
  },
  PauseQueue: (ctx, r) => {
    const q = queueOf(r);
    return changeQueue(ctx, q.loc, q.queue, 'pause');
  },
  ResumeQueue: (ctx, r) => {
    const q = queueOf(r);
    return changeQueue(ctx, q.loc, q.queue, 'resume');
  },
  ListTasks: (ctx, r) => {
    const q = queueOf(r, 'parent');
    return listTasks(ctx, q.loc, q.queue, pageRequest(r), parseView(r['responseView']));
  },
  GetTask: (ctx, r) => {
    const t = taskOf(r);
    return getTask(ctx, t.loc, t.queue, t.task, parseView(r['responseView']));
  },
  CreateTask: (ctx, r) => {
    const q = queueOf(r, 'parent');
    // The task is required (REST: `task is required`); an empty message is no task.
    return createTask(ctx, q.loc, q.queue, { task: r['task'], responseView: r['responseView'] });
  },
  DeleteTask: (ctx, r) => {
    const t = taskOf(r);
    return deleteTask(ctx, t.queue, t.task);
  },
  RunTask: (ctx, r) => {
    const t = taskOf(r);
    return runTask(ctx, t.loc, t.queue, t.task, parseView(r['responseView']));
  },
};

/**
 * The metadata of an error with stable code `e.code`: google.rpc.Status with ErrorInfo and, for a
 * field, BadRequest. An ApiError's, and a cluster node's own refusals' (cluster/grpc-front.ts).
 */
export function statusDetails(p: CloudTasksProtos, code: grpc.status, e: { code: string; message: string; field?: string | undefined }): grpc.Metadata {
  const any = (type: protobuf.Type, value: Record<string, unknown>): Record<string, unknown> => ({
    type_url: `type.googleapis.com/${type.fullName.replace(/^\./, '')}`,
    value: type.encode(type.fromObject(value)).finish(),
  });
  const details = [any(p.errorInfo, { reason: e.code, domain: ERROR_DOMAIN })];
  if (e.field !== undefined) details.push(any(p.badRequest, { fieldViolations: [{ field: e.field, description: e.message }] }));
  const status = p.status.encode(p.status.fromObject({ code, message: e.message, details })).finish();
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(status));
  return metadata;
}

/** An ApiError as a gRPC error: its status code, its message, and the details in the trailer (a cluster node's gRPC front answers its own calls with it too). */
export function grpcError(e: ApiError): grpc.StatusObject {
  const code = GRPC_CODE[e.status];
  return { code, details: e.message, metadata: statusDetails(cloudTasksProtos(), code, e) };
}

/** Checks a call's `authorization` metadata value (`--auth-token`): RequestGuard.acceptsAuthorization. */
export type GrpcAuthorize = (authorization: string | undefined) => boolean;

/**
 * The refusal of a call whose metadata does not carry the token (AUTH_REQUIRED, UNAUTHENTICATED),
 * or undefined when it does or none is asked (`authorize` absent). One definition for a node's
 * service and a cluster node's gRPC front, which checks it before it forwards anything.
 */
export function authRefusal(authorize: GrpcAuthorize | undefined, metadata: grpc.Metadata): ApiError | undefined {
  if (authorize === undefined) return undefined;
  const given = metadata.get('authorization')[0];
  if (authorize(typeof given === 'string' ? given : undefined)) return undefined;
  return new ApiError('AUTH_REQUIRED', given === undefined ? 'this server needs the metadata authorization: Bearer TOKEN (the --auth-token it was started with)' : 'the authorization metadata does not carry this server\'s token');
}

const bytes = (b: Buffer): Buffer => b;

/**
 * The services beside CloudTasks that the official clients call on the same channel (the
 * locations mixin: newer Go clients' Client.GetLocation and ListLocations, Node's getLocation),
 * registered so that each of their NOT_SERVED methods is refused as REST refuses it:
 * UNSUPPORTED_METHOD (UNIMPLEMENTED) saying why, with the ErrorInfo. Unregistered, grpc-js
 * answered them itself: UNIMPLEMENTED "The server does not implement the method ...", no code,
 * no reason, no details. A node's service and a cluster node's gRPC front both add them (the
 * front answers them itself: there is nothing to forward).
 */
export function addNotServed(server: grpc.Server, authorize: GrpcAuthorize | undefined): void {
  const services = new Map<string, { definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>>; implementation: grpc.UntypedServiceImplementation }>();
  for (const full of Object.keys(NOT_SERVED)) {
    const dot = full.lastIndexOf('.');
    const service = full.slice(0, dot);
    const method = full.slice(dot + 1);
    if (service === SERVICE_NAME) continue; // CloudTasks' own methods: the service's handler refuses them
    let s = services.get(service);
    if (s === undefined) services.set(service, (s = { definition: {}, implementation: {} }));
    s.definition[method] = { path: `/${service}/${method}`, requestStream: false, responseStream: false, requestSerialize: bytes, requestDeserialize: bytes, responseSerialize: bytes, responseDeserialize: bytes };
    s.implementation[method] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(grpcError(authRefusal(authorize, call.metadata) ?? notServedError(full)), null);
  }
  for (const { definition, implementation } of services.values()) server.addService(definition, implementation);
}

export interface GrpcServiceOptions {
  host: string;
  port: number;
  /** Checks an `authorization` value (`--auth-token`); absent: no authentication. */
  authorize?: GrpcAuthorize;
  /** How a refusal names the port: as the flag `--grpc-port` (default) or the option `grpcPort`. */
  inputNames?: InputNames;
  /** The bound its connections count against, shared with the service's HTTP port (connection-limits.ts); default: a bound of its own. */
  budget?: ConnectionBudget;
  /** A connection without a call this long is closed (default GRPC_IDLE_MS). */
  idleMs?: number;
  /** A call whose request has not arrived whole this long after its start is answered DEADLINE_EXCEEDED and reset (default REQUEST_TIMEOUT_MS). */
  requestMs?: number;
  /** The body budget its calls' bytes count in, shared with the service's HTTP port (body-budget.ts); default: one of its own. */
  bodies?: BodyBudget;
}

export class GrpcService {
  private constructor(
    private readonly server: grpc.Server,
    private readonly bound: BoundGrpc,
  ) {}

  /** The port bound (the one asked for, or a free one for 0). */
  get port(): number {
    return this.bound.port;
  }

  static async start(ctx: ApiContext, options: GrpcServiceOptions): Promise<GrpcService> {
    const p = cloudTasksProtos();
    const server = new grpc.Server(grpcServerOptions(options.idleMs ?? GRPC_IDLE_MS, { requestMs: options.requestMs ?? REQUEST_TIMEOUT_MS, bodies: options.bodies ?? new BodyBudget(BODY_BYTES_HELD_MAX), busy: grpcError }));
    const definition: Record<string, grpc.MethodDefinition<Buffer, Uint8Array>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const method of p.service.methodsArray) {
      const requestType = method.resolvedRequestType as protobuf.Type;
      const responseType = method.resolvedResponseType as protobuf.Type;
      definition[method.name] = {
        path: `/${SERVICE_NAME}/${method.name}`,
        requestStream: false,
        responseStream: false,
        // Bytes in, bytes out: decoding happens in the handler, where a bad body is an ApiError.
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
        responseDeserialize: (b: Buffer) => b,
      };
      const op: ApiOperation = method.name === 'CreateTask' ? 'create' : 'other';
      implementation[method.name] = (call: grpc.ServerUnaryCall<Buffer, Uint8Array>, callback: grpc.sendUnaryData<Uint8Array>) => {
        answer(ctx, options, method.name, requestType, responseType, call).then(
          (bytes) => callback(null, bytes),
          (err: unknown) => {
            const e = toApiError(err, op);
            if (e.status === 'INTERNAL') process.stderr.write(`pushq serve: internal error in gRPC ${method.name}: ${(err as Error)?.stack ?? String(err)}\n`);
            callback(grpcError(e), null);
          },
        );
      };
    }
    server.addService(definition, implementation);
    addNotServed(server, options.authorize);
    return new GrpcService(server, await bindGrpc(server, options.host, options.port, options.budget ?? new ConnectionBudget(defaultApiServerLimits().connectionsMax), options.inputNames));
  }

  /** Stops taking calls; calls in progress get `graceMs` to finish, then connections are cut. */
  async close(graceMs = 1000): Promise<void> {
    this.bound.close();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}

async function answer(ctx: ApiContext, options: GrpcServiceOptions, name: string, requestType: protobuf.Type, responseType: protobuf.Type, call: grpc.ServerUnaryCall<Buffer, Uint8Array>): Promise<Uint8Array> {
  const refused = authRefusal(options.authorize, call.metadata);
  if (refused !== undefined) throw refused;
  if (ctx.stopping) throw new ApiError('SHUTTING_DOWN', 'pushq is shutting down');
  const operation = Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name] : undefined;
  if (operation === undefined) notServed(`${SERVICE_NAME}.${name}`);
  let request: Request;
  try {
    request = messageToJson(requestType, requestType.decode(call.request));
  } catch (err) {
    throw new ApiError('INVALID_FIELD', `the request is not a ${requestType.name} message: ${(err as Error).message}`);
  }
  return jsonToMessage(responseType, await operation(ctx, request));
}
