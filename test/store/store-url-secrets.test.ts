/**
 * A store URL's password is never printed: node-postgres (as libpq) also takes it as a query
 * parameter, `postgres://user@host/db?password=...`, and every place pushq names the store (the
 * startup line, a refusal at start, replay's output and errors) must hide it there too.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PG_PASSWORD } from '../helpers/pg-cluster.js';
import { pushq } from '../helpers/cli.js';
import { startServe } from '../helpers/serve-process.js';
import { redactUrl } from '../../src/store/store.js';
import { createWork, serveStoreFixture } from './serve-store-fixture.js';

const QUEUE_YAML = `
queue:
- name: work
  rate: 1/s
`;

const fx = serveStoreFixture('pushq-pgsecret-', QUEUE_YAML);

/** `url` with its password moved from the user part to `?password=`. */
function passwordInQuery(url: string, password = PG_PASSWORD): string {
  const u = new URL(url);
  u.password = '';
  u.searchParams.set('password', password);
  return u.toString();
}

describe('a store URL with ?password=', () => {
  it('redactUrl hides the password in the query as in the user part, and every parameter naming one', () => {
    expect(redactUrl('postgres://u@db:5432/pushq?password=hunter2&sslmode=disable')).toBe('postgres://u@db:5432/pushq?password=***&sslmode=disable');
    expect(redactUrl('postgres://u:pw1@db/pushq?sslpassword=pw2')).toBe('postgres://u:***@db/pushq?sslpassword=***');
    expect(redactUrl('postgresql://u@db/pushq?application_name=x')).toBe('postgresql://u@db/pushq?application_name=x');
  });

  it('serve, a refused start and replay (its summary and its errors) never print it', async () => {
    const url = passwordInQuery(await fx.pg.database());
    const served = await startServe(['--config', fx.queueYamlPath, '--store', url], 60_000);
    fx.children.push(served);
    expect(served.stdout()).toContain('password=***');
    expect(await createWork(served.api, 'one')).toBe(200);
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
    expect(served.stdout() + served.stderr()).not.toContain(PG_PASSWORD);

    const wrong = passwordInQuery(url, 'not-the-password');
    const refused = await pushq(['serve', '--port', '0', '--grpc-port', '0', '--store', wrong]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('STORE_AUTH_FAILED');
    expect(refused.stderr).not.toContain('not-the-password');

    const replayed = await pushq(['replay', url]);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stdout).toContain('password=***');
    expect(replayed.stdout + replayed.stderr).not.toContain(PG_PASSWORD);

    // A log whose events do not fold (the task added twice): replay's refusal names the store.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const added = await c.query<{ body: string; epoch: string }>(`SELECT body, epoch FROM pushq_events WHERE body LIKE '{"type":"TaskAdded"%' LIMIT 1`);
      const stream = await c.query<{ stream: string; next_position: string }>('SELECT stream, next_position FROM pushq_streams');
      const { stream: name, next_position: next } = stream.rows[0]!;
      await c.query('INSERT INTO pushq_events (stream, position, epoch, body) VALUES ($1, $2, $3, $4)', [name, next, added.rows[0]!.epoch, added.rows[0]!.body]);
      await c.query('UPDATE pushq_streams SET next_position = next_position + 1 WHERE stream = $1', [name]);
    } finally {
      await c.end();
    }
    const misfit = await pushq(['replay', url]);
    expect(misfit.code).toBe(1);
    expect(misfit.stderr).toContain('does not apply to the state before it');
    expect(misfit.stderr).toContain('password=***');
    expect(misfit.stderr).not.toContain(PG_PASSWORD);
  }, 180_000);
});
