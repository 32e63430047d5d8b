/**
 * Where a worker thread's script is. A worker thread loads JavaScript: from the build (dist/) the
 * script sits beside the module that starts it; from the TypeScript sources (the tests run src/
 * through vitest, and a plain worker thread cannot load .ts) the build's copy runs it, which the
 * tests build first (test/global-setup.ts).
 */
import { existsSync } from 'node:fs';
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
