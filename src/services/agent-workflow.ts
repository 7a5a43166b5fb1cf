/**
 * The agent's side of SPEC §5: claim the best ready callback, give it back, start an attempt (which
 * opens a verification session) and record its result. Every step re-checks against PostgreSQL and
 * changes status only through `transition()`, conditional on the version it read.
 */
import { and, asc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { agents, attempts, callbacks } from '../db/schema/index.js';
import { earliestPermitted, isPermitted } from '../domain/calling-rules.js';
import { canReceiveSms, parsePhone, type PhoneType } from '../domain/phone.js';
import { retryDelayMinutes } from '../domain/policy.js';
import type { AppDeps } from '../http/context.js';
import { AppError } from '../http/errors.js';
import { flushSms, queueSms } from '../notify/sms.js';
import { smsLanguage, smsText } from '../notify/sms-templates.js';
import type { Principal } from './api-keys.js';
import { backToScheduled, callingRulesOfRow, nextPermittedOrRecheck } from './callback-rules.js';
import { isOptedOutOfCalls, toAttemptResponse, toCallbackResponse } from './callbacks.js';
import { openExemption, pendingExemptionOf, toExemptionResponse } from './exemptions.js';
import { loadPolicy } from './policies.js';
import { loadSetting } from './settings.js';
import { transition, type CallbackRow } from './transitions.js';
import { closeVerificationWindow, createVerificationSession } from './verification-sessions.js';

type Deps = Pick<AppDeps, 'db' | 'queues' | 'config' | 'logger'>;
type AttemptRow = typeof attempts.$inferSelect;

export const ATTEMPT_RESULTS = ['connected', 'no_answer', 'busy', 'voicemail', 'wrong_number', 'failed'] as const;
export const CONNECTED_OUTCOMES = ['accepted', 'not_accepted', 'declined', 'escalated', 'abusive'] as const;
export type AttemptResult = (typeof ATTEMPT_RESULTS)[number];
export type ConnectedOutcome = (typeof CONNECTED_OUTCOMES)[number];

/** A claim skips at most this many callbacks whose window has just closed, so one request stays bounded. */
const MAX_CLAIM_CANDIDATES = 20;
/** Namespace of the per-number advisory lock that makes the frequency-cap check and the attempt insert atomic. */
const PHONE_LOCK_NAMESPACE = 0x5c0a;
const CLAIM_ACTOR = 'system:claim';


export function agentIdOf(principal: Principal): string {
  if (!principal.agentId) throw new AppError('forbidden', 'this operation needs a key bound to an agent');
  return principal.agentId;
}

const agentActor = (agentId: string) => `agent:${agentId}`;

async function skillsOf(db: Executor, agentId: string): Promise<string[]> {
  const [agent] = await db.select({ skills: agents.skills, active: agents.active }).from(agents).where(eq(agents.id, agentId));
  return agent?.active ? agent.skills : [];
}

type ClaimStep = { kind: 'none' } | { kind: 'claimed'; row: CallbackRow } | { kind: 'skipped' };

/** Locks the best ready callback the agent may take; other claimers skip it rather than wait. */
async function claimStep(deps: Deps, agentId: string, skills: string[], now: Date): Promise<ClaimStep> {
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(callbacks)
      .where(and(eq(callbacks.status, 'ready'), inArray(callbacks.requiredSkill, skills)))
      // Matches callbacks_ready_idx (priority DESC NULLS LAST, scheduled_for) so the scan stops at the first hit.
      .orderBy(sql`${callbacks.priority} desc nulls last`, asc(callbacks.scheduledFor))
      .limit(1)
      .for('update', { skipLocked: true });
    if (!row) return { kind: 'none' };
    const rules = await callingRulesOfRow(tx, row, now);
    if (!isPermitted(rules, now.getTime())) {
      const next = nextPermittedOrRecheck(rules, now.getTime());
      await backToScheduled(tx, deps.queues, row, next.at, {
        from: ['ready'],
        actor: CLAIM_ACTOR,
        details: { reason: next.found ? 'window_closed' : 'no_permitted_time_found' },
        now,
      });
      return { kind: 'skipped' };
    }
    const leaseExpiresAt = new Date(now.getTime() + deps.config.CLAIM_LEASE_SECONDS * 1000);
    const moved = await transition(tx, row.id, 'claimed', {
      from: ['ready'],
      version: row.version,
      actor: agentActor(agentId),
      details: { leaseExpiresAt: leaseExpiresAt.toISOString() },
      set: { claimedBy: agentId, leaseExpiresAt },
      now,
    });
    // The row is locked by this transaction, so the conditional update cannot miss.
    return { kind: 'claimed', row: moved!.row };
  });
}

