import { and, eq, gt, lt, or, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { AppError } from '../http/errors.js';

/**
 * Newest-first keyset pagination on (created_at, id): pages stay stable while rows are added,
 * and the cursor is opaque to clients.
 */
export interface Keyed {
  createdAt: Date;
  id: string;
}

const encode = (row: Keyed) => Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');

function decode(cursor: string): Keyed {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(createdAt.getTime())) {
    throw new AppError('validation_failed', 'cursor is not one this API returned', {
      errors: [{ path: 'cursor', message: 'invalid cursor' }],
    });
  }
  return { createdAt, id };
}

/** The WHERE condition for the rows after `cursor` (undefined for the first page). */
export function afterCursor(columns: { createdAt: PgColumn; id: PgColumn }, cursor: string | undefined): SQL | undefined {
  if (!cursor) return undefined;
  const after = decode(cursor);
  return or(lt(columns.createdAt, after.createdAt), and(eq(columns.createdAt, after.createdAt), lt(columns.id, after.id)));
}

/** Query with `limit + 1` rows; this cuts the page and makes the next cursor from its last row. */
export function keysetPage<R extends Keyed, T>(rows: R[], limit: number, toResponse: (row: R) => T) {
  const page = rows.slice(0, limit);
  return { items: page.map(toResponse), nextCursor: rows.length > limit ? encode(page[page.length - 1]!) : null };
}

/** Oldest-due-first paging of batch jobs on (scheduled_for, id): the rows after `after` (undefined for the first page). */
export function afterDue(
  columns: { scheduledFor: PgColumn; id: PgColumn },
  after: { scheduledFor: Date; id: string } | null,
): SQL | undefined {
  if (!after) return undefined;
  return or(gt(columns.scheduledFor, after.scheduledFor), and(eq(columns.scheduledFor, after.scheduledFor), gt(columns.id, after.id)));
}
