/** The cluster flags of `pushq serve`: checked together, usage errors naming the flag. */
import { describe, expect, it } from 'vitest';
import { CliUsageError } from '../../src/cli/args.js';
import { parseServeArgs } from '../../src/cli/serve.js';
import { pushq } from '../helpers/cli.js';

function usage(args: string[]): string {
  try {
    parseServeArgs(args);
  } catch (err) {
    if (err instanceof CliUsageError) return err.message;
    throw err;
  }
  return '(accepted)';
}

describe('pushq serve --cluster flags', () => {
  it('defaults: a 15 s lease, the bound address advertised; absent without --cluster', () => {
    expect(parseServeArgs(['--store', 'postgres://h/db', '--cluster'])).toMatchObject({ cluster: true, leaseSeconds: 15 });
    expect(parseServeArgs(['--store', 'postgres://h/db', '--cluster'])!.advertise).toBeUndefined();
    const single = parseServeArgs(['--store', 'postgres://h/db'])!;
    expect('cluster' in single || 'leaseSeconds' in single).toBe(false);
    expect(parseServeArgs(['--store', 'postgres://h/db', '--cluster', '--advertise', 'http://10.0.0.5:8123/', '--lease-seconds', '2.5'])).toMatchObject({ advertise: 'http://10.0.0.5:8123', leaseSeconds: 2.5 });
  });

  it('refuses --cluster without --store, cluster flags without --cluster, a lease under 0.5 s, an advertised URL with a path', () => {
    expect(usage(['--cluster'])).toContain('--cluster needs --store');
    expect(usage(['--store', 'postgres://h/db', '--lease-seconds', '3'])).toBe('--lease-seconds is for --cluster');
    expect(usage(['--advertise', 'http://h:1'])).toBe('--advertise is for --cluster');
    expect(usage(['--store', 'postgres://h/db', '--cluster', '--lease-seconds', '0.1'])).toContain('at least 0.5');
    expect(usage(['--store', 'postgres://h/db', '--cluster', '--advertise', 'http://h:1/api'])).toContain('--advertise wants http://HOST:PORT');
  });

  it('refuses a node bound to every address (--host 0.0.0.0, ::) without --advertise: the bound address would be advertised, which other machines cannot reach', () => {
    const node = ['--store', 'postgres://h/db', '--cluster', '--auth-token', 'a-long-enough-token-for-the-check-xyz'];
    // Every spelling the resolver takes for the unspecified address (`--host 0` binds 0.0.0.0).
    for (const host of ['0.0.0.0', '::', '0', '0.0', '00', '0x0', '::0', '0:0:0:0:0:0:0:0', '[::]']) {
      expect(usage([...node, '--host', host])).toBe(`--host ${host} binds every address, and the other nodes cannot reach this one at ${host}: give --advertise http://ADDRESS:PORT, the address they reach it at`);
      expect(parseServeArgs([...node, '--host', host, '--advertise', 'http://10.0.0.5:8123'])).toMatchObject({ advertise: 'http://10.0.0.5:8123', host });
    }
    expect(usage([...node, '--host', '10.0.0.5', '--advertise', 'http://0.0.0.0:8123'])).toContain('names no address the other nodes can reach');
    expect(usage([...node, '--host', '10.0.0.5', '--advertise', 'http://[::]:8123'])).toContain('names no address the other nodes can reach');
    expect(usage([...node, '--host', '10.0.0.5', '--advertise', 'http://0:8123'])).toContain('names no address the other nodes can reach');
    expect(usage([...node, '--host', '10.0.0.5', '--advertise', 'http://[::0]:8123'])).toContain('names no address the other nodes can reach');
    // Not the unspecified address: a host named 0x (a name), 10.0.0.0, 0::1.
    for (const host of ['0x', '10.0.0.0', '::1']) expect(usage([...node, '--host', host])).toBe('(accepted)');
    expect(usage([...node, '--host', '10.0.0.5'])).toBe('(accepted)');
    // One node binds every address as before: nothing is advertised.
    expect(usage(['--store', 'postgres://h/db', '--host', '0.0.0.0', '--auth-token', 'a-long-enough-token-for-the-check-xyz'])).toBe('(accepted)');
  });

  it('refuses two places for the log (--memory, --store, --data), naming both, rather than using one silently', () => {
    expect(usage(['--memory', '--store', 'postgres://h/db'])).toMatch(/^--store and --memory cannot be combined: the log is kept in one place/);
    expect(usage(['--memory', '--data', 'd9'])).toMatch(/^--data and --memory cannot be combined/);
    expect(usage(['--store', 'postgres://h/db', '--data', 'd9'])).toMatch(/^--data and --store cannot be combined/);
    expect(usage(['--memory'])).toBe('(accepted)');
  });

  it('the command exits 2 on such a combination, before anything starts', async () => {
    const r = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--memory', '--store', 'postgres://127.0.0.1:1/db'], { timeoutMs: 20_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pushq serve: --store and --memory cannot be combined/);
    expect(r.stdout).toBe('');
  });
});
