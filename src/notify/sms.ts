import { randomUUID } from 'node:crypto';
import { UnrecoverableError, type JobsOptions } from 'bullmq';
import { and, asc, eq, inArray, lt, notInArray, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { optOuts, smsMessages } from '../db/schema/index.js';
import type { AppDeps } from '../http/context.js';
import { AppError } from '../http/errors.js';
import { createSmsProvider, SmsSendError } from './sms-providers.js';
import { countSms } from '../ops/metrics.js';

/**
 * Outbound SMS (SPEC §7–§8). The sms_messages row is the truth; a BullMQ job only says "try to send
 * row X now". A row moves queued → sending → sent | failed (or queued → suppressed when the number
 * opted out after it was queued) by conditional UPDATEs, so a retried, duplicated or re-added job
 * never texts twice. Bodies hold verification codes: they are stored, never logged.
 */

export type SmsPurpose =
  | 'pre_call'
  | 'call_status'
  | 'consent_offer'
  | 'consent_confirmation'
  | 'opt_out_confirmation'
  | 'opt_out_code';

export type SmsStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'suppressed' | 'received';

export const SMS_ATTEMPTS = 5;
export const SMS_BACKOFF_MS = 2000;
/** A queued row older than this has lost its job (Redis down at enqueue time, or its data lost). */
export const SMS_STALE_AFTER_MS = 60_000;
/**
 * A row still `sending` after this lost its worker mid-send. Whether the provider took the message
 * is unknown, so it is marked failed rather than sent again.
 */
export const SMS_SENDING_ABANDONED_AFTER_MS = 5 * 60_000;
/** Twilio's limit for one message body. */
export const SMS_MAX_BODY_LENGTH = 1600;
/** Until a worker picks the row up: the provider that sends it is written then (config may change). */
const PROVIDER_UNASSIGNED = 'pending';
const STALE_BATCH = 500;
const MAX_ERROR_LENGTH = 500;

const E164 = /^\+[1-9]\d{6,14}$/;

/** BullMQ job ids must not contain ':'. One job per message, so re-adding it is a no-op. */
export const smsJobId = (messageId: string) => `sms-${messageId}`;

export function smsJobOptions(messageId: string, backoffMs: number = SMS_BACKOFF_MS): JobsOptions {
  return { jobId: smsJobId(messageId), attempts: SMS_ATTEMPTS, backoff: { type: 'exponential', delay: backoffMs } };
}

/** Purposes that still go to a number that refused texts: the one confirmation that it did. */
const IGNORES_OPT_OUT: ReadonlySet<SmsPurpose> = new Set(['opt_out_confirmation']);

/** `all` and `sms` opt-outs stop texts; a `voice` opt-out only stops calls. */
const TEXT_SCOPES: ('all' | 'sms')[] = ['all', 'sms'];

type SmsMessage = { to: string; body: string; purpose: SmsPurpose; callbackId?: string | null };

/** Whether a number's opt-out (its scope, or null) stops a message of this purpose. */
export const optOutStopsText = (scope: string | null, purpose: SmsPurpose) =>
  scope !== null && (TEXT_SCOPES as string[]).includes(scope) && !IGNORES_OPT_OUT.has(purpose);

/** The `queued` row of an outbound SMS, checked (E.164 recipient, body length) and with its id. */
export function outboundSmsRow(msg: SmsMessage): typeof smsMessages.$inferInsert & { id: string } {
  if (!E164.test(msg.to)) throw new AppError('validation_failed', 'an SMS goes to an E.164 number', { errors: [{ path: 'to', message: 'must be E.164' }] });
  if (msg.body.length === 0 || msg.body.length > SMS_MAX_BODY_LENGTH) {
    throw new AppError('validation_failed', `an SMS body has 1 to ${SMS_MAX_BODY_LENGTH} characters`, {
      errors: [{ path: 'body', message: 'length out of range' }],
    });
  }
  return {
    id: randomUUID(),
    direction: 'outbound',
    toE164: msg.to,
    body: msg.body,
    purpose: msg.purpose,
    status: 'queued',
    provider: PROVIDER_UNASSIGNED,
    callbackId: msg.callbackId ?? null,
  };
}

/**
 * Records an outbound SMS as `queued` and returns its id, inside the caller's transaction; call
 * `flushSms` with the ids after COMMIT. Returns null, storing nothing, when the number has opted
 * out of texts, unless the message is the opt-out confirmation itself.
 */
export async function queueSms(db: Executor, msg: SmsMessage): Promise<{ id: string } | null> {
  const row = outboundSmsRow(msg);
  if (!IGNORES_OPT_OUT.has(msg.purpose)) {
    const [optedOut] = await db
      .select({ scope: optOuts.scope })
      .from(optOuts)
      .where(and(eq(optOuts.phoneE164, msg.to), inArray(optOuts.scope, TEXT_SCOPES)));
    if (optedOut) return null;
  }
  await db.insert(smsMessages).values(row);
  return { id: row.id };
}

/**
 * Adds one send job per message, after COMMIT. A Redis failure is logged, not thrown: the rows are
 * committed and `requeueStaleSms` adds their jobs later, so the caller's work must not fail for it.
 */
export async function flushSms(deps: Pick<AppDeps, 'queues' | 'logger'>, ids: string[], options: { backoffMs?: number } = {}): Promise<void> {
  if (ids.length === 0) return;
  try {
    await deps.queues.sms.addBulk(
      ids.map((messageId) => ({ name: 'send', data: { messageId }, opts: smsJobOptions(messageId, options.backoffMs) })),
    );
  } catch (err) {
    deps.logger.warn({ err, messages: ids.length }, 'could not enqueue SMS; they will be re-enqueued when stale');
  }
}

/**
 * Maintenance: re-adds the jobs of rows still `queued` after a minute (re-adding a job that still
 * exists is a no-op), and fails rows abandoned in `sending`. Ages are measured on the database
 * clock, which wrote the timestamps; `now` is accepted for the uniform maintenance signature.
 * Returns the number of rows looked at.
 */
export async function requeueStaleSms(
  deps: Pick<AppDeps, 'db' | 'queues' | 'logger'>,
  _now: Date,
  options: { staleAfterMs?: number; backoffMs?: number } = {},
): Promise<number> {
  const staleAfterMs = options.staleAfterMs ?? SMS_STALE_AFTER_MS;
  const abandoned = await deps.db
    .update(smsMessages)
    .set({ status: 'failed', error: 'worker lost while sending; not retried to avoid a duplicate text', updatedAt: sql`now()` })
    .where(
      and(
        eq(smsMessages.status, 'sending'),
        lt(smsMessages.updatedAt, sql`now() - ${SMS_SENDING_ABANDONED_AFTER_MS}::int * interval '1 millisecond'`),
      ),
    )
    .returning({ id: smsMessages.id });
  if (abandoned.length > 0) deps.logger.warn({ messages: abandoned.length }, 'SMS abandoned while sending marked failed');

  const stale = await deps.db
    .select({ id: smsMessages.id })
    .from(smsMessages)
    .where(
      and(
        eq(smsMessages.direction, 'outbound'),
        eq(smsMessages.status, 'queued'),
        lt(smsMessages.createdAt, sql`now() - ${staleAfterMs}::int * interval '1 millisecond'`),
      ),
    )
    .orderBy(asc(smsMessages.createdAt))
    .limit(STALE_BATCH);
  await flushSms(
    deps,
    stale.map((r) => r.id),
    options,
  );
  return stale.length + abandoned.length;
}

/**
 * Claims a queued row for sending: queued → sending, or queued → suppressed when the number has
 * opted out of texts since it was queued. Null when another job already took (or finished) it.
 */
async function claimForSending(deps: AppDeps, messageId: string, provider: string) {
  const [row] = await deps.db
    .update(smsMessages)
    .set({
      status: sql`case when ${notInArray(smsMessages.purpose, [...IGNORES_OPT_OUT])} and exists (
        select 1 from ${optOuts} where ${optOuts.phoneE164} = ${smsMessages.toE164} and ${inArray(optOuts.scope, TEXT_SCOPES)}
      ) then 'suppressed' else 'sending' end`,
      provider,
      updatedAt: sql`now()`,
    })
    .where(and(eq(smsMessages.id, messageId), eq(smsMessages.status, 'queued'), eq(smsMessages.direction, 'outbound')))
    .returning({ status: smsMessages.status, to: smsMessages.toE164, body: smsMessages.body, purpose: smsMessages.purpose });
  return row ?? null;
}

/** Only a row this job moved to `sending` is updated, so a late job cannot overwrite an outcome. */
async function finish(deps: AppDeps, messageId: string, set: { status: SmsStatus; providerId?: string; error?: string | null }) {
  await deps.db
    .update(smsMessages)
    .set({ ...set, updatedAt: sql`now()` })
    .where(and(eq(smsMessages.id, messageId), eq(smsMessages.status, 'sending')));
}

const errorText = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_LENGTH);

