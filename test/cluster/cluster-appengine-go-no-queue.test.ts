/**
 * App Engine API calls that name no queue, on a cluster node (docs/cluster.md, "App Engine
 * /rpc_http"): another service's (memcache, the Datastore's reads), a Task Queue method pushq
 * refuses (Lease's QueryAndOwnTasks, ModifyTaskLease), a BulkAdd of no task (Go's AddMulti of an
 * empty slice), the stats of a queue outside the configuration, a call whose body or headers are
 * wrong. No queue's owner decides their answers, yet a cluster node sent them on to whichever
 * queue's service it found, and when none was reachable the app got application_error 2 naming an
 * owner no call of this kind needs (`the owner (...) could not be reached ... (QUEUE_OWNER_UNAVAILABLE)`):
 * TRANSIENT_ERROR for the Task Queue, which the app retries in vain, and for the other services
 * their own code 2, which says something else (Go: `API error 2 (memcache: NAMESPACE_NOT_SET)`,
 * `(datastore_v3: CONCURRENT_TRANSACTION)`). Now each node answers them itself, with one node's
 * answer (one definition: src/server/appengine/rpc-http.ts answerWithoutQueues and checkCall).
 *
 * The node called owns no queue: their owner, started first, was killed -9, and its leases (60 s)
 * have not run out. The same calls go to a single `pushq serve` with the same queue.yaml, and the
 * answers must be the same, byte for byte (raw calls) and as Google's Go library reports them.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { MESSAGES } from '../../src/server/appengine/messages.js';
import { appEngineEnv, buildGoProgram, requireAppEngineGoLibrary } from '../helpers/appengine-go.js';
import { RPC_HEADERS, addRequest, encodeMessage, envelope, postRpc } from '../helpers/remote-api.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { clusterFixture, ownedBy, startNode, waitUntil, writeQueueYaml, type Node } from './cluster-harness.js';

const run = promisify(execFile);
const fx = clusterFixture('pushq-cluster-no-queue-');

const PROGRAM = `package main

import (
	"encoding/json"
	"os"

	"google.golang.org/appengine"
	"google.golang.org/appengine/datastore"
	"google.golang.org/appengine/memcache"
	"google.golang.org/appengine/taskqueue"
)

func text(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func main() {
	ctx := appengine.BackgroundContext()
	out := map[string]interface{}{}
	_, err := memcache.Get(ctx, "k")
	out["memcacheGet"] = text(err)
	var v struct{ X int }
	err = datastore.Get(ctx, datastore.NewKey(ctx, "Kind", "a", 0, nil), &v)
	out["datastoreGet"] = text(err)
	_, err = taskqueue.Lease(ctx, 1, "q0", 60)
	out["lease"] = text(err)
	err = taskqueue.ModifyLease(ctx, &taskqueue.Task{Name: "t"}, "q0", 60)
	out["modifyLease"] = text(err)
	added, err := taskqueue.AddMulti(ctx, []*taskqueue.Task{}, "q0")
	out["addMultiNone"] = text(err)
	out["addMultiNoneCount"] = len(added)
	stats, err := taskqueue.QueueStats(ctx, []string{"no-such-queue"})
	out["statsUnknown"] = text(err)
	if err == nil {
		out["statsUnknownTasks"] = stats[0].Tasks
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
`;

let single: ServeProcess;
let called: Node;

beforeAll(async () => {
  const config = await writeQueueYaml(fx.dir, 'queue:\n- name: q0\n  rate: 5/s\n');
  single = await startServe(['--config', config, '--memory', '--target', 'default=http://127.0.0.1:9'], 30_000);
  const args = ['--config', config, '--store', await fx.pg.database(), '--lease-seconds', '60', '--target', 'default=http://127.0.0.1:9'];
  const owner = await startNode(args);
  fx.nodes.push(owner);
  await waitUntil('the first node owning q0 and default', async () => (await ownedBy(owner)).length === 2, 20_000);
  owner.proc.child.kill('SIGKILL');
  await owner.proc.exited;
  called = await startNode(args);
  fx.nodes.push(called);
  expect(await ownedBy(called)).toEqual([]); // the dead owner's leases hold its queues for a minute
}, 120_000);

describe('calls that name no queue, on a node with no owner reachable: one node\'s answers', () => {
  it('raw /rpc_http calls: the same Response as one node, none TRANSIENT_ERROR', async () => {
    const task = (m: string, type: Parameters<typeof encodeMessage>[0], value: Record<string, unknown>): Uint8Array => envelope('taskqueue', m, encodeMessage(type, value));
    const calls: [string, Uint8Array, Record<string, string>?][] = [
      ['not a Request', Buffer.from('not a request')],
      ['an Add whose message does not decode', envelope('taskqueue', 'Add', Buffer.from([0xff, 0xff, 0xff]))],
      ['memcache.Get', envelope('memcache', 'Get', new Uint8Array())],
      ['datastore_v3.Get', envelope('datastore_v3', 'Get', new Uint8Array())],
      ['an unknown task queue method', envelope('taskqueue', 'NoSuchMethod', new Uint8Array())],
      ['QueryAndOwnTasks', task('QueryAndOwnTasks', 'PurgeQueueRequest', { queue_name: Buffer.from('q0') })],
      ['UpdateQueue', task('UpdateQueue', 'PurgeQueueRequest', { queue_name: Buffer.from('q0') })],
      ['a BulkAdd of no task', task('BulkAdd', 'BulkAddRequest', { add_request: [] })],
      ['FetchQueueStats of queues outside the configuration', task('FetchQueueStats', 'FetchQueueStatsRequest', { queue_name: [Buffer.from('nope'), Buffer.from('other')] })],
      ['logservice.Flush', envelope('logservice', 'Flush', new Uint8Array())],
      // Refused before the body is read, whatever queue it names.
      ['an Add without the endpoint header', task('Add', 'AddRequest', addRequest('q0')), { 'content-type': RPC_HEADERS['content-type'], 'x-google-rpc-service-method': RPC_HEADERS['x-google-rpc-service-method'] }],
      ['an Add to another endpoint', task('Add', 'AddRequest', addRequest('q0')), { ...RPC_HEADERS, 'x-google-rpc-service-endpoint': 'elsewhere' }],
    ];
    for (const [what, body, headers] of calls) {
      const one = await postRpc(single.url, body, headers ?? RPC_HEADERS);
      const cluster = await postRpc(called.proc.url, body, headers ?? RPC_HEADERS);
      expect(one.httpStatus, what).toBe(200);
      expect(one.response, what).not.toBeNull();
      expect(one.response.application_error?.code, what).not.toBe(2); // TRANSIENT_ERROR
      // Before: application_error 2 'the owner (...) could not be reached: ... (QUEUE_OWNER_UNAVAILABLE)'.
      expect({ status: cluster.httpStatus, response: MESSAGES.Response.toObject(cluster.response) }, what).toEqual({ status: one.httpStatus, response: MESSAGES.Response.toObject(one.response) });
    }
  }, 60_000);

  it('Google\'s Go library: memcache, datastore.Get, Lease, ModifyLease, AddMulti of none, QueueStats of an unknown queue report what they do on one node', async () => {
    requireAppEngineGoLibrary('memcache/memcache.go');
    const program = await buildGoProgram(join(fx.dir, 'no-queue-app'), PROGRAM);
    const answers = async (url: string): Promise<Record<string, unknown>> => {
      const { stdout } = await run(program, [], { timeout: 60_000, env: { PATH: process.env['PATH'] ?? '', ...appEngineEnv(url, 's~pushq-test') } });
      return JSON.parse(stdout) as Record<string, unknown>;
    };
    const one = await answers(single.url);
    expect(one['memcacheGet']).toMatch(/memcache\.Get\(\) was not found/);
    expect(one['datastoreGet']).toMatch(/datastore_v3\.Get\(\) was not found/);
    expect(one['lease']).toMatch(/INVALID_QUEUE_MODE/);
    expect(one['modifyLease']).toMatch(/INVALID_QUEUE_MODE/);
    expect(one['addMultiNone']).toBe('ok');
    expect(one['statsUnknown']).toBe('ok');
    expect(one['statsUnknownTasks']).toBe(0);
    expect(await ownedBy(called)).toEqual([]); // still no owner reachable from the node called
    // Before: each gave 'API error 2 (taskqueue: TRANSIENT_ERROR): the owner (...) could not be reached ...
    // (QUEUE_OWNER_UNAVAILABLE)', memcache's and the Datastore's read as their own code 2 (NAMESPACE_NOT_SET, CONCURRENT_TRANSACTION).
    expect(await answers(called.proc.url)).toEqual(one);
  }, 300_000);
});
