/**
 * `pushq replay LOG --ui [--port N] [--host H] [--allow-host NAME] [--at T] [--repair]`: the dashboard of `pushq serve`,
 * read-only, over a recorded log (docs/dashboard.md). The log is read and folded first
 * (time-travel.ts), with `pushq replay`'s errors and warning, so a log that is not a pushq log,
 * is corrupt or from a newer pushq fails here with exit 1 before anything listens. Then the URL is
 * printed (with `?at=` for --at) and the page can be used; the checkpoints that make moves of the
 * cursor quick are taken afterwards, between requests (a second line says when they are all
 * taken). The server runs until SIGINT or SIGTERM (exit 0).
 */
import type { ReplayServer } from '../server/replay-server.js';
import { LogIndex } from '../server/time-travel.js';
import { atBasisText, checkAtInSpan, droppedWarning, resolveAt } from './replay-at.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from './io.js';
import { counted } from './counted.js';

export interface UiArgs {
  log: string;
  host: string | undefined;
  port: number | undefined;
  at: string | undefined;
  repair: boolean;
  /** --allow-host: more names a request's Host may give. */
  allowHosts: readonly string[];
  /** How output names the log when `log` is a stand-in (a store's temporary export). */
  shown?: string;
  /**
   * A store's log, which a service may be writing still: --at, and the page's `?at=`, may be any
   * instant up to now, as for `pushq replay STORE --at` (replay-at.ts, checkAtInSpan).
   */
  live?: true;
}

/**
 * The background index waits until no request has come in or been answered for this long: the
 * page's own requests (a burst as it opens, or as the cursor moves) are served first.
 */
const PAGE_QUIET_MS = 100;

/** SIGINT or SIGTERM, once either comes (until cancelled): which. */
function untilStopped(): { signal: Promise<string>; cancel: () => void } {
  let cancel = (): void => {};
  const signal = new Promise<string>((resolve) => {
    const stop = (name: string): void => {
      cancel();
      resolve(name);
    };
    const onInt = (): void => stop('SIGINT');
    const onTerm = (): void => stop('SIGTERM');
    cancel = () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    };
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  return { signal, cancel };
}

/** Throws LogError, EventMisfitError, CliUsageError (the caller reports them as replay does). */
export async function replayUi(a: UiArgs, io: CliIo): Promise<number> {
  const started = performance.now();
  // The log is read first; the server's modules load meanwhile, while the reading thread starts.
  const reading = LogIndex.readFile(a.log, { repair: a.repair, deferCheckpoints: true });
  const serverModules = Promise.all([import('../server/replay-server.js'), import('../server/read-source.js')]);
  const { index, recovered } = await reading.catch(async (err: unknown) => {
    await serverModules.catch(() => undefined);
    throw err;
  });
  const [{ ReplayServer }, { RecordedSource }] = await serverModules;
  const name = a.shown ?? a.log;
  const warning = droppedWarning(name, recovered);
  if (warning !== null) io.stderr(warning);
  const first = Number.isNaN(index.firstUs) ? 0 : index.firstUs;
  const spanSeconds = Number.isNaN(index.lastUs) ? 0 : (index.lastUs - first) / 1e6;
  let query = '';
  let atNote = '';
  if (a.at !== undefined) {
    const at = resolveAt(a.at, index.header.clock, first);
    checkAtInSpan(at, index.header.clock, index.firstUs, index.lastUs, a.live === true ? Date.now() * 1000 : undefined);
    const seconds = (at.us - first) / 1e6;
    query = `?at=${seconds}`;
    atNote = ` · opens at ${seconds} s (${atBasisText(at)})`;
  }
  const source = new RecordedSource(index, name, a.live === true);
  // Listening for Ctrl-C before the URL is out: a stop asked as soon as it is printed is heard.
  const stopped = untilStopped();
  let server: ReplayServer;
  try {
    server = await ReplayServer.start(source, { ...(a.host === undefined ? {} : { host: a.host }), ...(a.port === undefined ? {} : { port: a.port }), allowHosts: a.allowHosts });
  } catch (err) {
    stopped.cancel();
    io.stderr(`pushq replay: cannot start the dashboard: ${(err as Error).message}\n`);
    return EXIT_FAILURE;
  }
  const readSeconds = ((performance.now() - started) / 1000).toFixed(2);
  io.stdout(
    `pushq replay: dashboard ${server.url}/${query} · ${name}: ${counted(index.events, 'event')} over ${spanSeconds} s (${index.header.clock} clock), ` +
      `read in ${readSeconds} s${atNote} · read-only · Ctrl-C stops\n`,
  );
  const indexStarted = performance.now();
  const stopIndexing = new AbortController();
  // Events fold identically in both passes, so the second cannot fail where the first did not;
  // should it, the page goes on answering from the checkpoints taken (folding on from them).
  const indexing = index.indexInBackground(undefined, stopIndexing.signal, () => server.activeWithin(PAGE_QUIET_MS)).then(
    () => {
      if (index.indexed) io.stdout(`pushq replay: time travel indexed: ${counted(index.checkpointCount, 'checkpoint')} in ${((performance.now() - indexStarted) / 1000).toFixed(2)} s\n`);
    },
    (err: unknown) => io.stderr(`pushq replay: time-travel index not finished (moves of the cursor fold on from the last checkpoint taken): ${(err as Error).message}\n`),
  );
  const signal = await stopped.signal;
  stopIndexing.abort();
  await indexing;
  await server.close();
  io.stdout(`pushq replay: ${signal}: stopped\n`);
  return EXIT_OK;
}
