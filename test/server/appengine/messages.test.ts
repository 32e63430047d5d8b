/**
 * pushq's remote API definitions (src/server/appengine/messages.ts) against Google's own .proto
 * files, from Debian's golang-google-appengine-dev (installed by .ci/ensure-go.sh): every field
 * pushq declares has Google's number, type and cardinality (required included), and every error code its number. The
 * codec is also pinned to hand-assembled wire bytes, groups included, independent of protobufjs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { DATASTORE_ERROR, MESSAGES, QUEUE_MODE, REQUEST_METHOD, ROOT, RPC_ERROR, TASK_QUEUE_ERROR } from '../../../src/server/appengine/messages.js';

const INTERNAL = '/usr/share/gocode/src/google.golang.org/appengine/internal';
const REMOTE_API = join(INTERNAL, 'remote_api/remote_api.proto');
const TASKQUEUE = join(INTERNAL, 'taskqueue/taskqueue_service.proto');
const DATASTORE = join(INTERNAL, 'datastore/datastore_v3.proto');

function google(file: string, pkg: string): protobuf.Namespace {
  if (!existsSync(file)) throw new Error(`${file} is missing: run bash .ci/ensure-go.sh (Debian: apt-get install golang-go golang-google-appengine-dev)`);
  return protobuf.parse(readFileSync(file, 'utf8'), { keepCase: true }).root.lookup(pkg) as protobuf.Namespace;
}

/** Fields pushq declares that Go's files lack, and why: the Python library's newer fields. */
const KNOWN_DIFFERENCES = new Set(['TaskQueueAddRequest.datastore_transaction', 'TaskQueueAddRequest.dispatch_deadline_usec']);
const PYTHON_ONLY_CODES = new Set(['INVALID_LOGGING_CONFIG', 'INVALID_DISPATCH_DEADLINE']);

/** A field's type as Google writes it, with pushq's package prefix dropped. */
function typeName(f: protobuf.Field): string {
  return f.type.replace(/^.*\./, '');
}

function compareType(ours: protobuf.Type, theirs: protobuf.Type, path: string): void {
  for (const f of ours.fieldsArray) {
    const key = `${path}.${f.name}`;
    if (KNOWN_DIFFERENCES.has(key)) continue;
    const g = theirs.fields[f.name];
    expect(g, `${key} in Google's ${theirs.name}`).toBeDefined();
    expect(f.id, `${key}: field number`).toBe(g!.id);
    expect(typeName(f), `${key}: type`).toBe(typeName(g!));
    expect(f.repeated, `${key}: repeated`).toBe(g!.repeated);
    // Required where Google's is (a request without it is PARSE_ERROR: required-fields.test.ts).
    // The rule as written (`required` reads features that Google's unresolved root has not).
    expect(f.toJSON().rule, `${key}: required`).toBe(g!.toJSON().rule);
    if (f.resolvedType instanceof protobuf.Type && theirs.nested?.[f.resolvedType.name] instanceof protobuf.Type) {
      compareType(f.resolvedType, theirs.nested[f.resolvedType.name] as protobuf.Type, `${path}.${f.resolvedType.name}`);
    }
  }
}

describe("pushq's messages agree with Google's .proto files", () => {
  const ours = ROOT.lookup('pushq_appengine') as protobuf.Namespace;

  it('remote_api: Request, Response, ApplicationError, RpcError and its codes', () => {
    const g = google(REMOTE_API, 'remote_api');
    for (const name of ['Request', 'Response', 'ApplicationError', 'RpcError']) compareType(ours.lookupType(name), g.lookupType(name), name);
    expect(RPC_ERROR).toEqual(g.lookupEnum('RpcError.ErrorCode').values);
  });

  it('taskqueue: every message pushq reads or writes, field by field', () => {
    const g = google(TASKQUEUE, 'appengine');
    const names = ours.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type && n.name.startsWith('TaskQueue') && n.fieldsArray.length > 0);
    expect(names.length).toBeGreaterThanOrEqual(15);
    for (const t of names) compareType(t, g.lookupType(t.name), t.name);
  });

  it('taskqueue: the error codes, request methods and modes', () => {
    const g = google(TASKQUEUE, 'appengine');
    const codes = Object.fromEntries(Object.entries(TASK_QUEUE_ERROR).filter(([name]) => !PYTHON_ONLY_CODES.has(name)));
    expect(codes).toEqual(g.lookupEnum('TaskQueueServiceError.ErrorCode').values);
    expect(REQUEST_METHOD).toEqual(g.lookupEnum('TaskQueueAddRequest.RequestMethod').values);
    expect(QUEUE_MODE).toEqual(g.lookupEnum('TaskQueueMode.Mode').values);
  });
});

