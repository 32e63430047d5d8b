/**
 * POST /pushq/reload of an invalid configuration names the file it read, queue.xml as well as
 * queue.yaml (it said "queue.yaml was not applied" for both), and changes nothing.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { reloadRefused } from '../../src/server/operations.js';
import { startYamlService, type YamlService } from '../helpers/yaml-service.js';

let svc: YamlService | undefined;
afterEach(async () => {
  await svc?.close();
  svc = undefined;
});

async function reload(s: YamlService): Promise<{ status: number; json: any }> {
  const r = await fetch(`${s.service.url}/pushq/reload`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  return { status: r.status, json: await r.json() };
}

it.each([
  ['queue.xml', '<queue-entries><queue><name>b</name><rate>5/s</rate></queue></queue-entries>', '<queue-entries><queue><name>b</name><rate>fast</rate></queue></queue-entries>'],
  ['queue.yaml', 'queue:\n- name: b\n  rate: 5/s\n', 'queue:\n- name: b\n  rate: fast\n'],
])('a refused reload of %s names that file, and the queues are as they were', async (file, good, bad) => {
  svc = await startYamlService(good, 'pushq-reload-refused-', file);
  await writeFile(join(svc.dir, file), bad);
  const r = await reload(svc);
  expect(r.status).toBe(400);
  expect(r.json.error.status).toBe('INVALID_ARGUMENT');
  const message: string = r.json.error.message;
  expect(message).toMatch(/^the queue configuration was not applied:\n/);
  expect(message).toContain(`${join(svc.dir, file)}:`);
  const other = file === 'queue.xml' ? 'queue.yaml' : 'queue.xml';
  expect(message).not.toContain(other);
  const queue = (await (await fetch(`${svc.base}/b`)).json()) as { rateLimits: { maxDispatchesPerSecond: number } };
  expect(queue.rateLimits.maxDispatchesPerSecond).toBe(5);
});

it('a reload that meets the stop is SHUTTING_DOWN (UNAVAILABLE), not an invalid configuration', async () => {
  svc = await startYamlService('queue:\n- name: b\n  rate: 5/s\n', 'pushq-reload-stopping-');
  const { service } = svc;
  const stopped = service.close(1000);
  const outcome = await service.reload();
  await stopped;
  expect(outcome).toMatchObject({ ok: false, shuttingDown: true });
  const refusal = reloadRefused(outcome);
  expect(refusal.code).toBe('SHUTTING_DOWN');
  expect(refusal.httpStatus).toBe(503);
  expect(reloadRefused({ ok: false, lines: ['queue.yaml:1:1 error ...'] }).code).toBe('CONFIG_INVALID');
});
