/**
 * docs/serve.md's client set-ups (Clients), its OIDC verification and its test hooks are code
 * users copy: each block runs here as written, against a real `pushq serve` (ports aside: the
 * doc's 8123, 8124 and the worker's 8080 become the free ports of this run), with a line appended
 * that uses what the block set up. Every block runs under a guard that refuses and reports any
 * connection beyond loopback, since the documented set-up must keep every connection there (the
 * Google and Firebase libraries would otherwise look for credentials or a metadata server).
 * The Go block is checked against the program the Go test builds. README.md's gRPC and startPushq examples run too.
 * The blocks that send `--auth-token`'s token (Security) run against a second server started with one;
 * the Go ones are built with Debian's Go packages (GOPATH mode, as test/e2e/serve-grpc-go.test.ts
 * builds its program; .ci/ensure-go.sh installs them) and run as programs, outside the Node guard:
 * `option.WithoutAuthentication()` keeps Google's library from looking for credentials.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, api, startServe, type ServeProcess } from '../helpers/serve-process.js';
import { startWorker, type Worker } from '../helpers/worker.js';
import { headersTimeoutMs } from '../../src/server/connection-limits.js';
import { blockAfter, section } from '../helpers/doc-text.js';
import { EVENT_BOUND_MS } from '../helpers/event-bound.js';

const doc = readFileSync(join(ROOT, 'docs', 'serve.md'), 'utf8');

// Inside the package, so that the blocks' imports ('@google-cloud/tasks', 'pushq/testing', ...) resolve.
const dir = mkdtempSync(join(ROOT, 'test', 'docs', '.serve-doc-'));
const GUARD = join(dir, 'loopback-guard.mjs');
writeFileSync(
  GUARD,
  `import net from 'node:net';
const connect = net.Socket.prototype.connect;
const loopback = (host) => host === 'localhost' || host === '::1' || host === '[::1]' || /^127\\./.test(host);
net.Socket.prototype.connect = function (...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const o = typeof first === 'object' && first !== null ? first : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
  const host = o.path !== undefined ? null : (o.host ?? 'localhost');
  if (host !== null && !loopback(host)) {
    process.stderr.write('OFF LOOPBACK: ' + host + ':' + o.port + '\\n');
    const error = Object.assign(new Error('connect ECONNREFUSED ' + host + ' (refused by the loopback guard)'), { code: 'ECONNREFUSED' });
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return connect.apply(this, args);
};
`,
);

let worker: Worker;
let serve: ServeProcess;
let restPort: string;
/** The same, started with --auth-token TOKEN (Security, "The official clients with a token"). */
let guarded: ServeProcess;
const TOKEN = 'serve-doc-token-0123456789abcdef';

beforeAll(async () => {
  worker = await startWorker();
  const yaml = join(dir, 'queue.yaml');
  writeFileSync(yaml, 'queue:\n- name: default\n  rate: 5/s\n- name: sendWelcome\n  rate: 10/s\n');
  serve = await startServe(['--memory', '--config', yaml, '--target', `default=${worker.url}`]);
  restPort = new URL(serve.url).port;
  guarded = await startServe(['--memory', '--auth-token', TOKEN, '--config', yaml, '--target', `default=${worker.url}`]);
});

afterAll(async () => {
  serve?.child.kill('SIGTERM');
  guarded?.child.kill('SIGTERM');
  await serve?.exited;
  await guarded?.exited;
  await worker?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The doc's ports, made this run's (those of `server`, the token-less one by default). */
function ported(code: string, server: ServeProcess = serve): string {
  const rest = new URL(server.url).port;
  return code
    .replaceAll('127.0.0.1:8123', `127.0.0.1:${rest}`)
    .replaceAll('port: 8123', `port: ${rest}`)
    .replaceAll('port: 8124', `port: ${server.grpcPort}`)
    .replaceAll('127.0.0.1:8124', `127.0.0.1:${server.grpcPort}`)
    .replaceAll('http://127.0.0.1:8080', worker.url);
}

/** Runs `code` as an ES module under the loopback guard; the process exits when `code` is done. */
function run(name: string, code: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, `${code}\nprocess.exit(0);\n`);
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', GUARD, file], { cwd: dir, env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stdout, stderr }),
    );
  });
}

