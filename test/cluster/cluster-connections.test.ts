/**
 * A cluster node's HTTP port (its router: the port its clients call, often beyond loopback) under
 * idle and slowloris clients, as one node's API is (connection-limits.ts; docs/serve.md, Faults;
 * docs/cluster.md). The router was a bare `createServer`: an idle connection was held for Node's
 * default minute, and nothing bounded them, so 230 idle connections to a node whose `ulimit -n` was
 * 256 took every file descriptor it had: it answered no one until they went. Now the same limits
 * as one node's: headers within 10 s or 408 and the connection closed. The node runs with
 * PUSHQ_HEADERS_TIMEOUT_MS=2000 (connection-limits.ts headersTimeoutMs; its 10 s default is pinned
 * in test/server/api-connections.test.ts): the variable reaches the defaults alone, so a router
 * with other limits than a node's API, or none, still fails here, in 2 s rather than 10.
 */
import { expect, it } from 'vitest';
import { expectSlowClientsClosedAtHeadersTimeout } from '../helpers/flood.js';
import { clusterFixture, startNode, writeQueueYaml } from './cluster-harness.js';

const fx = clusterFixture('pushq-cluster-connections-');
const HEADERS_TIMEOUT_MS = 2000;

it('closes idle and slowloris connections at the headers timeout (408), as one node does, and answers others meanwhile', async () => {
  const config = await writeQueueYaml(fx.dir, 'queue:\n- name: q0\n  rate: 5/s\n');
  const node = await startNode(['--config', config, '--store', await fx.pg.database(), '--target', 'default=http://127.0.0.1:9'], 0, { PUSHQ_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) });
  fx.nodes.push(node);
  const port = Number(new URL(node.proc.url).port);
  await expectSlowClientsClosedAtHeadersTimeout(port, HEADERS_TIMEOUT_MS, 'the node', async () => {
    const health = await fetch(`${node.proc.url}/pushq/health`);
    expect(health.status).toBe(200);
  });
}, 90_000);
