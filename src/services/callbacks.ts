import { createHash, randomUUID } from 'node:crypto';
import { and, asc, desc, eq, inArray, lt } from 'drizzle-orm';
import type { Database, Executor } from '../db/client.js';
import { clientOf, insertTogether, rowFor, type RowFor } from '../db/raw.js';
import { attempts, callbackEvents, callbacks, consentOffers, idempotencyKeys, optOuts, outbox, smsMessages } from '../db/schema/index.js';
import { ACTIVE_STATUSES, type CallbackStatus } from '../domain/callback-state.js';
import type { Interval } from '../domain/intervals.js';
import { ineligibility } from '../domain/policy.js';
import { AppError } from '../http/errors.js';
import { causes } from '../http/unavailable.js';
import type { AppDeps } from '../http/context.js';
import type { Principal } from './api-keys.js';
import { customerPhone } from './customer-phone.js';
import { loadPolicy } from './policies.js';
import { attemptTimesOf, attemptTimesSql, buildCallingRules, callingRulesFor, checkRequestedTimes, findSlot } from './scheduling.js';
import { loadSetting } from './settings.js';
import { callingInputOfRow } from './callback-rules.js';
import { callbackEventPayload, transition, type CallbackRow } from './transitions.js';
import { enqueueWakeup } from './wakeups.js';
import { dueJobId } from '../queues/queues.js';
import { afterCursor, keysetPage } from '../db/keyset.js';
import { flushSms } from '../notify/sms.js';
import { offerRows } from './consent.js';

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

/** The stored answer to an Idempotency-Key, provided the request is the same one. */
function answerOf(stored: { requestHash: string; status: number; response: unknown } | null, idem: Idempotency) {
  if (!stored) return null;
  if (stored.requestHash !== idem.hash) {
    throw new AppError('idempotency_key_reused', 'this Idempotency-Key was used with a different body');
  }
  return { status: stored.status, body: stored.response };
}

async function replay(db: Executor, idem: Idempotency): Promise<{ status: number; body: unknown } | null> {
  const [row] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, idem.scope), eq(idempotencyKeys.key, idem.key)));
  return answerOf(row ?? null, idem);
}

export const idempotencyFor = (principal: Principal, key: string | undefined, body: unknown): Idempotency | null =>
  key === undefined
    ? null
    : { scope: principal.keyId, key, hash: createHash('sha256').update(JSON.stringify(body)).digest('hex') };

/**
 * Everything stored that a create depends on, in one round trip: the case's rounds and active
 * callback, an approved exemption, the number's opt-out and recent attempts (the caps), and the
 * answer already given to this Idempotency-Key. Written with postgres.js: it runs on every create.
 */
async function createFacts(db: Executor, caseRef: string, e164: string, idem: Idempotency | null, now: Date) {
  const sql = clientOf(db);
  const [row] = await sql<
    {
      last_round: number | null;
      active_id: string | null;
      exempted: boolean;
      opt_out_scope: string | null;
      attempt_times: string[] | null;
      previous: { requestHash: string; status: number; response: unknown } | null;
    }[]
  >`
    select
      (select max(round) from callbacks where case_ref = ${caseRef}) as last_round,
      (select id from callbacks where case_ref = ${caseRef} and status in ${sql(ACTIVE_STATUSES)} limit 1) as active_id,
      exists (select 1 from exemptions where case_ref = ${caseRef} and status = 'approved') as exempted,
      (select scope from opt_outs where phone_e164 = ${e164}) as opt_out_scope,
      ${attemptTimesSql(sql, e164, now)} as attempt_times,
      (select json_build_object('requestHash', request_hash, 'status', status, 'response', response)
        from idempotency_keys where scope = ${idem?.scope ?? null} and key = ${idem?.key ?? null}) as previous`;
  return {
    lastRound: row!.last_round ?? 1,
    activeId: row!.active_id,
    exempted: row!.exempted,
    optOutScope: row!.opt_out_scope,
    attemptTimes: attemptTimesOf(row!.attempt_times),
    previous: row!.previous,
  };
}

