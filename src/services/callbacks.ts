import { createHash, randomUUID } from 'node:crypto';
import { and, asc, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Database, Executor } from '../db/client.js';
import { attempts, callbackEvents, callbacks, idempotencyKeys, optOuts, outbox } from '../db/schema/index.js';
import { ACTIVE_STATUSES, type CallbackStatus } from '../domain/callback-state.js';
import type { Interval } from '../domain/intervals.js';
import { ineligibility } from '../domain/policy.js';
import { AppError } from '../http/errors.js';
import { causes } from '../http/unavailable.js';
import type { AppDeps } from '../http/context.js';
import type { Principal } from './api-keys.js';
import { customerPhone } from './customer-phone.js';
import { loadPolicy } from './policies.js';
import { callingRulesFor, findSlot } from './scheduling.js';
import { callingInputOfRow } from './callback-rules.js';
import { callbackEventPayload, transition, type CallbackRow } from './transitions.js';
import { enqueueWakeup } from './wakeups.js';
import { dueJobId } from '../queues/queues.js';
import { afterCursor, keysetPage } from '../db/keyset.js';
import { flushSms } from '../notify/sms.js';
import { createOffer } from './consent.js';

export const actorOf = (p: Principal) => (p.agentId ? `agent:${p.agentId}` : `${p.role}:${p.keyId}`);

const toInterval = (w: { start: Date; end: Date }): Interval => ({ start: w.start.getTime(), end: w.end.getTime() });
const iso = (d: Date | null) => d?.toISOString() ?? null;

export interface CreateCallbackInput {
  caseRef: string;
  category: string;
  phone: string;
  region?: string | undefined;
  timezone?: string | undefined;
  round?: number | undefined;
  customer?: { tier?: string | undefined; language?: string | undefined } | undefined;
  reason: string;
  firstExplanation: { summary: string; agentId?: string | undefined };
  preferredWindows?: { start: Date; end: Date }[] | undefined;
  notBefore?: Date | undefined;
  deadline?: Date | undefined;
  priority?: number | undefined;
}

export function toCallbackResponse(row: CallbackRow) {
  return {
    id: row.id,
    status: row.status,
    version: row.version,
    caseRef: row.caseRef,
    category: row.category,
    round: row.round,
    phone: { e164: row.phoneE164, country: row.phoneCountry, type: row.phoneType },
    timezones: row.timezones,
    timezoneSource: row.timezoneSource,
    customer: { tier: row.customerTier, language: row.customerLanguage },
    reason: row.reason,
    firstExplanation: row.firstExplanation,
    preferredWindows: row.preferredWindows,
    notBefore: row.notBefore.toISOString(),
    scheduledFor: iso(row.scheduledFor),
    deadline: row.deadline.toISOString(),
    priority: row.priority,
    requiredSkill: row.requiredSkill,
    attemptCount: row.attemptCount,
    outcome: row.outcome,
    claimedBy: row.claimedBy,
    leaseExpiresAt: iso(row.leaseExpiresAt),
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export type CallbackResponse = ReturnType<typeof toCallbackResponse>;

export const toAttemptResponse = (a: typeof attempts.$inferSelect) => ({
  id: a.id,
  callbackId: a.callbackId,
  number: a.number,
  agentId: a.agentId,
  callerNumber: a.callerNumber,
  startedAt: a.startedAt.toISOString(),
  endedAt: iso(a.endedAt),
  result: a.result,
  outcome: a.outcome,
  notes: a.notes,
});

const duplicate = (id: string) =>
  new AppError('duplicate_active_callback', `case already has an active callback ${id}`, { callbackId: id });

/** Blocks calls for `voice` and `all` scopes; an `sms` opt-out only stops texts. */
export async function isOptedOutOfCalls(db: Executor, e164: string): Promise<boolean> {
  const [row] = await db.select({ scope: optOuts.scope }).from(optOuts).where(eq(optOuts.phoneE164, e164));
  return row !== undefined && row.scope !== 'sms';
}

interface Idempotency {
  scope: string;
  key: string;
  hash: string;
}

async function replay(db: Executor, idem: Idempotency): Promise<{ status: number; body: unknown } | null> {
  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, idem.scope), eq(idempotencyKeys.key, idem.key)));
  if (!row) return null;
  if (row.requestHash !== idem.hash) {
    throw new AppError('idempotency_key_reused', 'this Idempotency-Key was used with a different body');
  }
  return { status: row.status, body: row.response };
}

export const idempotencyFor = (principal: Principal, key: string | undefined, body: unknown): Idempotency | null =>
  key === undefined
    ? null
    : { scope: principal.keyId, key, hash: createHash('sha256').update(JSON.stringify(body)).digest('hex') };