describe('docs/serve.md, Clients: each set-up runs as written', () => {
  const clients = section(doc, '## Clients: one line of set-up each');

  it('Node, gRPC: the client reaches pushq on the gRPC port, and nothing else', async () => {
    const setup = blockAfter(clients, '**Node, gRPC**', 'js');
    const r = await run(
      'node-grpc',
      ported(setup) +
        `const [queues] = await client.listQueues({ parent: client.locationPath('p', 'l') });
console.log(JSON.stringify(queues.map((q) => q.name.split('/').pop())));
await client.close();`,
    );
    expect(r.stderr).toBe('');
    expect([r.code, r.stdout.trim()]).toEqual([0, '["default","sendWelcome"]']);
  });

  it('Node, REST: creates a task that reaches the worker, and lists tasks', async () => {
    const setup = blockAfter(clients, '**Node, REST**', 'js');
    const r = await run('node-rest', `${ported(setup)}console.log(Array.isArray(tasks));`);
    expect(r.stderr).toBe('');
    expect([r.code, r.stdout.trim()]).toEqual([0, 'true']);
    await worker.waitFor((rs) => rs.some((x) => x.url === '/tasks/welcome'), EVENT_BOUND_MS, '/tasks/welcome');
    expect(worker.forUrl('/tasks/welcome')[0]!.body.toString()).toBe('hi');
  });

  it('Firebase Admin SDK: enqueue with CLOUD_TASKS_EMULATOR_HOST, with no credentials and no metadata server looked for', async () => {
    const setup = blockAfter(clients, '**Firebase Admin SDK**', 'js');
    const r = await run(
      'firebase',
      `import { initializeApp } from 'firebase-admin/app';\nimport { getFunctions } from 'firebase-admin/functions';\n${ported(setup)}console.log('enqueued');`,
      { CLOUD_TASKS_EMULATOR_HOST: `127.0.0.1:${restPort}` },
    );
    expect(r.stderr).toBe('');
    expect([r.code, r.stdout.trim()]).toEqual([0, 'enqueued']);
    await worker.waitFor((rs) => rs.some((x) => x.url === '/sendWelcome'), EVENT_BOUND_MS, '/sendWelcome');
    expect(JSON.parse(worker.forUrl('/sendWelcome')[0]!.body.toString())).toEqual({ data: { user: 42 } });
  });

  it('Go: the documented set-up is the Go test program’s (its endpoint from the environment)', () => {
    const setup = blockAfter(clients, '**Go**', 'go');
    const program = readFileSync(join(ROOT, 'test', 'fixtures', 'cloudtasks-go', 'main.go'), 'utf8');
    // Line by line, indentation aside (the program's lines sit inside main()).
    const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l !== '').join('\n');
    expect(lines(program)).toContain(lines(setup.replace('"127.0.0.1:8124"', 'os.Getenv("PUSHQ_GRPC")')));
  });
});

describe('docs/serve.md, Errors: reading the details in Go', () => {
  it('the import that links the detail types is the package the Go test program reads them with', () => {
    const line = blockAfter(section(doc, '## Errors'), "isn't linked in", 'go').trim();
    const pkg = /^import _ "([^"]+)"$/.exec(line)?.[1];
    expect(pkg).toBe('google.golang.org/genproto/googleapis/rpc/errdetails');
    // test/e2e/serve-grpc-go.test.ts reads every refusal's details with it.
    const program = readFileSync(join(ROOT, 'test', 'fixtures', 'cloudtasks-go', 'main.go'), 'utf8');
    expect(program).toContain(`"${pkg}"`);
    expect(program).toContain('st.Details()');
  });
});

