/**
 * The house's import rules, written once: which folders of src/ each folder may import, and which
 * npm packages. test/architecture/layers.test.ts checks every import in src/ against them (types
 * included) and that docs/architecture.md shows this table (`node scripts/update-docs.mjs`).
 *
 * Node's built-in modules (`node:*`) are allowed everywhere but in core, which does no IO.
 * Top-level files (index.ts, version.ts, this one) are entry points and may import any folder but cli.
 */
export interface LayerRule {
  /** Other folders of src/ it may import. */
  folders: readonly string[];
  /** npm packages it may import (a package's subpaths included). */
  packages: readonly string[];
  /** What the folder holds, for the table. */
  holds: string;
}

export const LAYERS: Readonly<Record<string, LayerRule>> = {
  core: { folders: [], packages: ['xstate'], holds: 'pure rules: domain types, events, the task machine, token bucket, retry policy, deadlines, decide/evolve, the step (events + effects as data)' },
  config: { folders: ['core'], packages: ['yaml', 'zod', 'saxes'], holds: "queue.yaml / queue.xml → core's QueueFileConfig, with file:line:column issues" },
  projections: { folders: ['core'], packages: [], holds: 'read models: statistics, task stories, dispatch counters; one Projection interface, one fold' },
  log: { folders: ['core', 'projections'], packages: [], holds: 'event logs (memory, file), codec, replay, snapshots' },
  engine: { folders: ['core', 'log'], packages: ['pure-rand'], holds: 'the kernel (interpreter of the step), timers, seeded PRNG, the two drivers' },
  dispatch: { folders: ['core', 'engine'], packages: ['undici'], holds: 'the modelled worker; real HTTP dispatch with undici' },
  simulate: { folders: ['core', 'config', 'engine', 'dispatch', 'log', 'projections'], packages: ['uplot'], holds: 'the simulation API (createSimulation): virtual driver + worker model + statistics; the HTML report (uPlot read from its package and inlined)' },
  scenario: { folders: ['core', 'config', 'dispatch', 'log', 'simulate'], packages: ['yaml', 'zod'], holds: 'scenario files for `pushq simulate`' },
  store: { folders: ['core', 'log'], packages: ['pg', 'pgpass'], holds: 'the store behind one interface (queue logs fenced by epoch, snapshots, leases): PostgreSQL, and a file store (one process; no command opens it: the conformance suite runs the interface against both)' },
  experiments: { folders: ['core', 'config', 'dispatch', 'log', 'projections', 'simulate', 'scenario'], packages: ['immer'], holds: 'many seeds with confidence intervals, `compare`, `tune`, goals and assertions; runs on worker threads; varied configurations with immer' },
  server: { folders: ['core', 'config', 'engine', 'dispatch', 'log', 'projections', 'store'], packages: ['protobufjs', '@grpc/grpc-js'], holds: '`pushq serve`: wall driver + HTTP dispatch, the Cloud Tasks API over REST and gRPC, the App Engine API (`/rpc_http`), the dashboard, security, the data directory' },
  cluster: { folders: ['core', 'config', 'dispatch', 'log', 'projections', 'server', 'store'], packages: ['pg', 'undici', '@grpc/grpc-js', 'protobufjs'], holds: 'several `pushq serve` nodes on one PostgreSQL store: membership and heartbeats, rendezvous placement, one leased kernel per owned queue (restored from its fold snapshot), the REST, gRPC and App Engine `/rpc_http` fronts that forward calls to owners, the dashboard merged over the owners, reload and reset; one set of connections to the workers per node, shared by the services of its queues' },
  testing: { folders: ['core', 'config', 'engine', 'dispatch', 'log', 'projections', 'simulate', 'scenario', 'server', 'store', 'cluster'], packages: ['fast-check', 'pg'], holds: '`pushq/testing`: arbitraries, invariant checks; the crash swarm, over the file log and over PostgreSQL with several nodes (it starts a throwaway PostgreSQL)' },
  cli: { folders: ['core', 'config', 'engine', 'dispatch', 'log', 'projections', 'simulate', 'scenario', 'server', 'store', 'cluster', 'experiments'], packages: [], holds: 'the `pushq` command: one argument parser; validate | simulate | replay | serve | compare | tune' },
};

/** The rules as a Markdown table (docs/architecture.md embeds it). */
export function layersTable(): string {
  const rows = Object.entries(LAYERS).map(([name, r]) => {
    const folders = r.folders.length === 0 ? '—' : r.folders.map((f) => `\`${f}\``).join(', ');
    const packages = r.packages.length === 0 ? '—' : r.packages.map((p) => `\`${p}\``).join(', ');
    return `| \`src/${name}\` | ${r.holds} | ${folders} | ${packages} |`;
  });
  return ['| folder | holds | may import | npm packages |', '|---|---|---|---|', ...rows].join('\n');
}
