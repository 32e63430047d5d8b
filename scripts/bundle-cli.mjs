// Bundles the compiled CLI (dist/cli/main.js and what it imports) into dist/bundle/, which
// bin/pushq.js runs. Why: Node 20 loads an ES module graph file by file; `pushq simulate` loaded
// ~330 modules (zod alone ~200) before running anything, about 0.25 s of every command. As a few
// chunks it starts ~0.15 s sooner (measured on a 1M-task `pushq simulate`: 2.61–2.67 s against
// 2.76–2.96 s, alternated runs, 2026-12-06).
//
// What stays outside the bundle, loaded from node_modules as before: the server's network stacks
// (gRPC, protobuf, PostgreSQL, undici, the Cloud Tasks client's protos), which `serve` loads
// lazily anyway and which read files relative to their own packages.
//
// Layout: the chunks sit in dist/bundle/, two folders below the package root like dist/<layer>/,
// so a module's paths relative to `import.meta.url` (the dashboard's files, a worker thread's
// script through src/log/worker-script.ts) resolve the same from a chunk as from dist/.
//
// The experiments' worker thread (dist/experiments/seed-worker.js) is bundled too, as one file,
// dist/bundle/seed-worker.js: every thread of an experiment loads it, and its ~45 modules took
// 78–107 ms to load against 23–31 ms as one file (one core, 2026-12-06). The pool runs it from the
// library as well as from the CLI (src/log/worker-script.ts, bundledWorkerScript). So is serve's
// queue-file reader (dist/server/config-worker.js → dist/bundle/config-worker.js: a reload's thread
// would otherwise load zod's ~200 modules, and the yaml and saxes packages, one file at a time).
// The log's read worker runs the unbundled dist/ modules.
//
// Rebuilding while a CLI runs (the test suite builds at its start, and tests run the CLI): chunks
// have stable names (no content hash) and each file is replaced by a rename, so a running process
// that loads a chunk lazily finds one; files no longer produced are removed last.
//
//   node scripts/bundle-cli.mjs        (part of `npm run build`, after tsc: run both, or bin/pushq.js
//                                       runs an older bundle than dist/)
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'dist', 'bundle');
const staging = join(root, 'dist', `.bundle-${process.pid}`);

/** Packages left to node_modules (see above). */
const EXTERNAL = ['@google-cloud/tasks', '@grpc/grpc-js', 'protobufjs', 'pg', 'pgpass', 'undici', 'uplot'];

rmSync(staging, { recursive: true, force: true });
try {
  await build({
    input: join(root, 'dist', 'cli', 'main.js'),
    platform: 'node',
    external: (id) => EXTERNAL.some((name) => id === name || id.startsWith(`${name}/`)),
    logLevel: 'warn',
    output: { dir: staging, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name].js', sourcemap: false },
  });
  // The workers: one file each, all inlined (it is the only module its thread loads).
  for (const worker of ['experiments/seed-worker.js', 'server/config-worker.js']) {
    await build({
      input: join(root, 'dist', ...worker.split('/')),
      platform: 'node',
      logLevel: 'warn',
      output: { file: join(staging, worker.split('/')[1]), format: 'esm', codeSplitting: false, sourcemap: false },
    });
  }
  mkdirSync(outDir, { recursive: true });
  const made = readdirSync(staging);
  // Chunks first, the entry last: a process starting meanwhile finds every chunk the entry names.
  for (const name of made.filter((n) => n !== 'main.js')) renameSync(join(staging, name), join(outDir, name));
  renameSync(join(staging, 'main.js'), join(outDir, 'main.js'));
  for (const name of readdirSync(outDir)) if (!made.includes(name)) rmSync(join(outDir, name), { force: true });
} finally {
  rmSync(staging, { recursive: true, force: true });
}
