/**
 * docs/app-engine.md, what an app's author relies on beyond the tests it names (its Go command:
 * test/e2e/appengine-go.test.ts; its error, Content-Type and required-field tables:
 * test/server/appengine): the methods table names exactly the calls pushq answers; the limits it
 * gives transactions and calls are the service's; the Go example of a transactional task runs as
 * written (Google's Go library, Debian's packages, GOPATH mode, as the doc says) against a real
 * `pushq serve` and its task reaches the app; and every file of the repository it names is there.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DATASTORE_METHODS } from '../../src/server/appengine/datastore-service.js';
import { RPC_REQUEST_BYTES_MAX } from '../../src/server/appengine/rpc-http.js';
import { REFUSED_TASKQUEUE_METHODS, TASKQUEUE_METHODS } from '../../src/server/appengine/taskqueue-service.js';
import { TASKS_PER_TRANSACTION_MAX, TRANSACTION_LIFETIME_US, TRANSACTIONAL_REQUEST_BYTES_MAX, TRANSACTIONS_OPEN_MAX } from '../../src/server/appengine/task-transactions.js';
import { US_PER_SECOND } from '../../src/core/time.js';
import { requireAppEngineGoLibrary, runAppEngineGoFixture } from '../helpers/appengine-go.js';
import { blockAfter, docText, missingPaths, section, tableKeys } from '../helpers/doc-text.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const doc = docText('app-engine.md');
const flat = doc.replace(/\s+/g, ' ');
const MIB = 2 ** 20;

describe('docs/app-engine.md', () => {
  it('the methods table names exactly the calls pushq answers (task queue and datastore_v3), served or refused by name', () => {
    const named = tableKeys(section(doc, '## Methods')).map((m) => m.replace(/^datastore_v3\./, ''));
    expect(named.sort()).toEqual([...Object.keys(TASKQUEUE_METHODS), ...Object.keys(REFUSED_TASKQUEUE_METHODS), ...Object.keys(DATASTORE_METHODS)].sort());
  });

  it('the limits it gives are the service’s', () => {
    expect(flat).toContain(`A transaction lives **${TRANSACTION_LIFETIME_US / US_PER_SECOND} s** from its \`BeginTransaction\``);
    expect(flat).toContain(`At most **${TRANSACTIONS_OPEN_MAX}** transactions are open at once (each may hold ${TASKS_PER_TRANSACTION_MAX} tasks`);
    expect(flat).toContain(`| more than ${TASKS_PER_TRANSACTION_MAX} tasks in one transaction,`);
    expect(flat).toContain(`| a transactional request over ${TRANSACTIONAL_REQUEST_BYTES_MAX / MIB} MiB |`);
    expect(flat).toContain(`| a body over ${RPC_REQUEST_BYTES_MAX / MIB} MiB (the development server's limit;`);
  });

  it('every file of this repository it names is there', () => {
    expect(missingPaths(doc)).toEqual([]);
  });
});

describe('docs/app-engine.md, Transactional tasks: the Go example runs as written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pushq-app-engine-doc-'));
  let worker: Worker | undefined;
  let serve: ServeProcess | undefined;
  afterAll(async () => {
    serve?.child.kill('SIGTERM');
    await serve?.exited;
    await worker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the task added in the transaction is added at its commit and reaches the app', async () => {
    requireAppEngineGoLibrary('datastore/transaction.go');
    const example = blockAfter(section(doc, '## Transactional tasks'), 'In Go:', 'go');
    worker = await startWorker();
    serve = await startServe(['--memory', '--target', `default=${worker.url}`]);
    // The example as a program's body: the app's context and the task's values (`v`) are the
    // program's; the example's own lines are not changed.
    const program = join(dir, 'app');
    mkdirSync(program);
    writeFileSync(
      join(program, 'main.go'),
      `package main

import (
	"encoding/json"
	"net/url"
	"os"

	"golang.org/x/net/context"

	"google.golang.org/appengine"
	"google.golang.org/appengine/datastore"
	"google.golang.org/appengine/taskqueue"
)

func main() {
	ctx := appengine.BackgroundContext()
	v := url.Values{"amount": {"42"}}
${example.replace(/^/gm, '\t').trimEnd()}
	result := "ok"
	if err != nil {
		result = err.Error()
	}
	json.NewEncoder(os.Stdout).Encode(map[string]string{"err": result})
}
`,
    );
    expect(await runAppEngineGoFixture(program, serve.url)).toEqual({ err: 'ok' });
    await worker.waitFor((rs) => rs.some((r) => r.url === '/charge'), EVENT_BOUND_MS, '/charge');
    const charge = worker.forUrl('/charge')[0]!;
    expect([charge.method, charge.body.toString()]).toEqual(['POST', 'amount=42']);
  }, 300_000);
});
