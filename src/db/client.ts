import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema/index.js';

export type Database = PostgresJsDatabase<typeof schema>;
/** A database handle or an open transaction: services accept either. */
export type Executor = Database | Parameters<Parameters<Database['transaction']>[0]>[0];

export interface DatabaseHandle {
  db: Database;
  sql: postgres.Sql;
  close(): Promise<void>;
}

export function connectDatabase(url: string, options: { max?: number } = {}): DatabaseHandle {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    // Fail fast instead of queueing forever when PostgreSQL is unreachable.
    connect_timeout: 5,
    // The driver's per-connection lookup of array types rejects unhandled (exiting the process)
    // when its connection is killed at that moment (porsager/postgres#1192, #1223). Without it,
    // arrays are read and written only through drizzle's array columns, which parse and format
    // the text form themselves; raw SQL binds lists with `in ${sql(list)}` and aggregates with json_agg.
    fetch_types: false,
    // A safety net: a transaction left open (a bug, here or in the driver: see
    // patches/postgres+3.4.9.patch) would hold its row locks until the process exits; PostgreSQL
    // ends it after a minute instead. Our transactions are short and never wait on a person.
    connection: { idle_in_transaction_session_timeout: 60_000 },
  });
  const db = drizzle(sql, { schema });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}
