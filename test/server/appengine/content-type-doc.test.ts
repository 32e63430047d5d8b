/**
 * docs/app-engine.md says, for every Content-Type a `POST /rpc_http` may be sent with, what it is
 * answered (its table under Errors): each row is sent here, as the row says, to a real server on
 * loopback (PushqService on a memory log), and the answer compared with the row, message included
 * (the doc gives each message's start; the rest is RPC_ACCEPTS and the code, as its example shows).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQueueConfig } from '../../../src/config/parse.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../../../src/log/event-log.js';
import { MemoryEventLog } from '../../../src/log/memory-log.js';
import { MESSAGES, RPC_ERROR } from '../../../src/server/appengine/messages.js';
import { RPC_ACCEPTS } from '../../../src/server/appengine/rpc-http.js';
import { PushqService } from '../../../src/server/service.js';
import { encodeMessage, envelope, RPC_HEADERS } from '../../helpers/remote-api.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const doc = readFileSync(join(ROOT, 'docs', 'app-engine.md'), 'utf8');
const HEADER = '| Content-Type | body | answer |';

interface Row {
  types: (string | undefined)[];
  body: 'none' | 'the call' | 'any';
  answer: string;
}

/** The table's rows; `none` is no Content-Type; `any other` adds a type no row names. */
function rows(): Row[] {
  const at = doc.indexOf(HEADER);
  expect(at, HEADER).toBeGreaterThan(0);
  const lines = doc.slice(at).split('\n').slice(2);
  const out: Row[] = [];
  for (const line of lines) {
    if (!line.startsWith('|')) break;
    const [type, body, answer] = line.split(' | ').map((c) => c.replace(/^\| ?| ?\|$/g, ''));
    const types: (string | undefined)[] = type === 'none' ? [undefined] : [...type!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    if (/any other/.test(type!)) types.push('application/xml');
    out.push({ types, body: body as Row['body'], answer: answer! });
  }
  return out;
}

let service: PushqService;
const CALL = envelope('taskqueue', 'FetchQueueStats', encodeMessage('FetchQueueStatsRequest', { queue_name: [Buffer.from('default')] }));

beforeAll(async () => {
  const log = new MemoryEventLog({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: 'test', seed: 0, clock: 'wall', configHash: '' });
  service = await PushqService.start({ config: parseQueueConfig('queue:\n- name: default\n  rate: 5/s\n', { file: 'queue.yaml' }).config!, targets: {}, log });
});

afterAll(async () => {
  await service?.close(1000);
});

async function send(type: string | undefined, body: Uint8Array): Promise<{ status: number; bytes: Uint8Array }> {
  const { 'content-type': _, ...headers } = RPC_HEADERS;
  const res = await fetch(`${service.url}/rpc_http`, { method: 'POST', headers: type === undefined ? headers : { ...headers, 'content-type': type }, body });
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
}

describe('docs/app-engine.md, Errors: what each Content-Type of a call is answered', () => {
  it('has a row for the call, for JSON, for no type with and without a body, and for every other type', () => {
    expect(rows().map((r) => r.types)).toEqual([['application/octet-stream'], ['application/json'], [undefined], [undefined], ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']]);
  });

  it('each row is what the server answers, message included', async () => {
    for (const row of rows()) {
      for (const type of row.types) {
        const what = `${type ?? 'no Content-Type'}, body ${row.body}`;
        const answer = await send(type, row.body === 'none' ? new Uint8Array(0) : CALL);
        if (row.answer === 'the call is made') {
          expect(answer.status, what).toBe(200);
          const r = MESSAGES.Response.decode(answer.bytes) as any;
          expect(r.rpc_error ?? null, what).toBeNull();
          expect((MESSAGES.FetchQueueStatsResponse.decode(r.response) as any).queueStats, what).toHaveLength(1);
          continue;
        }
        const m = /^HTTP (\d+),? (?:`rpc_error` `([A-Z_]+)` \((\d+)\)|`([A-Z_]+)`).*?(?:detail|message) `([^`]+): \.\.\.`/.exec(row.answer);
        expect(m, row.answer).not.toBeNull();
        const [, status, rpcName, rpcNumber, apiCode, start] = m!;
        expect(answer.status, what).toBe(Number(status));
        // The doc's example type is the one received.
        const said = type === undefined ? start! : start!.replace('"text/plain"', JSON.stringify(type));
        if (rpcName !== undefined) {
          const e = (MESSAGES.Response.decode(answer.bytes) as any).rpc_error;
          expect(e?.code, what).toBe(RPC_ERROR[rpcName as keyof typeof RPC_ERROR]);
          expect(Number(rpcNumber)).toBe(RPC_ERROR[rpcName as keyof typeof RPC_ERROR]);
          expect(e.detail, what).toBe(`${said}: ${RPC_ACCEPTS} (${rpcName})`);
        } else {
          const e = JSON.parse(Buffer.from(answer.bytes).toString('utf8')).error;
          expect(e.message, what).toBe(`${said}: ${RPC_ACCEPTS} (${apiCode})`);
        }
      }
    }
  });

  it("the example message is the text/plain row's, in full", async () => {
    const example = /```\n(Content-Type "text\/plain" is refused: [^\n]+)\n```/.exec(doc)?.[1];
    const answer = await send('text/plain', CALL);
    expect(JSON.parse(Buffer.from(answer.bytes).toString('utf8')).error.message).toBe(example);
  });
});
