import { and, desc, eq } from 'drizzle-orm';
import type { Database, Executor } from '../db/client.js';
import { callbacks, exemptions } from '../db/schema/index.js';
import { isActive, type CallbackStatus } from '../domain/callback-state.js';
import type { AppDeps } from '../http/context.js';
import { AppError } from '../http/errors.js';
import type { Principal } from './api-keys.js';
import { backToScheduled, callingRulesOfRow, nextPermittedOrRecheck } from './callback-rules.js';
import { actorOf, toCallbackResponse } from './callbacks.js';
import { recordEvent, transition, type CallbackRow } from './transitions.js';
import { afterCursor, keysetPage } from '../db/keyset.js';

export type ExemptionRow = typeof exemptions.$inferSelect;
export type ExemptionStatus = ExemptionRow['status'];

/** A rejected exemption resumes these callbacks at the next permitted time; a scheduled one keeps its time. */
const RESUMABLE: CallbackStatus[] = ['ready', 'claimed', 'in_call'];

const iso = (d: Date | null) => d?.toISOString() ?? null;

export const toExemptionResponse = (row: ExemptionRow) => ({
  id: row.id,
  callbackId: row.callbackId,
  caseRef: row.caseRef,
  status: row.status,
  reason: row.reason,
  requestedBy: row.requestedBy,
  decidedBy: row.decidedBy,
  decidedAt: iso(row.decidedAt),
  note: row.note,
  createdAt: row.createdAt.toISOString(),
});

/**
 * Opens a pending exemption for a callback and notes it in the callback's timeline (no status
 * change). Returns null when one is already pending: the database allows one per callback.
 */
export async function openExemption(
  tx: Executor,
  callback: CallbackRow,
  input: { reason: string; actor: string },
  now: Date,
): Promise<ExemptionRow | null> {
  const [row] = await tx
    .insert(exemptions)
    .values({ callbackId: callback.id, caseRef: callback.caseRef, reason: input.reason, requestedBy: input.actor, createdAt: now })
    // The only conflict possible is exemptions_pending_callback_uq: one pending request per callback.
    .onConflictDoNothing()
    .returning();
  if (!row) return null;
  await recordEvent(tx, callback, callback.status, input.actor, { exemption: 'requested', exemptionId: row.id, reason: input.reason });
  return row;
}

export async function pendingExemptionOf(db: Executor, callbackId: string): Promise<ExemptionRow | null> {
  const [row] = await db
    .select()
    .from(exemptions)
    .where(and(eq(exemptions.callbackId, callbackId), eq(exemptions.status, 'pending')));
  return row ?? null;
}

/** SPEC §5.1: an agent asks to stop calling an unreasonable or abusive customer. */
export async function requestExemption(db: Database, principal: Principal, callbackId: string, reason: string, now: Date) {
  return db.transaction(async (tx) => {
    const [callback] = await tx.select().from(callbacks).where(eq(callbacks.id, callbackId)).for('share');
    if (!callback) throw new AppError('not_found', `no callback ${callbackId}`);
    if (!isActive(callback.status)) {
      throw new AppError('invalid_state', `a ${callback.status} callback cannot be exempted`);
    }
    const row = await openExemption(tx, callback, { reason, actor: actorOf(principal) }, now);
    if (!row) throw new AppError('conflict', `callback ${callbackId} already has a pending exemption request`);
    return toExemptionResponse(row);
  });
}

async function settle(tx: Executor, id: string, approve: boolean, principal: Principal, note: string | null, now: Date) {
  const [row] = await tx
    .update(exemptions)
    .set({ status: approve ? 'approved' : 'rejected', decidedBy: actorOf(principal), decidedAt: now, note })
    .where(and(eq(exemptions.id, id), eq(exemptions.status, 'pending')))
    .returning();
  if (row) return row;
  const [existing] = await tx.select({ status: exemptions.status }).from(exemptions).where(eq(exemptions.id, id));
  if (!existing) throw new AppError('not_found', `no exemption ${id}`);
  throw new AppError('invalid_state', `exemption ${id} was already ${existing.status}`);
}

/**
 * Ops decide. Approved: the callback becomes `exempted` from whatever active state it is in (and
 * createCallback refuses further rounds for the case). Rejected: a callback held in or around a
 * call resumes at the next permitted time; one waiting for its time keeps it.
 */
export async function decideExemption(
  deps: Pick<AppDeps, 'db' | 'queues'>,
  principal: Principal,
  id: string,
  input: { approve: boolean; note?: string | undefined },
  now: Date,
) {
  const actor = actorOf(principal);
  return deps.db.transaction(async (tx) => {
    const exemption = await settle(tx, id, input.approve, principal, input.note ?? null, now);
    const [callback] = await tx.select().from(callbacks).where(eq(callbacks.id, exemption.callbackId)).for('update');
    const details = { exemption: exemption.status, exemptionId: exemption.id, ...(input.note ? { note: input.note } : {}) };
    let row = callback!;
    if (input.approve) {
      const moved = await transition(tx, row.id, 'exempted', {
        actor,
        details,
        set: { scheduledFor: null, claimedBy: null, leaseExpiresAt: null },
        now,
      });
      if (moved) row = moved.row;
    } else if (RESUMABLE.includes(row.status)) {
      const rules = await callingRulesOfRow(tx, row, now);
      const next = nextPermittedOrRecheck(rules, now.getTime());
      row = (await backToScheduled(tx, deps.queues, row, next.at, { from: RESUMABLE, actor, details, now })) ?? row;
    } else {
      await recordEvent(tx, row, row.status, actor, details);
    }
    return { exemption: toExemptionResponse(exemption), callback: toCallbackResponse(row) };
  });
}

/** Newest first, keyset-paginated on (createdAt, id). */
export async function listExemptions(
  db: Database,
  filters: { status?: ExemptionStatus | undefined; limit: number; cursor?: string | undefined },
) {
  const rows = await db
    .select()
    .from(exemptions)
    .where(
      and(
        filters.status ? eq(exemptions.status, filters.status) : undefined,
        afterCursor(exemptions, filters.cursor),
      ),
    )
    .orderBy(desc(exemptions.createdAt), desc(exemptions.id))
    .limit(filters.limit + 1);
  return keysetPage(rows, filters.limit, toExemptionResponse);
}
