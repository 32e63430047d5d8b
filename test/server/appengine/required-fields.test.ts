/**
 * A taskqueue request missing a field that Google's taskqueue_service.proto marks `required` (an
 * Add without `eta_usec`, a Delete without `queue_name`, ...) is refused as a request that does
 * not decode: `rpc_error` PARSE_ERROR naming the field, nothing logged, nothing added. App
 * Engine's libraries always send these fields (an unnamed task has an empty `task_name`). The
 * fields are those pushq's definitions mark required (messages.test.ts checks them against
 * Google's file), and docs/app-engine.md lists them per method.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQueueConfig } from '../../../src/config/parse.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../../src/log/event-log.js';
import { MemoryEventLog } from '../../../src/log/memory-log.js';
import { MESSAGES, RPC_ERROR } from '../../../src/server/appengine/messages.js';
import { PushqService } from '../../../src/server/service.js';
import { addRequest, encodeMessage, envelope, postRpc, withoutField } from '../../helpers/remote-api.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

type MessageName = keyof typeof MESSAGES;

/** Each method pushq decodes a request of, with a request that has every field it requires. */
const CALLS: readonly { method: string; type: MessageName; request: Record<string, unknown> }[] = [
  { method: 'Add', type: 'AddRequest', request: addRequest('fast', { header: [{ key: Buffer.from('X-Job'), value: Buffer.from('1') }] }) },
  { method: 'BulkAdd', type: 'BulkAddRequest', request: { add_request: [addRequest('fast')] } },
  { method: 'Delete', type: 'DeleteRequest', request: { queue_name: Buffer.from('fast'), task_name: [Buffer.from('t')] } },
  { method: 'ForceRun', type: 'ForceRunRequest', request: { queue_name: Buffer.from('fast'), task_name: Buffer.from('t') } },
  { method: 'PurgeQueue', type: 'PurgeQueueRequest', request: { queue_name: Buffer.from('fast') } },
  { method: 'PauseQueue', type: 'PauseQueueRequest', request: { app_id: Buffer.from('s~app'), queue_name: Buffer.from('fast'), pause: false } },
  { method: 'FetchQueues', type: 'FetchQueuesRequest', request: { max_rows: 0 } },
  { method: 'FetchQueueStats', type: 'FetchQueueStatsRequest', request: { queue_name: [Buffer.from('fast')] } },
];

let service: PushqService;
let base: string;

beforeAll(async () => {
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  const config = parseQueueConfig('queue:\n- name: fast\n  rate: 5/s\n', { file: 'queue.yaml' }).config!;
  service = await PushqService.start({ config, targets: {}, log });
  base = service.url;
});

afterAll(async () => {
  await service?.close(1000);
});

const events = (): number => service.kernel.state.eventsApplied;

/** Sends `bytes` as `method`'s message; the rpc_error, or null. */
async function rpcErrorOf(method: string, bytes: Uint8Array): Promise<{ code: number; detail: string } | null> {
  const r = await postRpc(base, envelope('taskqueue', method, bytes));
  expect(r.httpStatus).toBe(200);
  return r.response.rpc_error ?? null;
}

/** The required fields of `type` and of the messages in it (a header's key and value, a Transaction's handle and app). */
function requiredFields(type: protobuf.Type): string[] {
  const out: string[] = [];
  for (const f of type.fieldsArray) {
    if (f.required) out.push(f.name);
    if (f.resolvedType instanceof protobuf.Type) out.push(...requiredFields(f.resolvedType));
  }
  return out;
}

describe('a taskqueue request missing a required field is PARSE_ERROR, as one that does not decode', () => {
  it('each request with every required field is taken (not PARSE_ERROR)', async () => {
    for (const { method, type, request } of CALLS) expect(await rpcErrorOf(method, encodeMessage(type, request)), method).toBeNull();
  });

  it('without any one of them, it is refused naming the field, and nothing is logged', async () => {
    let refused = 0;
    for (const { method, type, request } of CALLS) {
      const t = MESSAGES[type];
      for (const f of t.fieldsArray.filter((x) => x.required)) {
        const before = events();
        const e = await rpcErrorOf(method, withoutField(encodeMessage(type, request), f.id));
        expect(e, `${method} without ${f.name}`).not.toBeNull();
        expect(e!.code, `${method} without ${f.name}`).toBe(RPC_ERROR.PARSE_ERROR);
        expect(e!.detail).toBe(`the request of taskqueue.${method} is not a ${t.name}: missing required '${f.name}' (PARSE_ERROR)`);
        expect(events(), `${method} without ${f.name}: nothing logged`).toBe(before);
        refused++;
      }
    }
    expect(refused).toBe(11); // Add 3, Delete 1, ForceRun 2, PurgeQueue 1, PauseQueue 3, FetchQueues 1 (nested ones: below)
  });

  it('an Add without eta_usec adds no task; nor does a batch with one such task, nor a header without its value', async () => {
    const tasks = () => service.kernel.state.queueByName.get('fast')!.countByState.reduce((a, b) => a + b, 0);
    const before = { events: events(), tasks: tasks() };
    const noEta = withoutField(encodeMessage('AddRequest', addRequest('fast')), 3);
    const batch = protobuf.Writer.create();
    for (const task of [encodeMessage('AddRequest', addRequest('fast')), noEta]) batch.uint32((1 << 3) | 2).bytes(task);
    const e = await rpcErrorOf('BulkAdd', batch.finish());
    expect(e?.code).toBe(RPC_ERROR.PARSE_ERROR);
    expect(e?.detail).toMatch(/missing required 'eta_usec'/);
    // Header is a group (field 6: start 3, end 4) of key 7 and value 8.
    const header = protobuf.Writer.create();
    header.uint32((6 << 3) | 3).uint32((7 << 3) | 2).bytes(Buffer.from('X-Job')).uint32((6 << 3) | 4);
    const noValue = Buffer.concat([withoutField(encodeMessage('AddRequest', addRequest('fast')), 6), header.finish()]);
    expect((await rpcErrorOf('Add', noValue))?.detail).toMatch(/missing required 'value'/);
    expect((await rpcErrorOf('Add', noEta))?.detail).toMatch(/missing required 'eta_usec'/);
    expect({ events: events(), tasks: tasks() }).toEqual(before);
  });

  it('docs/app-engine.md lists the required fields of each method, as the definitions mark them', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'app-engine.md'), 'utf8');
    const table = doc.slice(doc.indexOf('| method | required fields |'));
    for (const { method, type } of CALLS) {
      const row = new RegExp(`^\\| \`${method}\`[^|]*\\| ([^|]+) \\|$`, 'm').exec(table);
      expect(row, `${method}'s row`).not.toBeNull();
      const listed = row![1]!.trim() === 'none' ? [] : [...row![1]!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!);
      // BulkAdd's row says "each task's, as `Add`": an Add's fields, for each of its add_request.
      const as = /as `([A-Za-z]+)`/.exec(row![1]!)?.[1];
      const expected = as === undefined ? requiredFields(MESSAGES[type]) : requiredFields(MESSAGES[CALLS.find((c) => c.method === as)!.type]);
      if (as !== undefined) expect(requiredFields(MESSAGES[type]).sort(), `${method}: ${as}'s fields, in its repeated ${as} message`).toEqual(expected.sort());
      else expect(listed.sort(), method).toEqual(expected.sort());
    }
  });
});