describe('docs/serve.md, Security: the official clients with a token, against serve --auth-token', () => {
  const tokens = section(doc, '### The official clients with a token');
  const clients = section(doc, '## Clients: one line of set-up each');
  const env = { PUSHQ_TOKEN: TOKEN };
  /** Creates a task to `uri` and prints the queues' names: both need the token. */
  const use = (uri: string) => `const parent = client.queuePath('p', 'l', 'default');
await client.createTask({ parent, task: { appEngineHttpRequest: { relativeUri: '${uri}' } } });
const [queues] = await client.listQueues({ parent: client.locationPath('p', 'l') });
console.log(JSON.stringify(queues.map((q) => q.name.split('/').pop())));
await client.close();`;
  /** The Clients section's set-up of a client, without its calls (the REST block goes on to make some). */
  const setupOf = (marker: string) => {
    const block = blockAfter(clients, marker, 'js');
    const lines = block.split('\n');
    return lines.slice(0, lines.findIndex((l) => l.startsWith('const client = ')) + 1).join('\n') + '\n';
  };

  it('without the token, the Clients set-up is refused (the server does ask for it)', async () => {
    const r = await run('token-none', `${ported(setupOf('**Node, gRPC**'), guarded)}${use('/token/none')}`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/16 UNAUTHENTICATED: .*\(AUTH_REQUIRED\)/);
    expect(r.stderr).not.toContain('OFF LOOPBACK');
  });

  for (const [transport, marker] of [['gRPC', '**Node, gRPC**'], ['REST', '**Node, REST**']] as const) {
    it(`Node, ${transport}: the client-wide set-up sends the token with every call`, async () => {
      const uri = `/token/${transport}`;
      const r = await run(`token-${transport}`, ported(blockAfter(tokens, marker, 'js'), guarded) + use(uri), env);
      expect(r.stderr).toBe('');
      expect([r.code, r.stdout.trim()]).toEqual([0, '["default","sendWelcome"]']);
      await worker.waitFor((rs) => rs.some((x) => x.url === uri), 10_000, uri);
    });

    it(`one call, ${transport}: its options carry the token (the Clients set-up otherwise)`, async () => {
      const call = blockAfter(tokens, '**One call, either transport**', 'js');
      const r = await run(`token-call-${transport}`, `${ported(setupOf(marker), guarded)}${call}console.log(JSON.stringify(queues.map((q) => q.name.split('/').pop())));\nawait client.close();`, env);
      expect(r.stderr).toBe('');
      expect([r.code, r.stdout.trim()]).toEqual([0, '["default","sendWelcome"]']);
    });
  }
});

describe('docs/serve.md, Security: the Go client with a token, built and run against serve --auth-token', () => {
  const tokens = section(doc, '### The official clients with a token');
  const clients = section(doc, '## Clients: one line of set-up each');
  const GOPATH = '/usr/share/gocode';
  let program: string;
  let oneCall: string;

  /** Builds `source` (package main) in GOPATH mode with Debian's packages; the program's path. */
  async function buildGo(name: string, source: string): Promise<string> {
    const src = join(dir, name);
    mkdirSync(src);
    writeFileSync(join(src, 'main.go'), source);
    const env = { ...process.env, GO111MODULE: 'off', GOPATH, CGO_ENABLED: '0', GOCACHE: join(tmpdir(), 'pushq-gocache'), GOFLAGS: '' };
    await promisify(execFile)('go', ['build', '-o', join(src, name), '.'], { cwd: src, env, timeout: 400_000 });
    return join(src, name);
  }

  /** Runs a built program with only PATH, HOME and `env`: no Google credentials to find. */
  function runGo(path: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(path, [], { cwd: dir, env: { PATH: process.env['PATH'] ?? '', HOME: dir, ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stdout, stderr }),
      );
    });
  }

  beforeAll(async () => {
    if (!existsSync(join(GOPATH, 'src/cloud.google.com/go/cloudtasks/apiv2/cloud_tasks_client.go'))) {
      throw new Error(`Google's Cloud Tasks Go client is not in ${GOPATH}: run bash .ci/ensure-go.sh (Debian: apt-get install golang-go golang-google-cloud-dev)`);
    }
    // The whole program, as written (its port made the token server's).
    program = await buildGo('go-token', ported(blockAfter(tokens, '**Go, gRPC**', 'go'), guarded));
    // The one-call line, on a client set up as in Clients (no token of its own).
    const setup = blockAfter(clients, '**Go**', 'go');
    const line = blockAfter(tokens, '**One call, Go**', 'go');
    oneCall = await buildGo(
      'go-token-call',
      `package main

import (
	"context"
	"fmt"
	"log"
	"os"

	cloudtasks "cloud.google.com/go/cloudtasks/apiv2"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	taskspb "google.golang.org/genproto/googleapis/cloud/tasks/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

func main() {
	ctx := context.Background()
${ported(setup, guarded)}
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
${line}
	queues := client.ListQueues(ctx, &taskspb.ListQueuesRequest{Parent: "projects/p/locations/l"})
	for {
		q, err := queues.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(q.Name)
	}
	_ = os.Getenv
}
`,
    );
  }, 600_000);

  it('the program creates a task that reaches the worker and lists the queues, its token sent with every call', async () => {
    const r = await runGo(program, { PUSHQ_TOKEN: TOKEN });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [task, ...queues] = r.stdout.trim().split('\n');
    expect(task).toMatch(/^projects\/my-project\/locations\/us-central1\/queues\/default\/tasks\/\w+$/);
    expect(queues.map((q) => q.split('/').pop())).toEqual(['default', 'sendWelcome']);
    await worker.waitFor((rs) => rs.some((x) => x.url === '/tasks/reminder'), EVENT_BOUND_MS, '/tasks/reminder');
    expect(worker.forUrl('/tasks/reminder')[0]!.body.toString()).toBe('hi');
  });

  it('with a wrong token the server refuses the program’s first call: Unauthenticated, AUTH_REQUIRED', async () => {
    const r = await runGo(program, { PUSHQ_TOKEN: 'not-the-token' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/code = Unauthenticated desc = .*AUTH_REQUIRED/);
    expect(r.stdout).toBe('');
  });

  it('one call: the context carries the token, on the Clients set-up', async () => {
    const r = await runGo(oneCall, { PUSHQ_TOKEN: TOKEN });
    expect(r.stderr).toBe('');
    expect([r.code, r.stdout.trim().split('\n').map((q) => q.split('/').pop())]).toEqual([0, ['default', 'sendWelcome']]);
  });
});

