/**
 * The statements of an append (PgStore.appendMany), apart from the store's transactions and
 * retries: the one statement that claims every batch's positions and inserts its events, and the
 * plain multi-row insert of a batch judged alone.
 */
import type pg from 'pg';
import { ROWS_PER_INSERT } from './pg-schema.js';

/** The claim-and-insert statement: $1–$4 one element per batch, $5–$7 one per event. */
const APPEND_CLAIMED_SQL = `WITH batch AS (
    SELECT * FROM unnest($1::TEXT[], $2::BIGINT[], $3::BIGINT[], $4::BIGINT[]) AS b (stream, epoch, n, expected)
  ), claimed AS (
    UPDATE pushq_streams AS s SET next_position = s.next_position + batch.n FROM batch
    WHERE s.stream = batch.stream AND s.epoch = batch.epoch AND (batch.expected IS NULL OR s.next_position = batch.expected)
    RETURNING s.stream, s.epoch, s.next_position - batch.n AS start
  ), inserted AS (
    INSERT INTO pushq_events (stream, position, epoch, body)
    SELECT e.stream, claimed.start + e.i, claimed.epoch, e.body
    FROM unnest($5::TEXT[], $6::BIGINT[], $7::TEXT[]) AS e (stream, i, body) JOIN claimed ON claimed.stream = e.stream
  )
  SELECT stream, start FROM claimed`;

/** The claim-and-insert statement for `batches` (one per stream) and their encoded events, prepared once per connection by its name. */
export function appendClaimedQuery(batches: readonly { stream: string; epoch: number; at?: number }[], bodies: readonly (readonly string[])[]): pg.QueryConfig {
  const eventStream: string[] = [];
  const eventIndex: number[] = [];
  const eventBody: string[] = [];
  batches.forEach((b, k) => {
    const events = bodies[k]!;
    for (let i = 0; i < events.length; i++) {
      eventStream.push(b.stream);
      eventIndex.push(i);
      eventBody.push(events[i]!);
    }
  });
  return {
    name: 'pushq_append_claimed',
    text: APPEND_CLAIMED_SQL,
    values: [batches.map((b) => b.stream), batches.map((b) => b.epoch), bodies.map((e) => e.length), batches.map((b) => b.at ?? null), eventStream, eventIndex, eventBody],
  };
}

/** Inserts the placed batches' events (from `skip` on), as few statements as the parameter limit allows. */
export async function insertEvents(c: pg.PoolClient, placed: readonly { stream: string; epoch: number; first: number; skip: number; bodies: readonly string[] }[]): Promise<void> {
  let values: unknown[] = [];
  let rows: string[] = [];
  const send = async (): Promise<void> => {
    if (rows.length === 0) return;
    await c.query(`INSERT INTO pushq_events (stream, position, epoch, body) VALUES ${rows.join(', ')}`, values);
    values = [];
    rows = [];
  };
  for (const { stream, epoch, first, skip, bodies } of placed) {
    for (let i = skip; i < bodies.length; i++) {
      const p = rows.length * 4;
      rows.push(`($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4})`);
      values.push(stream, first + i, epoch, bodies[i]);
      if (rows.length === ROWS_PER_INSERT) await send();
    }
  }
  await send();
}
