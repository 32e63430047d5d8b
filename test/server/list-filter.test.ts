/**
 * ListQueues' `filter` (`state: PAUSED`, Cloud Tasks' sample): pushq does not filter, so a list
 * given one is refused (INVALID_ARGUMENT on `filter`), over REST and gRPC alike, instead of
 * answered whole, which a client cannot tell from a filtered answer (every queue, paused or not,
 * for `state: PAUSED`). An empty filter is no filter. In-process PushqService on a memory log.
 */
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQueueConfig, requireValidConfig } from '../../src/index.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { MemoryEventLog } from '../../src/log/memory-log.js';
import { PushqService } from '../../src/server/service.js';
import { api } from '../helpers/serve-process.js';

const config = requireValidConfig(parseQueueConfig('queue:\n- name: a\n  rate: 1/s\n- name: b\n  rate: 1/s\n', { file: 'queue.yaml' }));

let log: MemoryEventLog;
let service: PushqService;
let base: string;
let client: CloudTasksClient;

beforeAll(async () => {
  log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  service = await PushqService.start({ config, targets: {}, log, tombstoneSeconds: 9 * 86_400 });
  base = `${service.url}/v2/projects/p/locations/l/queues`;
  client = new CloudTasksClient({ apiEndpoint: '127.0.0.1', port: service.grpcPort as number, sslCreds: grpc.credentials.createInsecure() });
  expect((await api('POST', `${base}/a:pause`, {})).status).toBe(200);
});

afterAll(async () => {
  await client?.close();
  await service?.close(1000);
});

const fieldOf = (violations: any): string | undefined => violations?.[0]?.fieldViolations?.[0]?.field;

describe('ListQueues with a filter', () => {
  it.each(['state: PAUSED', 'state = RUNNING', 'garbage('])('REST: %j is refused on filter, the log unchanged', async (filter) => {
    await log.flush();
    const before = log.length;
    const r = await api('GET', `${base}?filter=${encodeURIComponent(filter)}`);
    expect(r.status, JSON.stringify(r.json)).toBe(400);
    expect(r.json.error.status).toBe('INVALID_ARGUMENT');
    expect(r.json.error.message).toBe(`filter ${JSON.stringify(filter)} is not supported: pushq does not filter lists; list them whole and select by the resource's fields (a queue's state) (INVALID_FIELD)`);
    expect(fieldOf(r.json.error.details)).toBe('filter');
    expect(log.length).toBe(before);
  });

  it('gRPC: a filter is refused on filter (INVALID_ARGUMENT), not answered with every queue', async () => {
    let err: any;
    try {
      await client.listQueues({ parent: 'projects/p/locations/l', filter: 'state: PAUSED' }, { autoPaginate: false });
    } catch (e) {
      err = e;
    }
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.reason).toBe('INVALID_FIELD');
    expect(fieldOf((err.statusDetails ?? []).filter((d: any) => Array.isArray(d.fieldViolations)))).toBe('filter');
  });

  it('no filter, or an empty one, lists every queue (REST and gRPC)', async () => {
    for (const url of [base, `${base}?filter=`]) {
      const r = await api('GET', url);
      expect(r.status).toBe(200);
      expect(r.json.queues.map((q: any) => `${q.name.split('/').pop()} ${q.state}`)).toEqual(expect.arrayContaining(['a PAUSED', 'b RUNNING']));
    }
    const [queues] = await client.listQueues({ parent: 'projects/p/locations/l', filter: '' }, { autoPaginate: false });
    expect(queues.map((q) => q.name)).toEqual(expect.arrayContaining(['projects/p/locations/l/queues/a', 'projects/p/locations/l/queues/b']));
  });
});
