import { and, eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { callbackEvents, callbacks, outbox } from '../db/schema/index.js';
import type { CallbackStatus } from '../domain/callback-state.js';
import { statusesLeadingTo } from '../domain/callback-state.js';

export type CallbackRow = typeof callbacks.$inferSelect;

/** Transitions that someone outside must hear about (SPEC §6): they write an outbox row. */
const NOTIFY: Partial<Record<CallbackStatus, string>> = {
  ready: 'callback.ready',
  completed: 'callback.completed',
  suppressed: 'callback.suppressed',
  unreachable: 'callback.unreachable',
};

export function callbackEventPayload(row: CallbackRow): Record<string, unknown> {
  return {
    callbackId: row.id,
    caseRef: row.caseRef,
    category: row.category,
    round: row.round,
    status: row.status,
    scheduledFor: row.scheduledFor?.toISOString() ?? null,
    deadline: row.deadline.toISOString(),
    outcome: row.outcome,
  };
}

export async function recordEvent(
  db: Executor,
  row: CallbackRow,
  from: CallbackStatus | null,
  actor: string,
  details: Record<string, unknown> = {},
  event?: string,
): Promise<void> {
  await db.insert(callbackEvents).values({ callbackId: row.id, actor, fromStatus: from, toStatus: row.status, details });
  const name = event ?? (from !== row.status ? NOTIFY[row.status] : undefined);
  if (name) await db.insert(outbox).values({ event: name, payload: callbackEventPayload(row) });
}

export interface TransitionOptions {
  /** Only from these statuses (default: every status the state machine allows into `to`). */
  from?: CallbackStatus[];
  /** Only if the row still has this version: a stale job or request changes nothing. */
  version?: number;
  set?: Partial<Omit<typeof callbacks.$inferInsert, 'id' | 'status' | 'version'>>;
  actor: string;
  details?: Record<string, unknown>;
  event?: string;
}

/**
 * Moves one callback to `to` with a conditional UPDATE, bumps its version and appends the timeline
 * (and outbox) rows. Returns null when the callback was not in an allowed state: the caller decides
 * whether that is an error or a harmless repeat.
 */
export async function transition(
  db: Executor,
  id: string,
  to: CallbackStatus,
  options: TransitionOptions,
): Promise<{ row: CallbackRow; from: CallbackStatus } | null> {
  const from = options.from ?? statusesLeadingTo(to);
  // Locking the row in a subquery gives the status it had before this UPDATE, in one statement.
  const previous = db
    .select({ id: callbacks.id, status: callbacks.status })
    .from(callbacks)
    .where(eq(callbacks.id, id))
    .for('update')
    .as('previous');
  const [updated] = await db
    .update(callbacks)
    .set({ ...options.set, status: to, version: sql`${callbacks.version} + 1`, updatedAt: new Date() })
    .from(previous)
    .where(
      and(
        eq(callbacks.id, previous.id),
        inArray(previous.status, from),
        options.version === undefined ? undefined : eq(callbacks.version, options.version),
      ),
    )
    .returning({ ...getTableColumns(callbacks), previousStatus: previous.status });
  if (!updated) return null;
  const { previousStatus, ...row } = updated;
  await recordEvent(db, row, previousStatus, options.actor, options.details, options.event);
  return { row, from: previousStatus };
}
