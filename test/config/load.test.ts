import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQueueConfigFile } from '../../src/config/load.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pushq-load-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const LOADER = join(import.meta.dirname, '..', '..', 'dist', 'config', 'load.js');

async function loadAsNobody(path: string): Promise<string[]> {
  // The loader is imported as root, then the process becomes `nobody`: the repository may sit in
  // a directory nobody cannot enter (a clone in a `mktemp -d` directory is mode 700).
  const script = `import { loadQueueConfigFile } from ${JSON.stringify(LOADER)};
process.setgid(65534);
process.setuid(65534);
const r = await loadQueueConfigFile(${JSON.stringify(path)});
process.stdout.write(JSON.stringify(r.errors.map((i) => i.message)));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(stdout) as string[];
}

async function write(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

describe('loadQueueConfigFile', () => {
  it('reads queue.yml as YAML', async () => {
    const result = await loadQueueConfigFile(await write('queue.yml', 'queue:\n- name: a\n  rate: 1/s\n'));
    expect(result.valid).toBe(true);
    expect(result.config?.queues.map((q) => q.name)).toEqual(['default', 'a']);
  });

  it('reads queue.xml as XML, and an extension-less file by its content', async () => {
    const xml = '<queue-entries><queue><name>a</name><rate>1/s</rate></queue></queue-entries>';
    for (const name of ['queue.xml', 'queue-config']) {
      const result = await loadQueueConfigFile(await write(name, xml));
      expect(result.config?.queues.map((q) => q.name)).toEqual(['default', 'a']);
    }
  });

  it('names the file as given in every issue', async () => {
    const path = await write('bad.yaml', 'queue:\n- name: a\n');
    const result = await loadQueueConfigFile(path);
    expect(result.file).toBe(path);
    expect(result.errors.map((i) => i.file)).toEqual([path]);
  });

  it('reports a missing file as file-unreadable, without throwing', async () => {
    const path = join(dir, 'missing.yaml');
    expect(await loadQueueConfigFile(path)).toEqual({
      file: path,
      valid: false,
      errors: [{ severity: 'error', file: path, line: 1, column: 1, path: '', code: 'file-unreadable', message: `cannot read ${path}: no such file` }],
      warnings: [],
      config: null,
      declaresDefault: false,
    });
  });

  it('reports a directory as file-unreadable', async () => {
    const result = await loadQueueConfigFile(dir);
    expect(result.errors.map((i) => [i.code, i.message])).toEqual([['file-unreadable', `cannot read ${dir}: it is a directory`]]);
  });

  it('reports bytes that are not UTF-8 as file-unreadable', async () => {
    const result = await loadQueueConfigFile(await write('latin1.yaml', new Uint8Array([0x71, 0x3a, 0x20, 0xe9, 0x0a])));
    expect(result.errors.map((i) => [i.code, i.message])).toEqual([['file-unreadable', expect.stringMatching(/not UTF-8/)]]);
  });

  it('reports a file without read permission as file-unreadable', async () => {
    const path = await write('secret.yaml', 'queue: []\n');
    await chmod(path, 0o000);
    await chmod(dir, 0o755);
    // Root reads anything, so as root the loader runs in a child process as `nobody`.
    const asRoot = process.getuid?.() === 0;
    const messages = asRoot ? await loadAsNobody(path) : (await loadQueueConfigFile(path)).errors.map((i) => i.message);
    expect(messages).toEqual([`cannot read ${path}: permission denied`]);
  });

  it('skips a UTF-8 byte-order mark', async () => {
    const result = await loadQueueConfigFile(await write('bom.yaml', '\uFEFFqueue:\n- name: a\n  rate: 1/s\n  bucket_size: 501\n'));
    expect(result.errors.map((i) => [i.line, i.column, i.code])).toEqual([[4, 16, 'bucket-size-max']]);
  });
});
