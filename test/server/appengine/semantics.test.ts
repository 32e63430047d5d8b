/**
 * The Task Queue API's semantics on POST /rpc_http (reference §3–§4), with hand-made protobuf
 * calls (in-process service, real worker on loopback): what the worker receives of a task.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRequest, callTaskQueue } from '../../helpers/remote-api.js';
import { api } from '../../helpers/serve-process.js';
import type { Worker } from '../../helpers/worker.js';
import { startYamlService, type YamlService } from '../../helpers/yaml-service.js';

const YAML = `
queue:
- name: fast
  rate: 100/s
`;

let started: YamlService;
let worker: Worker;
/** The service's own URL (POST /rpc_http, and the Cloud Tasks paths under it). */
let base: string;

beforeAll(async () => {
  started = await startYamlService(YAML, 'pushq-rpc-semantics-');
  worker = started.worker;
  base = started.service.url;
});

afterAll(async () => {
  await started?.close();
});

const header = (key: string, value: string) => ({ key: Buffer.from(key), value: Buffer.from(value) });

/** Adds one task and returns what the worker received for `url`. */
async function delivered(url: string, fields: Record<string, unknown>) {
  const r = await callTaskQueue(base, 'Add', 'AddRequest', addRequest('fast', { url: Buffer.from(url), ...fields }), 'AddResponse');
  expect(r.response?.application_error ?? null).toBeNull();
  await worker.waitFor((rs) => rs.some((x) => x.url === url), 10_000, url);
  return worker.forUrl(url)[0]!;
}

describe('what the worker receives', () => {
  it('a header the task gives twice (Go http.Header with two values, repeated entries) arrives with both values, in order', async () => {
    const got = await delivered('/repeated', { header: [header('X-Tag', 'a'), header('Accept', 'text/plain'), header('X-Tag', 'b'), header('X-Tag', 'c')] });
    // Node joins a repeated request header with ", ".
    expect(got.headers['x-tag']).toBe('a, b, c');
    expect(got.headers['accept']).toBe('text/plain');
  });
});

describe('what the Cloud Tasks API says of such a task', () => {
  it('a header given twice shows both values, joined with ", " as the worker reads them', async () => {
    const r = await callTaskQueue(base, 'Add', 'AddRequest', addRequest('fast', { task_name: Buffer.from('two-tags'), eta_usec: (Date.now() + 3_600_000) * 1000, header: [header('X-Tag', 'a'), header('X-Tag', 'b')] }), 'AddResponse');
    expect(r.response?.application_error ?? null).toBeNull();
    const rest = await api('GET', `${base}/v2/projects/p/locations/l/queues/fast/tasks/two-tags`);
    expect(rest.status).toBe(200);
    expect(rest.json.appEngineHttpRequest.headers).toEqual({ 'X-Tag': 'a, b' });
  });
});