/** What the database knows about a case and a number, read in one round trip. */
async function caseFacts(db: Executor, caseRef: string, e164: string) {
  const active = sql.raw(ACTIVE_STATUSES.map((s) => `'${s}'`).join(', '));
  const [row] = await db.execute<{ last_round: number | null; active_id: string | null; exempted: boolean; opted_out: boolean }>(sql`
    select
      (select max(round) from callbacks where case_ref = ${caseRef}) as last_round,
      (select id from callbacks where case_ref = ${caseRef} and status in (${active}) limit 1) as active_id,
      exists (select 1 from exemptions where case_ref = ${caseRef} and status = 'approved') as exempted,
      exists (select 1 from opt_outs where phone_e164 = ${e164} and scope <> 'sms') as opted_out`);
  return {
    lastRound: row?.last_round ?? 1,
    activeId: row?.active_id ?? null,
    exempted: row?.exempted ?? false,
    optedOut: row?.opted_out ?? false,
  };
}

/**
 * SPEC §4–§5: eligibility and an honest slot before the deadline, then the wake-up and one INSERT
 * statement (callback, timeline row and outbox event together). The wake-up goes first: if Redis
 * refuses it nothing is stored (503); if the INSERT fails the orphan job finds no callback and does
 * nothing, and is removed at once where possible.
 */
export async function createCallback(
  deps: Pick<AppDeps, 'db' | 'queues' | 'config' | 'logger'>,
  principal: Principal,
  input: CreateCallbackInput,
  now: Date,
  idem: Idempotency | null,
): Promise<{ status: number; body: unknown }> {
  const { db } = deps;
  if (idem) {
    const previous = await replay(db, idem);
    if (previous) return previous;
  }
  const { phone, zones } = customerPhone(input, deps.config.DEFAULT_REGION);
  const deadlineGiven = input.deadline;
  if (deadlineGiven && deadlineGiven <= now) {
    throw new AppError('validation_failed', 'the deadline has already passed', {
      errors: [{ path: 'deadline', message: 'must be in the future' }],
    });
  }
  const notBefore = input.notBefore && input.notBefore > now ? input.notBefore : now;
  const preferredWindows = input.preferredWindows?.map(toInterval) ?? null;
  const [policy, facts, rules] = await Promise.all([
    loadPolicy(db, input.category),
    caseFacts(db, input.caseRef, phone.e164),
    callingRulesFor(db, { phone, zones, notBefore, preferredWindows }, now),
  ]);
  if (facts.activeId) throw duplicate(facts.activeId);
  const round = input.round ?? facts.lastRound + 1;
  if (round <= facts.lastRound) {
    throw new AppError('validation_failed', `round ${round} of case ${input.caseRef} has already been held`, {
      errors: [{ path: 'round', message: `must be greater than ${facts.lastRound}` }],
    });
  }
  const refusal = ineligibility(policy, { round, tier: input.customer?.tier ?? null, optedOut: facts.optedOut, exempted: facts.exempted });
  if (refusal) throw new AppError(refusal.code, refusal.detail);

  const deadline = deadlineGiven ?? new Date(now.getTime() + policy.deadlineHours * 3600_000);
  const slot = findSlot(rules, now, deadline);
  if (!slot.withinDeadline) {
    throw new AppError(
      'no_slot_before_deadline',
      slot.earliest
        ? `the earliest permitted time ${slot.earliest.toISOString()} is after the deadline ${deadline.toISOString()}`
        : 'calling is not permitted at any time in the coming weeks under the current rules',
      { earliest: iso(slot.earliest) },
    );
  }

  const status: CallbackStatus = policy.consent === 'required' ? 'awaiting_consent' : 'scheduled';
  const row: CallbackRow = {
    id: randomUUID(),
    status,
    version: 1,
    caseRef: input.caseRef,
    category: input.category,
    round,
    phoneE164: phone.e164,
    phoneCountry: phone.country,
    phoneType: phone.type,
    timezones: zones,
    timezoneSource: input.timezone ? 'explicit' : 'number',
    customerTier: input.customer?.tier ?? null,
    customerLanguage: input.customer?.language ?? null,
    reason: input.reason,
    firstExplanation: input.firstExplanation,
    preferredWindows: input.preferredWindows?.map((w) => ({ start: w.start.toISOString(), end: w.end.toISOString() })) ?? null,
    notBefore,
    deadline,
    priority: input.priority ?? 5,
    scheduledFor: status === 'scheduled' ? slot.earliest : null,
    attemptCount: 0,
    outcome: null,
    requiredSkill: policy.requiredSkill,
    createdBy: actorOf(principal),
    claimedBy: null,
    leaseExpiresAt: null,
    slaAtRiskAt: null,
    slaBreachedAt: null,
    createdAt: now,
    updatedAt: now,
  };
  const body = toCallbackResponse(row);
  const insert = (ex: Executor) => insertCallback(ex, row, { round, zones }, status === 'scheduled' ? 'callback.scheduled' : null);

  const needsOffer = status === 'awaiting_consent';
  try {
    if (!idem && !needsOffer) {
      await enqueueWakeup(deps.queues, row, now);
      await insert(db);
      return { status: 201, body };
    }
    const result = await db.transaction(async (tx) => {
      if (idem) {
        const [claimed] = await tx
          .insert(idempotencyKeys)
          .values({ scope: idem.scope, key: idem.key, requestHash: idem.hash, status: 201, response: body })
          .onConflictDoNothing()
          .returning({ key: idempotencyKeys.key });
        // A concurrent request with the same key committed first: answer as it did.
        if (!claimed) return { response: (await replay(tx, idem))!, smsId: null };
      }
      await enqueueWakeup(deps.queues, row, now);
      await insert(tx);
      // SPEC §8: the customer is asked first; the offer and its SMS commit with the callback.
      const offer = needsOffer ? await createOffer(tx, row, deps, now) : null;
      return { response: { status: 201, body }, smsId: offer?.smsId ?? null };
    });
    if (result.smsId) await flushSms(deps, [result.smsId]);
    return result.response;
  } catch (err) {
    await removeOrphanWakeup(deps, row);
    if ([...causes(err)].some((e) => (e as { constraint_name?: string }).constraint_name === 'callbacks_active_case_uq')) {
      const winner = await caseFacts(db, input.caseRef, phone.e164);
      if (winner.activeId) throw duplicate(winner.activeId);
    }
    throw err;
  }
}

