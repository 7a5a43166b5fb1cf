/**
 * Statements written by hand with postgres.js, for the hot paths (create, dispatch, every status
 * change): there drizzle's query builder cost more CPU than the rest of the request together.
 * Rows are still typed and converted by drizzle's schema, in both directions.
 */
import { getTableColumns, getTableName, type InferInsertModel, type InferSelectModel, type Table } from 'drizzle-orm';
import type postgres from 'postgres';
import type { Executor } from './client.js';

/** The postgres.js client behind a drizzle handle or open transaction (drizzle's postgres-js session keeps it). */
export const clientOf = (db: Executor): postgres.Sql => (db._.session as unknown as { client: postgres.Sql }).client;

/** Values keyed by column name in the driver's form, converted by drizzle's own columns. */
export function driverRow<T extends Table>(table: T, values: Partial<InferInsertModel<T>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = (values as Record<string, unknown>)[key];
    if (value !== undefined) out[column.name] = value === null ? null : column.mapToDriverValue(value);
  }
  return out;
}

/** A row read by hand (keyed by column name), as drizzle would have returned it. */
export function fromDriverRow<T extends Table>(table: T, raw: Record<string, unknown>): InferSelectModel<T> {
  const out: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = raw[column.name];
    out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return out as InferSelectModel<T>;
}

/** One row for one table, typed by drizzle's schema. */
export interface RowFor<T extends Table = Table> {
  table: T;
  row: InferInsertModel<T>;
}

export const rowFor = <T extends Table>(table: T, row: InferInsertModel<T>): RowFor<T> => ({ table, row });

/** Inserts rows into several tables with one statement (data-modifying CTEs): all of them or, if any is refused, none. */
export async function insertTogether(db: Executor, rows: RowFor[]): Promise<void> {
  const sql = clientOf(db);
  const parts = rows.map(
    (r, i) => sql`${i === 0 ? sql`with` : sql`,`} ${sql(`w${i}`)} as (insert into ${sql(getTableName(r.table))} ${sql(driverRow(r.table, r.row))})`,
  );
  await sql`${parts} select 1`;
}