/**
 * SPEC §4–§5: eligibility and an honest slot before the deadline, then the wake-up and one INSERT
 * statement (callback, timeline row, outbox event, idempotency record, consent offer and its SMS,
 * whichever apply). The wake-up goes first: if Redis refuses it nothing is stored (503); if the
 * INSERT fails the orphan job finds no callback and does nothing, and is removed where possible.
 */
export async function createCallback(
  deps: Pick<AppDeps, 'db' | 'queues' | 'config' | 'logger'>,
  principal: Principal,
  input: CreateCallbackInput,
  now: Date,
  idem: Idempotency | null,
): Promise<{ status: number; body: unknown }> {
  const { db } = deps;
  const { phone, zones } = customerPhone(input, deps.config.DEFAULT_REGION);
  const [policy, facts, settings] = await Promise.all([
    loadPolicy(db, input.category),
    createFacts(db, input.caseRef, phone.e164, idem, now),
    loadSetting(db, 'calling'),
  ]);
  const replayed = idem && answerOf(facts.previous, idem);
  if (replayed) return replayed;

  checkRequestedTimes(input, now);
  const deadlineGiven = input.deadline;
  if (facts.activeId) throw duplicate(facts.activeId);
  const round = input.round ?? facts.lastRound + 1;
  if (round <= facts.lastRound) {
    throw new AppError('validation_failed', `round ${round} of case ${input.caseRef} has already been held`, {
      errors: [{ path: 'round', message: `must be greater than ${facts.lastRound}` }],
    });
  }
  const optedOut = facts.optOutScope !== null && facts.optOutScope !== 'sms';
  const refusal = ineligibility(policy, { round, tier: input.customer?.tier ?? null, optedOut, exempted: facts.exempted });
  if (refusal) throw new AppError(refusal.code, refusal.detail);

  const notBefore = input.notBefore && input.notBefore > now ? input.notBefore : now;
  const preferredWindows = input.preferredWindows?.map(toInterval) ?? null;
  const rules = buildCallingRules(settings, { phone, zones, notBefore, preferredWindows }, facts.attemptTimes);
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
  const rows: RowFor[] = [
    rowFor(callbacks, row),
    rowFor(callbackEvents, { callbackId: row.id, at: now, actor: row.createdBy, fromStatus: null, toStatus: status, details: { round, zones } }),
  ];
  if (status === 'scheduled') rows.push(rowFor(outbox, { event: 'callback.scheduled', payload: callbackEventPayload(row) }));
  if (idem) rows.push(rowFor(idempotencyKeys, { scope: idem.scope, key: idem.key, requestHash: idem.hash, status: 201, response: body }));
  // SPEC §8: the customer is asked first; the offer and its SMS are stored with the callback.
  const offer = status === 'awaiting_consent' ? offerRows(row, deps, now, facts.optOutScope) : null;
  if (offer) rows.push(rowFor(consentOffers, offer.offer));
  if (offer?.sms) rows.push(rowFor(smsMessages, offer.sms));

  await enqueueWakeup(deps.queues, row, now);
  try {
    await insertTogether(db, rows);
  } catch (err) {
    await removeOrphanWakeup(deps, row);
    if (isUniqueViolation(err)) {
      // A concurrent request with the same key (or for the same case) committed first.
      const answer = idem && (await replay(db, idem));
      if (answer) return answer;
      const winner = await createFacts(db, input.caseRef, phone.e164, null, now);
      if (winner.activeId) throw duplicate(winner.activeId);
    }
    throw err;
  }
  if (offer?.sms) await flushSms(deps, [offer.sms.id]);
  return { status: 201, body };
}

const isUniqueViolation = (err: unknown) => [...causes(err)].some((e) => (e as { code?: string }).code === '23505');

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

export async function cancelCallback(db: Database, principal: Principal, id: string, reason: string, now: Date) {
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
      now,
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
export async function suppressActiveCallbacks(tx: Executor, e164: string, actor: string, now: Date): Promise<string[]> {
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
      now,
    });
    if (moved) suppressed.push(id);
  }
  return suppressed;
}
