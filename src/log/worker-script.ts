/**
 * Where a worker thread's script is. A worker thread loads JavaScript: from the build (dist/) the
 * script sits beside the module that starts it; from the TypeScript sources (the tests run src/
 * through vitest, and a plain worker thread cannot load .ts) the build's copy runs it, which the
 * tests build first (test/global-setup.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The script `name` (e.g. 'read-worker.js') of src/`folder`, for a module of that folder whose
 * `import.meta.url` is `from`. Throws, naming the file, when neither copy exists.
 */
export function workerScript(from: string, folder: string, name: string): URL {
  const beside = new URL(`./${name}`, from);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL(`../../dist/${folder}/${name}`, from);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error(`a worker thread's script is missing: ${fileURLToPath(beside)} (build with npm run build)`);
}

/**
 * The bundled copy of the script `name` of src/`folder` (dist/bundle/`name`, one file that a
 * thread loads at once: scripts/bundle-cli.mjs), when it is at least as new as the compiled
 * modules it was bundled from; otherwise `workerScript`'s. A build by tsc alone leaves an older
 * bundle behind, and a thread must never run older code than the module that starts it.
 */
export function bundledWorkerScript(from: string, folder: string, name: string): URL {
  const compiled = workerScript(from, folder, name);
  // From dist/<folder>/ and dist/bundle/ alike, the bundle is ../bundle/; from src/, dist's.
  for (const candidate of [new URL(`../bundle/${name}`, from), new URL(`../../dist/bundle/${name}`, from)]) {
    const bundled = fileURLToPath(candidate);
    if (existsSync(bundled)) return statSync(bundled).mtimeMs >= statSync(fileURLToPath(compiled)).mtimeMs ? candidate : compiled;
  }
  return compiled;
}
