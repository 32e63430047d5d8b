/**
 * `pushq serve --store postgres://... --cluster`: this process is one node of several on one
 * store (docs/cluster.md). The node takes its share of the queues, forwards calls for the others
 * to their owners, and on SIGINT/SIGTERM drains, releases its queues (the others take them at
 * their next tick, without waiting for a lease to run out) and leaves. SIGHUP reloads this node's
 * queue.yaml (node.ts, reload): a change for the whole cluster is the file changed on every
 * machine and every node sent SIGHUP (docs/cluster.md).
 */
import type { QueueFileConfig } from '../config/types.js';
import { ClusterNode } from '../cluster/node.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION } from '../log/event-log.js';
import { configHash } from '../log/config-hash.js';
import { StoreError, redactUrl } from '../store/store.js';
import { PUSHQ_VERSION } from '../version.js';
import { CliUsageError } from './args.js';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from './io.js';
import type { ServeArgs } from './serve.js';
import { reportReload, type ServeSignals } from './serve-signals.js';
import { bindsEveryAddress } from '../server/listen-url.js';
import { targetsSummary } from '../server/unrouted-queues.js';

/** A queue's lease and a node's heartbeat, unless --lease-seconds says otherwise. */
const CLUSTER_LEASE_SECONDS = 15;

export async function serveCluster(parsed: ServeArgs & { store: string }, config: QueueFileConfig, declaresDefault: boolean, io: CliIo, signals: ServeSignals): Promise<number> {
  let node: ClusterNode;
  try {
    node = await ClusterNode.start({
      storeUrl: parsed.store,
      config,
      ...(parsed.config === undefined ? {} : { configPath: parsed.config }),
      headerFor: (c) => ({ format: LOG_FORMAT, version: LOG_FORMAT_VERSION, pushqVersion: PUSHQ_VERSION, seed: 0, clock: 'wall', configHash: configHash(c) }),
      service: {
        targets: parsed.targets,
        host: parsed.host,
        connections: parsed.connections,
        allowHosts: parsed.allowHosts,
        allowOrigins: parsed.allowOrigins,
        allowHttpTargets: parsed.allowHttpTargets,
        ...(parsed.authToken === undefined ? {} : { authToken: parsed.authToken }),
        insecurePublic: parsed.insecurePublic,
        allowReset: parsed.allowReset,
        configDeclaresDefault: declaresDefault,
      },
      port: parsed.port,
      grpcPort: parsed.grpcPort,
      ...(parsed.advertise === undefined ? {} : { advertiseUrl: parsed.advertise }),
      leaseMs: (parsed.leaseSeconds ?? CLUSTER_LEASE_SECONDS) * 1000,
      ...(parsed.storeTimeoutSeconds === undefined ? {} : { statementTimeoutMs: parsed.storeTimeoutSeconds * 1000 }),
      report: (line) => io.stdout(`${line}\n`),
    });
  } catch (err) {
    const message = err instanceof StoreError ? `cannot open the store: ${err.message} (${err.code})` : `cannot start: ${(err as Error).message.split(parsed.store).join(redactUrl(parsed.store))}`;
    io.stderr(`pushq serve: ${message}\n`);
    return EXIT_FAILURE;
  }
  return new Promise<number>((resolve) => {
    const onStop = (signal: string): void => {
      io.stdout(`pushq serve: ${signal}: stopping (draining owned queues up to ${parsed.drainSeconds} s, then releasing them)\n`);
      node.close(parsed.drainSeconds * 1000).then(
        () => {
          io.stdout('pushq serve: stopped\n');
          resolve(EXIT_OK);
        },
        (err: unknown) => {
          io.stderr(`pushq serve: shutdown failed: ${(err as Error).message}\n`);
          resolve(EXIT_FAILURE);
        },
      );
    };
    const onHup = (): void => reportReload(io, node.reload());
    io.stdout(
      `pushq serve: API ${node.url}/v2/projects/-/locations/-/queues · gRPC ${new URL(node.url).hostname}:${node.grpcPort} · cluster node ${node.node} · store ${node.store.displayUrl} (PostgreSQL)` +
        ` · lease ${parsed.leaseSeconds ?? CLUSTER_LEASE_SECONDS} s · owns ${node.owned().join(', ') || '(none yet)'}` +
        ` · targets ${targetsSummary(parsed.targets)} · queues ${config.queues.map((q) => q.name).join(', ')}\n`,
    );
    signals.running({ reload: onHup, stop: onStop });
  });
}

/**
 * The cluster flags checked together: --cluster needs --store; --advertise and --lease-seconds
 * need --cluster; a node bound to every address (--host 0.0.0.0) needs --advertise, since the
 * default advertised URL is the bound one, and other machines reaching `0.0.0.0` reach themselves
 * (every call they forward to this node would come back to them). Throws CliUsageError.
 */
export function clusterArgs(cluster: boolean, store: string | undefined, advertise: string | undefined, leaseSeconds: number | undefined, host = '127.0.0.1'): Pick<ServeArgs, 'cluster' | 'advertise' | 'leaseSeconds'> {
  if (cluster && store === undefined) throw new CliUsageError('--cluster needs --store postgres://...: the nodes share that store');
  if (!cluster && (advertise !== undefined || leaseSeconds !== undefined)) throw new CliUsageError(`${advertise !== undefined ? '--advertise' : '--lease-seconds'} is for --cluster`);
  if (leaseSeconds !== undefined && leaseSeconds < 0.5) throw new CliUsageError(`--lease-seconds must be at least 0.5 (got ${leaseSeconds})`);
  if (advertise !== undefined && !/^https?:\/\/[^/]+\/?$/.test(advertise)) throw new CliUsageError(`--advertise wants http://HOST:PORT, got "${advertise}"`);
  if (!cluster) return {};
  if (advertise === undefined && bindsEveryAddress(host)) {
    throw new CliUsageError(`--host ${host} binds every address, and the other nodes cannot reach this one at ${host}: give --advertise http://ADDRESS:PORT, the address they reach it at`);
  }
  if (advertise !== undefined && bindsEveryAddress(new URL(advertise).hostname)) throw new CliUsageError(`--advertise ${advertise} names no address the other nodes can reach: give this node's own address`);
  return { cluster: true, ...(advertise === undefined ? {} : { advertise: advertise.replace(/\/$/, '') }), leaseSeconds: leaseSeconds ?? CLUSTER_LEASE_SECONDS };
}