/** SPEC §5: the best ready callback (priority, then due time) that needs one of the agent's skills, or null. */
export async function claimNext(deps: Deps, principal: Principal, now: Date) {
  const agentId = agentIdOf(principal);
  const skills = await skillsOf(deps.db, agentId);
  if (skills.length === 0) return null;
  for (let i = 0; i < MAX_CLAIM_CANDIDATES; i++) {
    const step = await claimStep(deps, agentId, skills, now);
    if (step.kind === 'none') return null;
    if (step.kind === 'claimed') return toCallbackResponse(step.row);
  }
  return null;
}

async function loadCallback(db: Executor, id: string): Promise<CallbackRow> {
  const [row] = await db.select().from(callbacks).where(eq(callbacks.id, id));
  if (!row) throw new AppError('not_found', `no callback ${id}`);
  return row;
}

/** The callback must be claimed by this agent: someone else's is 403, one in another state 409. */
function assertHeldBy(row: CallbackRow, agentId: string, action: string): void {
  if (row.status === 'claimed' && row.claimedBy === agentId) return;
  if ((row.status === 'claimed' || row.status === 'in_call') && row.claimedBy !== agentId) {
    throw new AppError('forbidden', `callback ${row.id} is held by another agent`);
  }
  throw new AppError('invalid_state', `a ${row.status} callback cannot be ${action}; claim it first`);
}

export async function releaseClaim(deps: Deps, principal: Principal, id: string, now: Date) {
  const agentId = agentIdOf(principal);
  const current = await loadCallback(deps.db, id);
  assertHeldBy(current, agentId, 'released');
  const moved = await deps.db.transaction((tx) =>
    transition(tx, id, 'ready', {
      from: ['claimed'],
      version: current.version,
      actor: agentActor(agentId),
      details: { reason: 'released' },
      set: { claimedBy: null, leaseExpiresAt: null },
      now,
    }),
  );
  if (!moved) throw new AppError('conflict', 'the callback changed meanwhile; read it again');
  return toCallbackResponse(moved.row);
}

async function officialCallerNumber(db: Executor, callerNumber: string, region: string): Promise<string> {
  const parsed = parsePhone(callerNumber, region);
  const { numbers } = await loadSetting(db, 'official_numbers');
  if (parsed.ok && numbers.some((n) => n.number === parsed.phone.e164)) return parsed.phone.e164;
  throw new AppError('validation_failed', 'callerNumber is not one of the official numbers', {
    errors: [{ path: 'callerNumber', message: 'must be one of the official numbers (PUT /v1/settings/official-numbers)' }],
  });
}

type AttemptStart =
  | { kind: 'suppressed' }
  | { kind: 'not_permitted'; next: number | null }
  | { kind: 'started'; attempt: AttemptRow; callback: CallbackRow; verification: Awaited<ReturnType<typeof createVerificationSession>>; smsId: string | null };

/** The attempt's transaction: re-checks under the per-number lock, then writes attempt, status and session. */
async function openAttempt(
  tx: Executor,
  deps: Deps,
  agentId: string,
  current: CallbackRow,
  callerNumber: string | null,
  now: Date,
): Promise<AttemptStart> {
  await tx.execute(sql`select pg_advisory_xact_lock(${PHONE_LOCK_NAMESPACE}, hashtext(${current.phoneE164}))`);
  const row = await loadCallback(tx, current.id);
  if (row.version !== current.version) throw new AppError('conflict', 'the callback changed meanwhile; read it again');
  const guard = { from: ['claimed' as const], version: row.version, actor: agentActor(agentId), now };
  if (await isOptedOutOfCalls(tx, row.phoneE164)) {
    await transition(tx, row.id, 'suppressed', {
      ...guard,
      details: { reason: 'opt_out' },
      set: { scheduledFor: null, claimedBy: null, leaseExpiresAt: null },
    });
    return { kind: 'suppressed' };
  }
  const rules = await callingRulesOfRow(tx, row, now);
  if (!isPermitted(rules, now.getTime())) return { kind: 'not_permitted', next: earliestPermitted(rules, now.getTime()) };

  const number = row.attemptCount + 1;
  const [attempt] = await tx
    .insert(attempts)
    .values({ callbackId: row.id, number, agentId, phoneE164: row.phoneE164, callerNumber, startedAt: now })
    .returning();
  const moved = await transition(tx, row.id, 'in_call', {
    ...guard,
    details: { attemptId: attempt!.id, number, callerNumber },
    set: { attemptCount: number, leaseExpiresAt: null },
  });
  if (!moved) throw new AppError('conflict', 'the callback changed meanwhile; read it again');
  const verification = await createVerificationSession(
    tx,
    deps.config,
    { attemptId: attempt!.id, callbackId: row.id, phoneE164: row.phoneE164 },
    now,
  );
  const smsId = await queuePreCallSms(tx, deps.config, moved.row, verification);
  return { kind: 'started', attempt: attempt!, callback: moved.row, verification, smsId };
}