/**
 * Processes one SMS job: sends the row once through the configured provider. A transient failure
 * puts the row back to `queued` and throws so BullMQ retries with backoff; a permanent one, or the
 * last attempt, marks it `failed` and throws UnrecoverableError so nothing retries it.
 */
export async function deliverSms(deps: AppDeps, job: { messageId: string }, attemptsMade: number): Promise<void> {
  const { messageId } = job;
  const log = deps.logger.child({ messageId });
  const provider = createSmsProvider(deps.config);
  const row = await claimForSending(deps, messageId, provider.name);
  if (!row) return;
  if (row.status === 'suppressed') {
    log.info({ purpose: row.purpose }, 'SMS not sent: the number opted out after it was queued');
    countSms(deps, 'skipped');
    return;
  }

  try {
    const { providerId } = await provider.send({ to: row.to, body: row.body });
    await finish(deps, messageId, { status: 'sent', providerId, error: null });
    countSms(deps, 'sent');
    log.info({ purpose: row.purpose, provider: provider.name, providerId }, 'SMS sent');
  } catch (err) {
    const permanent = err instanceof SmsSendError ? err.permanent : false;
    const attempt = attemptsMade + 1;
    const exhausted = permanent || attempt >= SMS_ATTEMPTS;
    const error = errorText(err);
    await finish(deps, messageId, { status: exhausted ? 'failed' : 'queued', error });
    countSms(deps, exhausted ? 'failed' : 'retrying');
    const status = err instanceof SmsSendError ? err.status : null;
    log.warn({ purpose: row.purpose, provider: provider.name, attempt, status, permanent }, 'SMS attempt failed');
    // The provider's text may quote the number; it stays in the row, the job error names the status.
    const message = `SMS ${messageId} attempt ${attempt} failed${status === null ? '' : ` with HTTP ${status}`}`;
    if (exhausted) throw new UnrecoverableError(message);
    throw new SmsSendError(message, false, status);
  }
}
