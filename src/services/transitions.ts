import { eq } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { clientOf, driverRow } from '../db/raw.js';
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

function notification(row: CallbackRow, from: CallbackStatus | null, event?: string) {
  const name = event ?? (from !== row.status ? NOTIFY[row.status] : undefined);
  return name ? { event: name, payload: callbackEventPayload(row) } : null;
}

/** The timeline row and, for a notifying change, the outbox row: one statement, so both or neither. */
export async function recordEvent(
  db: Executor,
  row: CallbackRow,
  from: CallbackStatus | null,
  actor: string,
  details: Record<string, unknown> = {},
  event?: string,
): Promise<void> {
  const timeline = db.insert(callbackEvents).values({ callbackId: row.id, actor, fromStatus: from, toStatus: row.status, details });
  const notify = notification(row, from, event);
  if (!notify) {
    await timeline;
    return;
  }
  const ev = db.$with('ev').as(timeline.returning({ id: callbackEvents.id }));
  await db.with(ev).insert(outbox).values(notify);
}

export interface TransitionOptions {
  /** Only from these statuses (default: every status the state machine allows into `to`). */
  from?: CallbackStatus[];
  /** Only if the row still has this version: a stale job or request changes nothing. */
  version?: number;
  /** The row as the caller read it; saves reading it again. */
  current?: CallbackRow;
  set?: Partial<Omit<CallbackRow, 'id' | 'status' | 'version'>>;
  actor: string;
  details?: Record<string, unknown>;
  event?: string;
  /** The service clock's now (deps.now()): updated_at follows it, so a fixed clock fixes it too. */
  now: Date;
}

/**
 * Moves one callback to `to`: one statement (by hand: it is the hottest write there is) updates it
 * conditional on the version read (and bumps the version) and appends the timeline and outbox rows
 * only if the update matched. Returns null when the callback was not in an allowed state or changed
 * meanwhile: the caller decides whether that is an error or a harmless repeat.
 */
export async function transition(
  db: Executor,
  id: string,
  to: CallbackStatus,
  options: TransitionOptions,
): Promise<{ row: CallbackRow; from: CallbackStatus } | null> {
  const current = options.current ?? (await db.select().from(callbacks).where(eq(callbacks.id, id)))[0];
  if (!current) return null;
  const allowed = options.from ?? statusesLeadingTo(to);
  if (!allowed.includes(current.status)) return null;
  if (options.version !== undefined && current.version !== options.version) return null;

  const row: CallbackRow = { ...current, ...options.set, status: to, version: current.version + 1, updatedAt: options.now };
  const notify = notification(row, current.status, options.event);
  const sql = clientOf(db);
  const changes = driverRow(callbacks, { ...options.set, status: to, version: row.version, updatedAt: row.updatedAt });
  const result = await sql`
    with moved as (
      update callbacks set ${sql(changes)}
      where id = ${id} and version = ${current.version} and status = ${current.status}
      returning id
    ),
    ev as (
      insert into callback_events (callback_id, actor, from_status, to_status, details)
      select id, ${options.actor}, ${current.status}::callback_status, ${to}::callback_status, ${JSON.stringify(options.details ?? {})}::jsonb from moved
    )${
      notify
        ? sql`, ob as (insert into outbox (event, payload) select ${notify.event}, ${JSON.stringify(notify.payload)}::jsonb from moved)`
        : sql``
    }
    select id from moved`;
  return result.length > 0 ? { row, from: current.status } : null;
}