/**
 * Removes the wake-up of a create that failed, but only once PostgreSQL confirms the callback was
 * not stored: a connection lost during COMMIT may still have committed it. When that cannot be
 * confirmed the job stays; for a callback that does not exist it finds nothing and does nothing.
 */
async function removeOrphanWakeup(deps: Pick<AppDeps, 'db' | 'queues'>, row: CallbackRow): Promise<void> {
  try {
    const [stored] = await deps.db.select({ id: callbacks.id }).from(callbacks).where(eq(callbacks.id, row.id));
    if (!stored) await deps.queues.due.remove(dueJobId(row.id, row.version));
  } catch {
    // PostgreSQL or Redis unreachable: keep the job.
  }
}

/** The callback, its first timeline row and its outbox event in one statement (data-modifying CTEs). */
async function insertCallback(db: Executor, row: CallbackRow, details: Record<string, unknown>, event: string | null) {
  const cb = db.$with('cb').as(db.insert(callbacks).values(row).returning({ id: callbacks.id }));
  const ev = db
    .$with('ev')
    .as(
      db
        .insert(callbackEvents)
        .values({ callbackId: row.id, at: row.createdAt, actor: row.createdBy, fromStatus: null, toStatus: row.status, details })
        .returning({ id: callbackEvents.id }),
    );
  const ob = db
    .$with('ob')
    .as(db.insert(outbox).values({ event: event ?? 'none', payload: callbackEventPayload(row) }).returning({ id: outbox.id }));
  if (event) await db.with(cb, ev, ob).select({ id: cb.id }).from(cb);
  else await db.with(cb, ev).select({ id: cb.id }).from(cb);
}

export async function getCallback(db: Database, id: string) {
  const [row] = await db.select().from(callbacks).where(eq(callbacks.id, id));
  if (!row) throw new AppError('not_found', `no callback ${id}`);
  const [attemptRows, events] = await Promise.all([
    db.select().from(attempts).where(eq(attempts.callbackId, id)).orderBy(asc(attempts.number)),
    db.select().from(callbackEvents).where(eq(callbackEvents.callbackId, id)).orderBy(asc(callbackEvents.id)),
  ]);
  return {
    ...toCallbackResponse(row),
    attempts: attemptRows.map(toAttemptResponse),
    timeline: events.map((e) => ({
      at: e.at.toISOString(),
      actor: e.actor,
      from: e.fromStatus,
      to: e.toStatus,
      details: e.details,
    })),
  };
}

