/**
 * A test reset the log cannot take (the disk is full: LOG_UNAVAILABLE, docs/serve.md, Faults) is
 * refused whole: nothing changes, the App Engine transactions open at the time included (a
 * rejected command leaves the state as it was). They used to be dropped before the reset was
 * tried, so the app's Commit after the disk recovered was refused BAD_REQUEST ("no such open
 * transaction") and its staged tasks were lost, though the reset that would have dropped them
 * never happened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parseQueueConfig } from '../../src/config/parse.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../src/log/event-log.js';
import { createFileEventLog } from '../../src/log/file-log.js';
import { MESSAGES } from '../../src/server/appengine/messages.js';
import { PushqService } from '../../src/server/service.js';
import { FaultyIo } from '../helpers/faulty-io.js';
import { addRequest, callTaskQueue, encodeMessage, envelope, postRpc } from '../helpers/remote-api.js';
import { api } from '../helpers/serve-process.js';

const dir = mkdtempSync(join(tmpdir(), 'pushq-reset-refused-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('a reset refused LOG_UNAVAILABLE keeps the open transactions: their Commit adds their tasks once the disk takes writes', async () => {
  const io = new FaultyIo();
  const log = await createFileEventLog(join(dir, 'events.log'), { format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' }, { io });
  const config = parseQueueConfig('queue:\n- name: held\n  rate: 0\n', { file: 'queue.yaml' }).config!;
  const service = await PushqService.start({ config, targets: { default: { scaling: 'automatic', url: 'http://127.0.0.1:9' } }, log, allowReset: true });
  const tasks = `${service.url}/v2/projects/p/locations/l/queues/held/tasks`;
  const create = (name: string) => api('POST', tasks, { task: { name: `projects/p/locations/l/queues/held/tasks/${name}`, appEngineHttpRequest: { relativeUri: '/w' } } });
  try {
    const begun = await postRpc(service.url, envelope('datastore_v3', 'BeginTransaction', encodeMessage('BeginTransactionRequest', { app: 's~app' })));
    const t = MESSAGES.Transaction.decode(begun.response.response) as any;
    const txn = { handle: Number(t.handle.toString()), app: t.app };
    const staged = await callTaskQueue(service.url, 'Add', 'AddRequest', addRequest('held', { transaction: txn }), 'AddResponse');
    expect(staged.response.application_error ?? null).toBeNull();
    const name = Buffer.from(staged.value.chosen_task_name).toString('utf8');

    // The disk fills: a create fails to be written, and the log refuses changes from then on.
    io.writeFails = 'ENOSPC';
    expect((await create('while-full')).status).toBe(503);
    const reset = await api('POST', `${service.url}/pushq/reset`, {});
    expect(reset.status, JSON.stringify(reset.json)).toBe(503);
    expect(reset.json.error.message).toMatch(/\(LOG_UNAVAILABLE\)$/);

    // Space is freed: changes are taken again, and the transaction is still open.
    io.writeFails = null;
    const end = Date.now() + 15_000;
    while ((await create(`after-${Date.now()}`)).status !== 200) {
      if (Date.now() > end) throw new Error('the log never took writes again');
      await new Promise((r) => setTimeout(r, 50));
    }
    const committed = await postRpc(service.url, envelope('datastore_v3', 'Commit', encodeMessage('Transaction', txn)));
    expect(committed.response.application_error ?? null, JSON.stringify(committed.response)).toBeNull();
    expect((await api('GET', `${tasks}/${name}`)).status).toBe(200);
  } finally {
    await service.close(0);
  }
});
