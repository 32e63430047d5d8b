/**
 * `pushq serve` without --config reads the app's queue file in the current directory, as App
 * Engine reads an app's: queue.yaml, else queue.yml, else queue.xml; the startup line says which.
 * With --config, or with none of them there, nothing changes (only `default` without a file).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pushq } from '../helpers/cli.js';
import { api, startServe, type ServeProcess } from '../helpers/serve-process.js';

const running: ServeProcess[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    s.child.kill('SIGTERM');
    await s.exited;
  }
});

async function serveIn(dir: string, args: string[] = []): Promise<ServeProcess> {
  const s = await startServe(['--memory', ...args], undefined, dir);
  running.push(s);
  return s;
}

async function queueNames(s: ServeProcess): Promise<string[]> {
  const { status, json } = await api('GET', s.api);
  expect(status).toBe(200);
  return (json.queues as { name: string }[]).map((q) => q.name.split('/').pop() as string).sort();
}

describe('pushq serve without --config', () => {
  it('reads queue.yaml in the current directory, and says so in the startup line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushq-discover-'));
    writeFileSync(join(dir, 'queue.yaml'), 'queue:\n- name: emails\n  rate: 5/s\n');
    const s = await serveIn(dir);
    expect(await queueNames(s)).toEqual(['default', 'emails']);
    expect(s.stdout()).toContain(' · queues default, emails (from queue.yaml in the current directory; --config FILE to give another)\n');
  });

  it('takes queue.yml before queue.xml (queue.yaml first of all); a queue.xml alone is read too', async () => {
    const both = mkdtempSync(join(tmpdir(), 'pushq-discover-'));
    writeFileSync(join(both, 'queue.yml'), 'queue:\n- name: from-yml\n  rate: 1/s\n');
    writeFileSync(join(both, 'queue.xml'), '<queue-entries><queue><name>from-xml</name><rate>1/s</rate></queue></queue-entries>\n');
    expect(await queueNames(await serveIn(both))).toEqual(['default', 'from-yml']);
    const xml = mkdtempSync(join(tmpdir(), 'pushq-discover-'));
    writeFileSync(join(xml, 'queue.xml'), '<queue-entries><queue><name>from-xml</name><rate>1/s</rate></queue></queue-entries>\n');
    const s = await serveIn(xml);
    expect(await queueNames(s)).toEqual(['default', 'from-xml']);
    expect(s.stdout()).toContain('(from queue.xml in the current directory');
  });

  it('--config wins over the file found; with no file there only default exists, and the line names none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushq-discover-'));
    writeFileSync(join(dir, 'queue.yaml'), 'queue:\n- name: emails\n  rate: 5/s\n');
    writeFileSync(join(dir, 'other.yaml'), 'queue:\n- name: reports\n  rate: 1/s\n');
    const chosen = await serveIn(dir, ['--config', 'other.yaml']);
    expect(await queueNames(chosen)).toEqual(['default', 'reports']);
    expect(chosen.stdout()).not.toContain('current directory');
    const empty = await serveIn(mkdtempSync(join(tmpdir(), 'pushq-discover-')));
    expect(await queueNames(empty)).toEqual(['default']);
    expect(empty.stdout()).not.toContain('current directory');
  });

  it('an invalid queue.yaml found there stops the start as an invalid --config does, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushq-discover-'));
    writeFileSync(join(dir, 'queue.yaml'), 'queue:\n- name: emails\n  rate: 900/s\n');
    const r = await pushq(['serve', '--memory', '--port', '0', '--grpc-port', '0'], { cwd: dir, timeoutMs: 15_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^queue\.yaml:3:\d+ error /m);
    expect(r.stderr).toContain('pushq serve: queue.yaml is invalid; not starting');
  });
});
