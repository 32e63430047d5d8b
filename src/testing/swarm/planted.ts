/**
 * Bugs planted on purpose, to show that the crash swarm catches them (docs/testing.md). Each is
 * a textual change to one compiled module, made as it is loaded, only when asked for
 * (`npm run swarm -- --plant NAME`, through scripts/swarm-plant-hooks.mjs): nothing here is ever
 * active otherwise, and the source is never edited. `find` must occur exactly once in the module
 * (test/swarm/planted.test.ts checks it against the TypeScript source; `find` is one line with no
 * type in it, so it compiles to the same text), so a plant cannot silently stop applying when the code changes.
 */
export interface PlantedFault {
  /** The module, as a path under src/ without its extension. */
  module: string;
  find: string;
  replace: string;
  /** What the bug is. */
  what: string;
  /** The swarm that must catch it: the file swarm (when absent), or the PostgreSQL swarm (`--store pg`). */
  store?: 'pg';
}

export const PLANTED_FAULTS = {
  'bucket-off-by-one': {
    module: 'core/token-bucket',
    find: 'const capacityCredit = capacity * rate.period_us;',
    replace: 'const capacityCredit = (capacity + 1) * rate.period_us;',
    what: 'the token bucket holds one token more than bucket_size',
  },
  'skip-checksum': {
    module: 'log/log-reader',
    find: 'else if (markerRead.crc !== crcNow)',
    replace: 'else if (false)',
    what: "the reader does not check a batch's CRC-32",
  },
  'ack-before-fsync': {
    module: 'log/file-log',
    find: 'this.syncing = p;',
    // What follows (`return p;`) is then never reached.
    replace: 'this.syncing = p; p.catch(() => undefined); return Promise.resolve();',
    what: 'a flush resolves (and the API acknowledges) before its fdatasync completed',
  },
  'answer-before-sync': {
    // Not pushq's engine but the swarm's model of the API (the swarm drives the kernel, not HTTP):
    // how src/server/operations.ts answered a refusal before the swarm found it. The real API is
    // pinned by test/server/answer-after-sync.test.ts.
    module: 'testing/swarm/run',
    find: "this.answerAfterFlush(specs, keys, 'ALREADY_EXISTS');",
    replace: "for (const k of keys) { this.pending.delete(k); this.acked.set(k, 'ALREADY_EXISTS, answered at once'); }",
    what: 'the API answers ALREADY_EXISTS at once, before the task it names is synced',
  },
  'fence-skipped': {
    module: 'store/pg-store',
    find: 'WHERE stream = $1 AND epoch = $2 AND ($4::BIGINT IS NULL OR next_position = $4) RETURNING',
    // $2 stays in the statement (PostgreSQL must still learn its type) but no longer fences. (The
    // writer's expected position still holds back a deposed writer once the new owner appended.)
    replace: 'WHERE stream = $1 AND $2::BIGINT IS NOT NULL AND ($4::BIGINT IS NULL OR next_position = $4) RETURNING',
    what: "an append does not check the writer's epoch: a deposed owner's batch goes in",
    store: 'pg',
  },
  'lease-ignored': {
    module: 'store/pg-store',
    find: 'WHERE pushq_streams.owner IS NULL OR pushq_streams.owner = excluded.owner OR pushq_streams.lease_expires_at <= now()',
    replace: 'WHERE true',
    what: 'an acquire takes a stream whose lease another owner holds and has not let run out',
    store: 'pg',
  },
  'epoch-kept': {
    module: 'store/pg-store',
    find: 'DO UPDATE SET epoch = pushq_streams.epoch + 1,',
    replace: 'DO UPDATE SET epoch = pushq_streams.epoch,',
    what: 'an acquire of a stream that had an owner keeps its epoch: the deposed owner is not fenced',
    store: 'pg',
  },
  'snapshot-tail-skips-one': {
    module: 'server/stream-snapshots',
    find: 'return { snapshot, tail: await store.read(stream, snapshot.position), from: snapshot.position };',
    replace: 'return { snapshot, tail: await store.read(stream, snapshot.position + 1), from: snapshot.position };',
    what: "a takeover from a snapshot reads the stream's tail from one event past the snapshot's position: that event is never folded",
    store: 'pg',
  },
  'snapshot-position-off-by-one': {
    module: 'server/stream-snapshots',
    find: 'await store.putSnapshot(log.stream, epoch, position, bytes);',
    replace: 'await store.putSnapshot(log.stream, epoch, position + 1, bytes);',
    what: 'a snapshot is stored under a position one past the fold it holds',
    store: 'pg',
  },
  'snapshot-before-durable': {
    module: 'server/stream-snapshots',
    find: 'await this.durable(position)',
    // `if (!(true)) return false;`: the wait is skipped, the put goes on at once.
    replace: 'true',
    what: 'a snapshot is stored without waiting for the events it covers to be in the store: it may hold events a crash then loses',
    store: 'pg',
  },
} as const satisfies Record<string, PlantedFault>;

export type PlantedFaultName = keyof typeof PLANTED_FAULTS;