/** SPEC §7: the brand and the code (a link only when allowed), to a number that can receive SMS. */
async function queuePreCallSms(
  tx: Executor,
  config: Deps['config'],
  row: CallbackRow,
  verification: { code: string; link: string | null },
): Promise<string | null> {
  if (!canReceiveSms(row.phoneType as PhoneType)) return null;
  const body = smsText('pre_call', smsLanguage(row.customerLanguage), {
    brand: config.BRAND_NAME,
    code: verification.code,
    link: verification.link,
    allowLinks: config.SMS_ALLOW_LINKS,
  });
  const queued = await queueSms(tx, { to: row.phoneE164, body, purpose: 'pre_call', callbackId: row.id });
  return queued?.id ?? null;
}

/**
 * SPEC §5, §7: re-checks opt-out, the window and the caps at this instant, then in one transaction
 * records the attempt, moves the callback to `in_call` and opens the verification session. A lock
 * per phone number serialises attempts to one number, so two agents cannot both pass the cap.
 * An opted-out number answers 409 `invalid_state` with `reason: 'opted_out'` (the callback is suppressed).
 */
export async function startAttempt(deps: Deps, principal: Principal, id: string, input: { callerNumber?: string | undefined }, now: Date) {
  const agentId = agentIdOf(principal);
  const current = await loadCallback(deps.db, id);
  assertHeldBy(current, agentId, 'attempted');
  const callerNumber = input.callerNumber
    ? await officialCallerNumber(deps.db, input.callerNumber, deps.config.DEFAULT_REGION)
    : null;
  const result = await deps.db.transaction((tx) => openAttempt(tx, deps, agentId, current, callerNumber, now));
  if (result.kind === 'started' && result.smsId) await flushSms(deps, [result.smsId]);

  if (result.kind === 'suppressed') {
    throw new AppError('invalid_state', 'the customer has opted out of calls: the callback was suppressed', {
      reason: 'opted_out',
      callbackStatus: 'suppressed',
    });
  }
  if (result.kind === 'not_permitted') {
    const nextPermittedAt = result.next === null ? null : new Date(result.next).toISOString();
    throw new AppError(
      'not_permitted_now',
      nextPermittedAt ? `calling this number is not permitted now; next permitted at ${nextPermittedAt}` : 'calling this number is not permitted now',
      { nextPermittedAt },
    );
  }
  return {
    attempt: { id: result.attempt.id, number: result.attempt.number, startedAt: result.attempt.startedAt.toISOString() },
    verification: {
      code: result.verification.code,
      expiresAt: result.verification.expiresAt.toISOString(),
      link: result.verification.link,
    },
    callback: toCallbackResponse(result.callback),
  };
}


export interface ResultInput {
  result: AttemptResult;
  outcome?: ConnectedOutcome | undefined;
  notes?: string | undefined;
}

async function endAttempt(tx: Executor, principal: Principal, attemptId: string, input: ResultInput, now: Date) {
  const agentId = agentIdOf(principal);
  const [existing] = await tx.select().from(attempts).where(eq(attempts.id, attemptId)).for('update');
  if (!existing) throw new AppError('not_found', `no attempt ${attemptId}`);
  if (existing.agentId !== agentId) throw new AppError('forbidden', 'only the agent who made the attempt may record its result');
  if (existing.result !== null) throw new AppError('invalid_state', `attempt ${attemptId} already has the result ${existing.result}`);
  return finishAttempt(tx, attemptId, input, now);
}

async function finishAttempt(tx: Executor, attemptId: string, input: ResultInput, now: Date): Promise<AttemptRow> {
  const [ended] = await tx
    .update(attempts)
    .set({ endedAt: now, result: input.result, outcome: input.outcome ?? null, notes: input.notes ?? null })
    .where(eq(attempts.id, attemptId))
    .returning();
  await closeVerificationWindow(tx, attemptId, now);
  return ended!;
}

/**
 * Calls whose agent never recorded a result (a crashed desktop, a forgotten tab) would leave the
 * callback `in_call` for good: after `timeoutMs` the attempt counts as `failed` and the callback is
 * retried or becomes unreachable like any unanswered attempt.
 */
