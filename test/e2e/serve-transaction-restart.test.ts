/**
 * What a restart does to an open transaction of App Engine's transactional tasks (docs/app-engine.md,
 * Transactional tasks): `pushq serve --data DIR` is killed (-9, a crash) while a transaction holds
 * a task; after the restart, the app's Commit of it is refused (datastore_v3 BAD_REQUEST, no such
 * open transaction) and its task is not added, as a crashed app's transaction is lost. The
 * restarted service's own transactions work, and its handles do not reuse the old one.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATASTORE_ERROR, MESSAGES } from '../../src/server/appengine/messages.js';
import { addRequest, callTaskQueue, encodeMessage, envelope, postRpc } from '../helpers/remote-api.js';
import { api, startServe, type ServeProcess } from '../helpers/serve-process.js';

const APP = 's~my-app';
let dir: string;
let serve: ServeProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-txn-restart-'));
  await writeFile(join(dir, 'queue.yaml'), 'queue:\n- name: held\n  rate: 0\n');
});

afterAll(async () => {
  serve?.child.kill('SIGKILL');
  await serve?.exited;
  await rm(dir, { recursive: true, force: true });
});

const start = (): Promise<ServeProcess> => startServe(['--config', join(dir, 'queue.yaml'), '--data', join(dir, 'data')]);

async function begin(base: string): Promise<{ handle: number; app: string }> {
  const r = await postRpc(base, envelope('datastore_v3', 'BeginTransaction', encodeMessage('BeginTransactionRequest', { app: APP })));
  const t = MESSAGES.Transaction.decode(r.response.response) as any;
  return { handle: Number(t.handle.toString()), app: t.app };
}

const commit = async (base: string, txn: { handle: number; app: string }): Promise<any> => (await postRpc(base, envelope('datastore_v3', 'Commit', encodeMessage('Transaction', txn)))).response;

const heldTasks = async (s: ServeProcess): Promise<string[]> => ((await api('GET', `${s.api}/held/tasks`)).json.tasks ?? []).map((t: any) => t.appEngineHttpRequest.relativeUri);

describe('a restart and an open transaction', () => {
  it('the transaction is lost with its task: the Commit after the restart is BAD_REQUEST and adds nothing', async () => {
    serve = await start();
    const old = await begin(serve.url);
    const staged = await callTaskQueue(serve.url, 'Add', 'AddRequest', addRequest('held', { url: Buffer.from('/lost'), transaction: old }));
    expect(staged.response.application_error ?? null).toBeNull();
    serve.child.kill('SIGKILL');
    await serve.exited;

    serve = await start();
    // A transaction of the restarted service, open when the old Commit arrives: the old handle
    // must not name it (handles start at a random base each start).
    const fresh = await begin(serve.url);
    expect(fresh.handle).not.toBe(old.handle);
    await callTaskQueue(serve.url, 'Add', 'AddRequest', addRequest('held', { url: Buffer.from('/kept'), transaction: fresh }));
    const refused = await commit(serve.url, old);
    expect(refused.application_error.code).toBe(DATASTORE_ERROR.BAD_REQUEST);
    expect(refused.application_error.detail).toMatch(/no such open transaction \(.*begun before pushq restarted\); its tasks were not added/);
    expect(await heldTasks(serve)).toEqual([]);

    expect((await commit(serve.url, fresh)).application_error ?? null).toBeNull();
    expect(await heldTasks(serve)).toEqual(['/kept']);
  }, 90_000);
});
