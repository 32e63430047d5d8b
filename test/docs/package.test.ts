/**
 * The published package, as a user gets it: `npm pack` the built package, put the tarball's files
 * in a fresh project outside this repository, and use pushq from there as the docs say, through
 * package.json `exports` (`pushq`, `pushq/testing`) and `bin`. The other doc tests import dist/
 * from inside the repository, where every devDependency and every file of the clone is at hand;
 * here a file `files` leaves out, a type that does not resolve, or a devDependency needed at run
 * time fails. Consumers' setups differ too: the types are checked under each `moduleResolution`
 * (node10 finds `pushq/testing` only through package.json `typesVersions`), and CommonJS loads it.
 *
 * The project is laid out as `npm install pushq-x.tgz` lays it out, without a network: the
 * tarball's files in node_modules/pushq, and beside them links to the runtime dependencies this
 * clone has installed (the packages package-lock.json does not mark `dev`), plus what the
 * consumer installs itself for docs/testing.md: fast-check (pushq/testing's peer), vitest,
 * typescript and @types/node. So pushq's own imports resolve to nothing else (the devDependencies
 * a consumer does not have, e.g. jose, firebase-admin, rolldown, @types/pg, are absent), while a
 * linked package's own imports resolve from where it is installed.
 */
import { execFile } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockAfter } from '../helpers/doc-text.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MODULES = join(ROOT, 'node_modules');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  license: string;
  bin: Record<string, string>;
  exports: Record<string, { types: string; default: string }>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const testingDoc = readFileSync(join(ROOT, 'docs', 'testing.md'), 'utf8');

/** What the consumer installs itself, besides pushq (docs/testing.md; its own tools). */
const CONSUMER_DEPENDENCIES = ['fast-check', 'vitest', 'typescript', '@types/node'];

/** Runs a command; its exit code and output, never a throw for a failed exit. */
function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      if (code === null) reject(error);
      else resolve({ code, stdout, stderr });
    });
  });
}

/** The packages installed for the package's runtime: package-lock.json's top-level entries not marked `dev`. */
function runtimePackages(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean }> };
  const names: string[] = [];
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!key.startsWith('node_modules/') || entry.dev === true) continue;
    const name = key.slice('node_modules/'.length);
    if (name.includes('/node_modules/')) continue; // nested: comes with its parent
    // An optional dependency for another platform is not installed, here or for a user.
    if (entry.optional === true && !existsSync(join(MODULES, name))) continue;
    names.push(name);
  }
  return names;
}

/**
 * The types file of package `name` in the consumer project, as node10 finds it: the package's
 * `types` (or `typings`) or its index.d.ts, else @types/<name>'s; undefined when it has none.
 */