describe("pushq's datastore_v3 messages (transactional tasks) agree with Google's datastore_v3.proto", () => {
  const ours = ROOT.lookup('pushq_appengine') as protobuf.Namespace;

  it('Transaction, BeginTransactionRequest, InternalHeader; CommitResponse has no field Google lacks', () => {
    const g = google(DATASTORE, 'appengine');
    for (const name of ['Transaction', 'BeginTransactionRequest', 'InternalHeader', 'CommitResponse']) compareType(ours.lookupType(name), g.lookupType(name), name);
    expect(ours.lookupEnum('BeginTransactionRequest.TransactionMode').values).toEqual(g.lookupEnum('BeginTransactionRequest.TransactionMode').values);
  });

  it('the Datastore error codes', () => {
    expect(DATASTORE_ERROR).toEqual(google(DATASTORE, 'appengine').lookupEnum('Error.ErrorCode').values);
  });

  it("a Transaction written by hand decodes: Go's fixed64 handle and app", () => {
    // handle (1, fixed64) = 0x0102030405060708, app (2) = "a"
    const bytes = Buffer.from([0x09, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x12, 0x01, 0x61]);
    const t = MESSAGES.Transaction.decode(bytes) as any;
    expect(t.handle.toString(16)).toBe('102030405060708');
    expect(t.app).toBe('a');
    expect(Buffer.from(MESSAGES.Transaction.encode(t).finish())).toEqual(bytes);
  });
});

describe('the codec on the wire', () => {
  // TaskQueueAddRequest{queue_name "q", task_name "", eta_usec 300, Header{key "k", value "v"}, body "b"},
  // written by hand: tags are (number << 3 | wire type); a group opens with type 3 and closes with type 4.
  const ADD = Buffer.from([0x0a, 0x01, 0x71, 0x12, 0x00, 0x18, 0xac, 0x02, 0x33, 0x3a, 0x01, 0x6b, 0x42, 0x01, 0x76, 0x34, 0x4a, 0x01, 0x62]);

  it('decodes a hand-made TaskQueueAddRequest, its Header group included, with proto2 defaults for what is absent', () => {
    const m = MESSAGES.AddRequest.decode(ADD) as any;
    expect(Buffer.from(m.queue_name).toString()).toBe('q');
    expect(Number(m.eta_usec)).toBe(300);
    expect(m.header.map((h: any) => [Buffer.from(h.key).toString(), Buffer.from(h.value).toString()])).toEqual([['k', 'v']]);
    expect(Buffer.from(m.body).toString()).toBe('b');
    expect(m.method).toBe(REQUEST_METHOD.POST);
    expect(Object.hasOwn(m, 'method')).toBe(false);
  });

  it('encodes a BulkAdd answer as groups, and an error Response as App Engine lays it out', () => {
    const bulk = MESSAGES.BulkAddResponse.encode(MESSAGES.BulkAddResponse.create({ taskResult: [{ result: 0, chosen_task_name: Buffer.from('t') }, { result: 17 }] })).finish();
    expect(Buffer.from(bulk).toString('hex')).toBe(Buffer.from([0x0b, 0x10, 0x00, 0x1a, 0x01, 0x74, 0x0c, 0x0b, 0x10, 0x11, 0x0c]).toString('hex'));
    const err = MESSAGES.Response.encode(MESSAGES.Response.create({ application_error: { code: 10, detail: 'x' } })).finish();
    expect(Buffer.from(err).toString('hex')).toBe(Buffer.from([0x1a, 0x05, 0x08, 0x0a, 0x12, 0x01, 0x78]).toString('hex'));
  });

  it('skips fields it does not know (the Java runtime sends a trace context in the Request)', () => {
    const known = MESSAGES.Request.encode(MESSAGES.Request.create({ service_name: 'taskqueue', method: 'Add', request: Buffer.alloc(0) })).finish();
    const withTrace = Buffer.concat([Buffer.from(known), Buffer.from([0x32, 0x02, 0x01, 0x02])]);
    const m = MESSAGES.Request.decode(withTrace) as any;
    expect([m.service_name, m.method]).toEqual(['taskqueue', 'Add']);
  });

  it('refuses a Request without its required fields', () => {
    expect(() => MESSAGES.Request.decode(Buffer.from([0x12, 0x01, 0x61]))).toThrow(/missing required/);
  });
});