export interface ListFilters {
  status?: CallbackStatus[] | undefined;
  caseRef?: string | undefined;
  phone?: string | undefined;
  dueBefore?: Date | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Newest first, with a keyset cursor on (createdAt, id) so pages stay stable while rows are added. */
export async function listCallbacks(db: Database, filters: ListFilters, phoneE164: string | undefined) {
  const rows = await db
    .select()
    .from(callbacks)
    .where(
      and(
        filters.status ? inArray(callbacks.status, filters.status) : undefined,
        filters.caseRef ? eq(callbacks.caseRef, filters.caseRef) : undefined,
        phoneE164 ? eq(callbacks.phoneE164, phoneE164) : undefined,
        filters.dueBefore ? lt(callbacks.scheduledFor, filters.dueBefore) : undefined,
        afterCursor(callbacks, filters.cursor),
      ),
    )
    .orderBy(desc(callbacks.createdAt), desc(callbacks.id))
    .limit(filters.limit + 1);
  return keysetPage(rows, filters.limit, toCallbackResponse);
}

async function loadRow(db: Executor, id: string): Promise<CallbackRow> {
  const [row] = await db.select().from(callbacks).where(eq(callbacks.id, id));
  if (!row) throw new AppError('not_found', `no callback ${id}`);
  return row;
}

export async function cancelCallback(db: Database, principal: Principal, id: string, reason: string) {
  const current = await loadRow(db, id);
  if (principal.role === 'agent' && current.createdBy !== actorOf(principal)) {
    throw new AppError('forbidden', 'only the agent who created a callback, or ops, may cancel it');
  }
  const moved = await db.transaction((tx) =>
    transition(tx, id, 'cancelled', {
      from: [...ACTIVE_STATUSES],
      actor: actorOf(principal),
      details: { reason },
      set: { scheduledFor: null, claimedBy: null, leaseExpiresAt: null },
    }),
  );
  if (!moved) throw new AppError('invalid_state', `a ${current.status} callback cannot be cancelled`);
  return toCallbackResponse(moved.row);
}

export async function rescheduleCallback(
  deps: Pick<AppDeps, 'db' | 'queues'>,
  principal: Principal,
  id: string,
  input: { notBefore?: Date | undefined; preferredWindows?: { start: Date; end: Date }[] | undefined },
  now: Date,
) {
  const { db } = deps;
  const current = await loadRow(db, id);
  if (current.status !== 'scheduled' && current.status !== 'ready') {
    throw new AppError('invalid_state', `a ${current.status} callback cannot be rescheduled`);
  }
  const notBefore = input.notBefore ?? current.notBefore;
  const effectiveNotBefore = notBefore > now ? notBefore : now;
  const windows = input.preferredWindows
    ? input.preferredWindows.map((w) => ({ start: w.start.toISOString(), end: w.end.toISOString() }))
    : current.preferredWindows;
  const rules = await callingRulesFor(db, callingInputOfRow({ ...current, notBefore: effectiveNotBefore, preferredWindows: windows }), now);
  const slot = findSlot(rules, now, current.deadline);
  if (!slot.withinDeadline) {
    throw new AppError('no_slot_before_deadline', 'no permitted time before the deadline with these constraints', {
      earliest: iso(slot.earliest),
    });
  }
  const moved = await db.transaction(async (tx) => {
    const result = await transition(tx, id, 'scheduled', {
      from: ['scheduled', 'ready'],
      version: current.version,
      actor: actorOf(principal),
      details: { notBefore: effectiveNotBefore.toISOString(), scheduledFor: slot.earliest!.toISOString() },
      set: { notBefore: effectiveNotBefore, preferredWindows: windows, scheduledFor: slot.earliest },
      now,
    });
    if (result) await enqueueWakeup(deps.queues, result.row, now);
    return result;
  });
  if (!moved) throw new AppError('conflict', 'the callback changed meanwhile; read it again and retry');
  return toCallbackResponse(moved.row);
}

/** Suppresses every active callback of a number at once (SPEC §5: an opt-out takes effect immediately). */
export async function suppressActiveCallbacks(tx: Executor, e164: string, actor: string): Promise<string[]> {
  const active = await tx
    .select({ id: callbacks.id })
    .from(callbacks)
    .where(and(eq(callbacks.phoneE164, e164), inArray(callbacks.status, [...ACTIVE_STATUSES])))
    .for('update');
  const suppressed: string[] = [];
  for (const { id } of active) {
    const moved = await transition(tx, id, 'suppressed', {
      from: [...ACTIVE_STATUSES],
      actor,
      details: { reason: 'opt_out' },
      set: { scheduledFor: null, claimedBy: null, leaseExpiresAt: null },
    });
    if (moved) suppressed.push(id);
  }
  return suppressed;
}
