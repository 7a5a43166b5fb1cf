import { getTableColumns, getTableName, type InferInsertModel, type Table } from 'drizzle-orm';
import type { Database } from './client.js';

/** One row for one table, typed by drizzle's schema. */
export interface RowFor<T extends Table = Table> {
  table: T;
  row: InferInsertModel<T>;
}

export const rowFor = <T extends Table>(table: T, row: InferInsertModel<T>): RowFor<T> => ({ table, row });

/** A row keyed by column name with values in the driver's form, converted by drizzle's own columns. */
function driverRow({ table, row }: RowFor): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = (row as Record<string, unknown>)[key];
    if (value !== undefined) values[column.name] = value === null ? null : column.mapToDriverValue(value);
  }
  return values;
}

/**
 * Inserts rows into several tables with one statement (data-modifying CTEs): all of them or, if
 * any is refused (a unique violation), none. Written with postgres.js directly: on the create
 * path drizzle's query builder cost more CPU than everything else the request does.
 */
export async function insertTogether(db: Database, rows: RowFor[]): Promise<void> {
  const sql = db.$client;
  const parts = rows.map(
    (r, i) => sql`${i === 0 ? sql`with` : sql`,`} ${sql(`w${i}`)} as (insert into ${sql(getTableName(r.table))} ${sql(driverRow(r))})`,
  );
  await sql`${parts} select 1`;
}