describe('README.md: serve and test hooks', () => {
  it('its gRPC client example runs as written: the task reaches the worker', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const example = blockAfter(readme.slice(readme.indexOf('\n## Serve')), '(docs/serve.md, Clients)', 'js');
    expect(example).toContain('new CloudTasksClient');
    const r = await run('readme-grpc', `${ported(example)}await client.close();`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    await worker.waitFor((rs) => rs.some((x) => x.url === '/tasks/hello'), EVENT_BOUND_MS, '/tasks/hello');
  });

  it('its startPushq example runs as written', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const example = blockAfter(readme, 'To test your own app against real push queues', 'js');
    const r = await run('readme-hooks', `${ported(example)}console.log('closed', pushq.grpcPort > 0);`);
    expect(r.stderr).toBe('');
    expect([r.code, r.stdout.trim()]).toEqual([0, 'closed true']);
  });
});

describe('docs/serve.md, OIDC tokens and Test hooks', () => {
  it('the jose example verifies a token pushq sent', async () => {
    const example = blockAfter(section(doc, '### OIDC tokens'), 'With `jose`', 'js');
    const sa = 'tasks@demo.iam.gserviceaccount.com';
    const created = await api('POST', `${serve.api}/default/tasks`, { task: { httpRequest: { url: `${worker.url}/oidc-doc`, oidcToken: { serviceAccountEmail: sa, audience: 'https://my-worker.example' } } } });
    expect(created.status).toBe(200);
    await worker.waitFor((rs) => rs.some((x) => x.url === '/oidc-doc'), EVENT_BOUND_MS, '/oidc-doc');
    const token = /^Bearer (.+)$/.exec(worker.forUrl('/oidc-doc')[0]!.headers['authorization'] as string)![1]!;
    const r = await run('jose', `const token = process.env.TOKEN;\n${ported(example)}console.log(payload.email);`, { TOKEN: token });
    expect(r.stderr).toBe('');
    expect([r.code, r.stdout.trim()]).toEqual([0, sa]);
  });

  it('the test hooks example starts pushq in the process, resets it and closes it', async () => {
    const example = blockAfter(section(doc, '## Test hooks'), 'pushq/testing', 'js');
    const r = await run('test-hooks', `${ported(example)}console.log('closed', typeof pushq.url, pushq.grpcPort > 0);`);
    expect(r.stderr).toBe('');
    expect([r.code, r.stdout.trim()]).toEqual([0, 'closed string true']);
  });
});

describe('docs/serve.md, Faults: the client ports\' test hook', () => {
  it('PUSHQ_HEADERS_TIMEOUT_MS sets the headers timeout, 10 s without it, as it says', () => {
    const flat = doc.replace(/\s+/g, ' ');
    expect(flat).toContain('the whole request within 30 s (`PUSHQ_HEADERS_TIMEOUT_MS=N`, N from 1000 to 30000, sets another headers timeout: a hook for tests');
    expect([headersTimeoutMs({}), headersTimeoutMs({ PUSHQ_HEADERS_TIMEOUT_MS: '2000' }), headersTimeoutMs({ PUSHQ_HEADERS_TIMEOUT_MS: '30001' })]).toEqual([10_000, 2000, 10_000]);
  });
});
