/**
 * A cluster node's name, and what every connection of its to the store shares (node.ts): the
 * node's name as their application_name, so an operator's pg_stat_activity and another node's
 * lock-wait lines say which node a session is; the statement bound; and one LockWaits, so a start
 * or a round held up by a lock says what it waits for and on whom while it waits, on the node's
 * report: `pushq serve: starting: node N: waiting for ...` until the node has started (a second
 * in, then every 5 s, as a single node's start does), `pushq serve: node N: waiting for ...`
 * after. A store that does not answer at all is said once started by the round's own line.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { SessionOptions } from '../store/pg-session.js';
import { phasedLockWaits, type LockWaits } from '../store/pg-waits.js';

/** A new node's name: its host, process and a random part (two nodes of one process differ). */
export function newNodeName(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export interface NodeSessions {
  /** For PgStore.open, Membership.open and StorageBudget.open. */
  readonly session: SessionOptions & { lockWaits: LockWaits };
  /** The node has started: lock-wait lines are a running node's from now on. */
  started(): void;
}

export function nodeSessions(node: string, storeUrl: string, statementTimeoutMs: number | undefined, report: (line: string) => void): NodeSessions {
  const { lockWaits, started } = phasedLockWaits(storeUrl, statementTimeoutMs, report, { starting: `pushq serve: starting: node ${node}: `, running: `pushq serve: node ${node}: ` });
  return {
    session: { ...(statementTimeoutMs === undefined ? {} : { statementTimeoutMs }), applicationName: `pushq node ${node}`, lockWaits },
    started,
  };
}
