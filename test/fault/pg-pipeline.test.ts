import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, expect, it } from 'vitest';

/**
 * postgres.js 3.4.9 pipelines queries onto busy connections. When a transaction's BEGIN was the
 * query that filled a connection's pipeline (or met a full socket buffer), the driver skipped
 * reserving that connection: the transaction failed with UNSAFE_TRANSACTION, PostgreSQL kept it
 * open, and the pool handed the connection to unrelated queries, which ran inside it and held their
 * locks until the process ended (porsager/postgres#1189; under load in bench/dispatch.ts, every
 * dispatch of the rows it had touched waited forever). patches/postgres+3.4.9.patch fixes it; this
 * is the deterministic case, with a pipeline of two instead of a hundred.
 */
const URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `sc-pipeline-${randomBytes(4).toString('hex')}`;
// max_pipeline is a driver option its type declarations leave out.
const options = { max: 2, max_pipeline: 2, fetch_types: false, onnotice: () => {}, connection: { application_name: name } };
const sql = postgres(URL, options);
const observer = postgres(URL, { max: 1, fetch_types: false });
afterAll(() => Promise.all([sql.end({ timeout: 1 }), observer.end({ timeout: 1 })]));

it('a transaction whose BEGIN fills a connection’s pipeline still gets that connection to itself', async () => {
  await Promise.all([sql`select 1`, sql`select 1`]); // both connections open and idle
  const plain = (n: number) => sql.unsafe(`select ${n} as n`).execute();
  // Both connections busy, one query pipelined behind each, then BEGIN lands as the second
  // pipelined query of a connection, followed by unrelated queries.
  const outcomes = await Promise.allSettled([
    sql.unsafe('select pg_sleep(0.2)').execute(),
    sql.unsafe('select pg_sleep(0.2)').execute(),
    plain(1),
    plain(2),
    sql.begin(async (tx) => (await tx`select txid_current() as id`)[0]!.id as string),
    plain(3),
    plain(4),
  ]);
  expect(outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : String((o.reason as { code?: string }).code)))).toEqual(Array(7).fill('ok'));

  // No connection of ours is left inside a transaction for later queries to run in.
  await plain(5);
  const open = await observer`select count(*)::int as n from pg_stat_activity where application_name = ${name} and state like 'idle in transaction%'`;
  expect(open[0]!.n).toBe(0);
});