export async function abandonStaleCalls(deps: Deps, now: Date, timeoutMs: number, batchSize = 100): Promise<number> {
  const stale = await deps.db
    .select({ attemptId: attempts.id })
    .from(attempts)
    .innerJoin(callbacks, eq(callbacks.id, attempts.callbackId))
    .where(and(isNull(attempts.result), lt(attempts.startedAt, new Date(now.getTime() - timeoutMs)), eq(callbacks.status, 'in_call')))
    .limit(batchSize);
  let abandoned = 0;
  for (const { attemptId } of stale) {
    const moved = await deps.db.transaction(async (tx) => {
      const [attempt] = await tx.select().from(attempts).where(and(eq(attempts.id, attemptId), isNull(attempts.result))).for('update');
      if (!attempt) return null;
      const ended = await finishAttempt(tx, attemptId, { result: 'failed', notes: 'no result recorded by the agent' }, now);
      const [row] = await tx.select().from(callbacks).where(eq(callbacks.id, ended.callbackId)).for('update');
      return row?.status === 'in_call' ? retryOrGiveUp(tx, deps, row, ended, 'system:maintenance', now) : null;
    });
    if (moved) abandoned++;
  }
  return abandoned;
}

/** no_answer, busy, voicemail, failed: retry after the policy's delay at the next permitted time, or give up. */
async function retryOrGiveUp(tx: Executor, deps: Deps, row: CallbackRow, attempt: AttemptRow, actor: string, now: Date) {
  const policy = await loadPolicy(tx, row.category);
  const details = { attemptId: attempt.id, result: attempt.result };
  if (row.attemptCount >= policy.maxAttempts) {
    const moved = await transition(tx, row.id, 'unreachable', {
      from: ['in_call'],
      version: row.version,
      actor,
      details: { ...details, maxAttempts: policy.maxAttempts },
      set: { scheduledFor: null, claimedBy: null, leaseExpiresAt: null },
      now,
    });
    return moved?.row ?? null;
  }
  const delayMinutes = retryDelayMinutes(policy, attempt.number);
  // The rules are read after the attempt row was written, so the caps count this attempt too.
  const rules = await callingRulesOfRow(tx, row, now);
  const next = nextPermittedOrRecheck(rules, now.getTime() + delayMinutes * 60_000);
  return backToScheduled(tx, deps.queues, row, next.at, { from: ['in_call'], actor, details: { ...details, delayMinutes }, now });
}

async function complete(tx: Executor, row: CallbackRow, outcome: string, actor: string, attemptId: string, now: Date) {
  const moved = await transition(tx, row.id, 'completed', {
    from: ['in_call'],
    version: row.version,
    actor,
    details: { attemptId, outcome },
    set: { outcome, scheduledFor: null, claimedBy: null, leaseExpiresAt: null },
    now,
  });
  return moved?.row ?? null;
}

/**
 * SPEC §5 attempt results. The verification session stays valid for 10 minutes after the call.
 * If the callback left `in_call` meanwhile (an opt-out, a cancellation), the result is recorded and
 * the callback is left as it is.
 */
export async function recordResult(deps: Deps, principal: Principal, attemptId: string, input: ResultInput, now: Date) {
  return deps.db.transaction(async (tx) => {
    const attempt = await endAttempt(tx, principal, attemptId, input, now);
    const [row] = await tx.select().from(callbacks).where(eq(callbacks.id, attempt.callbackId)).for('update');
    let callback = row!;
    let exemption = null;
    if (callback.status === 'in_call') {
      const actor = agentActor(attempt.agentId!);
      let moved: CallbackRow | null = null;
      if (input.result === 'connected' && input.outcome === 'abusive') {
        // Ops decide (SPEC §5.1): the callback waits in_call until the exemption is approved or rejected.
        exemption =
          (await openExemption(tx, callback, { reason: input.notes?.trim() || 'abusive customer', actor }, now)) ??
          (await pendingExemptionOf(tx, callback.id));
      } else if (input.result === 'connected') {
        moved = await complete(tx, callback, input.outcome!, actor, attempt.id, now);
      } else if (input.result === 'wrong_number') {
        moved = await complete(tx, callback, 'wrong_number', actor, attempt.id, now);
      } else {
        moved = await retryOrGiveUp(tx, deps, callback, attempt, actor, now);
      }
      callback = moved ?? callback;
    }
    return {
      attempt: toAttemptResponse(attempt),
      callback: toCallbackResponse(callback),
      exemption: exemption ? toExemptionResponse(exemption) : null,
    };
  });
}
