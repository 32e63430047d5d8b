/**
 * A body refused unread (over the size limit, or a refused content type) gets its answer even when
 * the client is still sending it: Node's fetch, from another process than the server (in one
 * process the server's close never races the upload), loses the answer to EPIPE when the server
 * closes the connection mid-upload. Issue 16: "a request over App Engine's size limits: an RPC
 * error response (not a crash, not a hang)"; issue 12: a refused request "gets a 4xx with a JSON
 * error naming what was refused".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGES, RPC_ERROR } from '../../src/server/appengine/messages.js';
import { RPC_REQUEST_BYTES_MAX } from '../../src/server/appengine/rpc-http.js';
import { RPC_HEADERS } from '../helpers/remote-api.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';

let serve: ServeProcess;
beforeAll(async () => {
  serve = await startServe(['--memory']);
}, 30_000);
afterAll(async () => {
  serve.child.kill('SIGTERM');
  await serve.exited;
});

// Each try fails most of the time when the connection is closed under the upload; eight in a row
// all answered is the check.
const TRIES = 8;

async function outcome(f: () => Promise<Response>): Promise<{ status: number; bytes: Uint8Array } | string> {
  try {
    const res = await f();
    return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
  } catch (err) {
    return `no answer: ${String((err as { cause?: { code?: string } }).cause?.code ?? err)}`;
  }
}

describe('a body refused unread is answered while the client still sends it', () => {
  it('/rpc_http, a call over the 32 MiB limit sent by fetch: REQUEST_TOO_LARGE every time', async () => {
    const body = new Uint8Array(RPC_REQUEST_BYTES_MAX + 8 * 1024 * 1024);
    for (let i = 0; i < TRIES; i++) {
      const got = await outcome(() => fetch(`${serve.url}/rpc_http`, { method: 'POST', headers: RPC_HEADERS, body }));
      expect(got, `try ${i + 1}`).not.toBeTypeOf('string');
      const { status, bytes } = got as { status: number; bytes: Uint8Array };
      expect(status).toBe(200);
      const r = MESSAGES.Response.decode(bytes) as any;
      expect(r.rpc_error.code).toBe(RPC_ERROR.REQUEST_TOO_LARGE);
    }
  }, 120_000);

  it('REST, a CreateTask body over 256 KiB, and a refused content type: the JSON error every time', async () => {
    const big = new Uint8Array(8 * 1024 * 1024).fill(0x20);
    const url = `${serve.api}/default/tasks`;
    for (let i = 0; i < TRIES; i++) {
      const tooLarge = await outcome(() => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big }));
      expect(tooLarge, `try ${i + 1}`).not.toBeTypeOf('string');
      expect((tooLarge as { status: number }).status).toBe(400);
      expect(Buffer.from((tooLarge as { bytes: Uint8Array }).bytes).toString()).toMatch(/\(REQUEST_TOO_LARGE\)/);
      const text = await outcome(() => fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: big }));
      expect(text, `try ${i + 1}`).not.toBeTypeOf('string');
      expect((text as { status: number }).status).toBe(415);
      expect(Buffer.from((text as { bytes: Uint8Array }).bytes).toString()).toMatch(/\(UNSUPPORTED_MEDIA_TYPE\)/);
    }
    // Nothing was created, and the server still answers.
    const list = await fetch(url);
    expect(list.status).toBe(200);
    expect(((await list.json()) as { tasks?: unknown[] }).tasks ?? []).toEqual([]);
  }, 120_000);
});
