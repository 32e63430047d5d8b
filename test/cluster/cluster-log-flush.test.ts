/**
 * `logservice.Flush` on a cluster node's `/rpc_http` (docs/cluster.md, "App Engine /rpc_http";
 * docs/app-engine.md). Google's Go library sends it at the end of every request the app serves,
 * and waits for it before the request ends. One node takes it and drops its lines (rpc-http.ts). A
 * cluster node sent it, as a call naming no queue, to whichever queue's service it found: its own
 * when it owned a queue, else another node over the network (a hop per app request), and when
 * that owner was down the call failed, so the app printed `internal.flushLog: Flush RPC: ...` on
 * its stderr for every request it served. Now every node answers it itself, at once.
 *
 * The app here is a Go program on `appengine.Main` (Debian's golang-google-appengine-dev,
 * .ci/ensure-go.sh) that serves three requests, each logging a line, with its API calls sent to a
 * node that owns no queue: their owner, started first, was killed -9, and its leases (60 s) have
 * not run out.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { appEngineEnv, buildGoProgram, requireAppEngineGoLibrary } from '../helpers/appengine-go.js';
import { closedPort } from '../helpers/closed-port.js';
import { clusterFixture, ownedBy, startNode, waitUntil, writeQueueYaml } from './cluster-harness.js';

const run = promisify(execFile);
const fx = clusterFixture('pushq-cluster-log-flush-');

const PROGRAM = `package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"google.golang.org/appengine"
	"google.golang.org/appengine/log"
)

func main() {
	http.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		log.Infof(appengine.NewContext(r), "handled %s", r.URL.Path)
		fmt.Fprint(w, "ok")
	})
	go func() {
		base := "http://127.0.0.1:" + os.Getenv("PORT")
		for i := 0; i < 100; i++ {
			if res, err := http.Get(base + "/_ah/health"); err == nil {
				res.Body.Close()
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		statuses := []int{}
		for i := 0; i < 3; i++ {
			// The library answers only once the request's Flush has returned.
			res, err := http.Get(base + "/work")
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			statuses = append(statuses, res.StatusCode)
		}
		json.NewEncoder(os.Stdout).Encode(map[string]interface{}{"statuses": statuses})
		os.Exit(0)
	}()
	appengine.Main()
}
`;

it('a node that owns no queue answers the Go library\'s logservice.Flush itself: no flushLog error, whatever the owners', async () => {
  requireAppEngineGoLibrary('log/log.go');
  const program = await buildGoProgram(join(fx.dir, 'flush-app'), PROGRAM);

  const config = await writeQueueYaml(fx.dir, 'queue:\n- name: q0\n  rate: 5/s\n');
  const args = ['--config', config, '--store', await fx.pg.database(), '--lease-seconds', '60', '--target', 'default=http://127.0.0.1:9'];
  const owner = await startNode(args);
  fx.nodes.push(owner);
  await waitUntil('the first node owning q0 and default', async () => (await ownedBy(owner)).length === 2, 20_000);
  owner.proc.child.kill('SIGKILL');
  await owner.proc.exited;
  const called = await startNode(args);
  fx.nodes.push(called);
  expect(await ownedBy(called)).toEqual([]); // the dead owner's leases hold its queues for a minute

  const { stdout, stderr } = await run(program, [], {
    timeout: 60_000,
    env: {
      PATH: process.env['PATH'] ?? '',
      PORT: String(await closedPort()),
      RUN_WITH_DEVAPPSERVER: '1', // binds 127.0.0.1 (appengine.Main)
      ...appEngineEnv(called.proc.url, 's~pushq-test'),
    },
  });
  expect(JSON.parse(stdout)).toEqual({ statuses: [200, 200, 200] });
  // Before: 'internal.flushLog: Flush RPC: ...' after each request (the call forwarded to the dead owner).
  expect(stderr).not.toMatch(/flushLog/);
  // The library printed the app's lines itself (outside a second-generation runtime).
  expect(stderr.match(/INFO: handled \/work/g)).toHaveLength(3);
}, 300_000);