function packageTypes(name: string): string | undefined {
  for (const dir of [join(project, 'node_modules', name), join(project, 'node_modules', '@types', name.replace(/^@(.*)\//, '$1__'))]) {
    if (!existsSync(join(dir, 'package.json'))) continue;
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { types?: string; typings?: string };
    const file = join(dir, pkg.types ?? pkg.typings ?? 'index.d.ts');
    if (existsSync(file)) return file;
  }
  return undefined;
}

const work = mkdtempSync(join(tmpdir(), 'pushq-package-'));
const project = join(work, 'consumer');
const installed = join(project, 'node_modules', manifest.name);
let packed: string[] = [];
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(async () => {
  // dist/ is built by the global setup; --ignore-scripts keeps `prepare` from building it again.
  const pack = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], ROOT);
  expect(pack.code, pack.stderr).toBe(0);
  const [result] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  packed = result!.files.map((f) => f.path);
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  const untar = await run('tar', ['-xzf', join(work, result!.filename), '-C', work], work);
  expect(untar.code, untar.stderr).toBe(0);
  renameSync(join(work, 'package'), installed);
  for (const name of [...runtimePackages(), ...CONSUMER_DEPENDENCIES]) {
    if (existsSync(join(project, 'node_modules', name))) continue;
    mkdirSync(dirname(join(project, 'node_modules', name)), { recursive: true });
    symlinkSync(join(MODULES, name), join(project, 'node_modules', name), 'dir');
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
}, 120_000);

describe('the packed package', () => {
  it('holds every file package.json points at, and every doc and example README.md links to', () => {
    const wanted = [
      ...Object.values(manifest.bin),
      ...Object.values(manifest.exports).flatMap((e) => [e.types, e.default]),
      ...[...readme.matchAll(/\]\(((?:docs|examples)\/[^)#]+)\)/g)].map((m) => m[1]!),
    ].map((p) => p.replace(/^\.\//, ''));
    expect(wanted.filter((p) => !packed.includes(p))).toEqual([]);
  });

  it('holds the text of the licence package.json names (Apache-2.0 asks that it go with every copy)', () => {
    expect(manifest.license).toBe('Apache-2.0');
    expect(packed).toContain('LICENSE');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^\s+Apache License\s+Version 2\.0, January 2004\b/);
  });

  it('ships the sources its source maps and declaration maps name (stack traces and go-to-definition land in src/)', () => {
    const maps = packed.filter((p) => p.endsWith('.map'));
    // One map per compiled module and one per declaration file: dist/index.js's and its .d.ts's.
    expect(maps).toEqual(expect.arrayContaining(['dist/index.js.map', 'dist/index.d.ts.map', 'dist/testing/index.d.ts.map']));
    const missing: string[] = [];
    for (const map of maps) {
      const { sources, sourceRoot = '' } = JSON.parse(readFileSync(join(installed, map), 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const source of sources) {
        const path = join(dirname(map), sourceRoot, source);
        if (!packed.includes(path)) missing.push(`${map}: ${source}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('imports at run time only Node built-ins, its dependencies and its peer dependencies', () => {
    const allowed = new Set([manifest.name, ...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]);
    const builtins = new Set(builtinModules);
    const strays: string[] = [];
    for (const path of packed.filter((p) => /^(dist|bin|dashboard)\/.*\.(m?js)$/.test(p))) {
      const code = readFileSync(join(installed, path), 'utf8');
      // Static imports and re-exports (statements at a line's start), side-effect imports, import() and require().
      for (const m of code.matchAll(/^\s*(?:(?:import|export)\b[^;'"`]*?\bfrom\s*|import\s*|.*?\b(?:import|require(?:\.resolve)?)\s*\(\s*)(['"])([^'"]+)\1/gm)) {
        const specifier = m[2]!;
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtins.has(specifier)) continue;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
        if (!allowed.has(name)) strays.push(`${path}: ${specifier}`);
      }
    }
    expect(strays).toEqual([]);
  });

  it("type-checks, strict, a consumer of README.md's and docs/testing.md's examples", async () => {
    mkdirSync(join(project, 'src'), { recursive: true });
    writeFileSync(join(project, 'src', 'library.ts'), blockAfter(readme, '## Use it as a library', 'ts'));
    writeFileSync(join(project, 'src', 'start-pushq.ts'), blockAfter(readme, 'To test your own app against real push queues', 'js'));
    writeFileSync(join(project, 'src', 'kit-example.test.ts'), blockAfter(testingDoc, '## A property test for your own queue.yaml', 'ts'));
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, skipDefaultLibCheck: true, types: ['node'] },
        include: ['src'],
      }),
    );
    const tsc = await run(process.execPath, [join(MODULES, 'typescript', 'bin', 'tsc'), '-p', '.'], project);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
  });

  it("default-imports, in the declarations its entry points reach, only packages whose types have a default export", () => {
    // A default import of a package whose types have none (protobufjs's `export as namespace`, a
    // `export =`) is accepted only with esModuleInterop, which TypeScript 7 always has but a node10
    // project under TypeScript 5 often does not: there every project that imports pushq fails with
    // TS1192 in pushq's own .d.ts, skipLibCheck off. TypeScript 5 compiles such a project below
    // (its node10 mode); this reads the declarations themselves, every file reachable from
    // `exports`' types, so it also names an import that the consumer's two imports do not reach.
    const reached = new Set<string>();
    const pending = Object.values(manifest.exports).map((e) => e.types.replace(/^\.\//, ''));
    const offences: string[] = [];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (reached.has(file)) continue;
      reached.add(file);
      const text = readFileSync(join(installed, file), 'utf8');
      for (const m of text.matchAll(/^(?:import|export)\b[^;'"]*?\bfrom\s*'([^']+)'/gm)) {
        if (m[1]!.startsWith('.')) pending.push(join(dirname(file), m[1]!.replace(/\.js$/, '.d.ts')));
      }
      for (const m of text.matchAll(/^import\s+(?:type\s+)?[A-Za-z_$][\w$]*\s*(?:,\s*\{[^}]*\}\s*)?from\s*'([^'.][^']*)'/gm)) {
        const types = packageTypes(m[1]!);
        if (types !== undefined && !/\bexport\s+default\b|\bas\s+default\b/.test(readFileSync(types, 'utf8'))) offences.push(`${file}: ${m[0]}`);
      }
    }
    expect(reached.size).toBeGreaterThan(50);
    expect(offences).toEqual([]);
  });

  it('type-checks `pushq` and `pushq/testing` imports under each moduleResolution a tsconfig names', async () => {
    mkdirSync(join(project, 'resolution'), { recursive: true });
    const source = [
      "import { createSimulation, type SimulationOptions } from 'pushq';",
      "import { startPushq, queueFileConfigArbitrary, type RunningPushq } from 'pushq/testing';",
      'export const used: [typeof createSimulation, typeof startPushq, typeof queueFileConfigArbitrary] = [createSimulation, startPushq, queueFileConfigArbitrary];',
      'export type Used = [SimulationOptions, RunningPushq];',
      '',
    ].join('\n');
    // The same imports from an ES module and from a CommonJS one (README.md: `require` of pushq).
    writeFileSync(join(project, 'resolution', 'both.ts'), source);
    writeFileSync(join(project, 'resolution', 'both.cts'), source);
    // `node10` (`node`), still the default of many tsconfigs under TypeScript 5, ignores package.json
    // `exports`: it finds a subpath's types through `typesVersions`, or as a file or folder of that
    // name in the package. This repository's TypeScript (7) no longer accepts node10; `bundler`
    // without `resolvePackageJsonExports` walks the same lookup, so it stands in for node10 here.
    // There skipLibCheck is on, as node10 users need it anyway: fast-check's own declarations import
    // pure-rand's subpaths, which only `exports` maps.
    const modes: Record<string, [file: string, options: object, compiler?: string]> = {
      node16: ['both.ts', { module: 'Node16', moduleResolution: 'Node16', skipLibCheck: false }],
      nodenext: ['both.ts', { module: 'NodeNext', moduleResolution: 'NodeNext', skipLibCheck: false }],
      'nodenext, from CommonJS': ['both.cts', { module: 'NodeNext', moduleResolution: 'NodeNext', skipLibCheck: false }],
      bundler: ['both.ts', { module: 'ESNext', moduleResolution: 'Bundler', skipLibCheck: false }],
      'node10 lookup': ['both.ts', { module: 'ESNext', moduleResolution: 'Bundler', resolvePackageJsonExports: false, skipLibCheck: true }],
      // The real node10, as TypeScript 5 (a devDependency, `typescript5`) still has it: CommonJS
      // output, esModuleInterop off (its default there), skipLibCheck off so pushq's own .d.ts
      // files are checked (a default import of a package without a default export fails them).
      'node10, TypeScript 5': ['both.ts', { module: 'CommonJS', moduleResolution: 'node10', esModuleInterop: false, skipLibCheck: false }, 'typescript5'],
    };
    // The compilers run side by side (each its own process; TypeScript 5's alone takes the longest),
    // and none checks TypeScript's own lib.*.d.ts (skipDefaultLibCheck): those are the compiler's
    // files, not pushq's nor a package's, and checking them was most of TypeScript 5's time.
    const results: Record<string, string> = {};
    await Promise.all(Object.entries(modes).map(async ([mode, [file, options, compiler = 'typescript']]) => {
      const config = join(project, `tsconfig.${mode.replace(/\W+/g, '-')}.json`);
      writeFileSync(config, JSON.stringify({ compilerOptions: { target: 'ES2022', strict: true, noEmit: true, skipDefaultLibCheck: true, types: ['node'], ...options }, files: [`resolution/${file}`] }));
      const tsc = await run(process.execPath, [join(MODULES, compiler, 'bin', 'tsc'), '-p', config], project);
      // Under node10, fast-check's own declarations import pure-rand subpaths only `exports` maps
      // (TS2307 in fast-check.d.ts, an upstream limit every node10 user of fast-check meets, with
      // or without pushq): set aside, so that any error in pushq's files, or anywhere else, counts.
      const all = `${tsc.stdout}${tsc.stderr}`.split(/\n(?=\S)/).filter((d) => d.trim() !== '');
      const diagnostics = all.filter((d) => !(mode.startsWith('node10,') && /node_modules\/fast-check\/lib\/fast-check\.d\.ts\(\d+,\d+\): error TS2307: Cannot find module 'pure-rand\//.test(d)));
      const clean = diagnostics.length === 0 && (tsc.code === 0 || all.length > diagnostics.length);
      results[mode] = clean ? 'no error' : `exit ${tsc.code} ${diagnostics.join('\n')}`.trim();
    }));
    expect(results).toEqual(Object.fromEntries(Object.keys(modes).map((mode) => [mode, 'no error'])));
  }, 120_000);

  it('loads from CommonJS: `require` of `pushq` and `pushq/testing` (README.md)', async () => {
    writeFileSync(
      join(project, 'require.cjs'),
      "console.log(typeof require('pushq').createSimulation, typeof require('pushq/testing').startPushq);\n",
    );
    const r = await run(process.execPath, ['require.cjs'], project);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, 'function function\n', '']);
  });

  it("runs README.md's library and startPushq examples from the installed package", async () => {
    for (const [name, marker, lang] of [
      ['library.mjs', '## Use it as a library', 'ts'],
      ['start-pushq.mjs', 'To test your own app against real push queues', 'js'],
    ] as const) {
      // Plain JavaScript apart from the library example's fence (as test/docs/readme.test.ts runs it).
      writeFileSync(join(project, name), blockAfter(readme, marker, lang));
      const r = await run(process.execPath, [name], project);
      expect([name, r.code, r.stderr]).toEqual([name, 0, '']);
    }
  });

  it("runs docs/testing.md's property test under vitest, from the installed package", async () => {
    writeFileSync(join(project, 'vitest.config.mjs'), "export default { test: { include: ['src/**/*.test.ts'], testTimeout: 120000 } };\n");
    mkdirSync(join(project, 'src'), { recursive: true });
    // Written again (the type-check writes it too), so this test stands alone.
    writeFileSync(join(project, 'src', 'kit-example.test.ts'), blockAfter(testingDoc, '## A property test for your own queue.yaml', 'ts'));
    // This vitest's own variables would make the nested one think it is a worker of this run.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
    const r = await run(process.execPath, [join(MODULES, 'vitest', 'vitest.mjs'), 'run', '--reporter=verbose', '--color=false'], project, env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 passed/);
  }, 120_000);

  it('runs its CLI, bin and all, with only its runtime dependencies: many seeds, a report', async () => {
    const bin = join(installed, manifest.bin['pushq']!);
    const r = await run(process.execPath, [bin, 'simulate', join(installed, 'examples', 'default.yaml'), '--seeds', '2', '--report', 'report.html', '--json', '--quiet'], project);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(Object.keys((JSON.parse(r.stdout) as { queues: object }).queues)).toContain('emails');
    expect(readFileSync(join(project, 'report.html'), 'utf8')).toContain('uPlot');
  });
});
