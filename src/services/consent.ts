/**
 * SPEC §8 consent offers: for policies with `consent: required` the customer is asked by SMS (and,
 * where links are allowed, on /o/{token}) whether they want the callback. Accepting schedules it
 * at the slot they picked (if permitted) or the earliest permitted time; declining ends it as
 * `declined`; no answer by the offer's deadline ends it as `expired`. Each offer is answered once:
 * the answer is claimed with a conditional UPDATE in the transaction that moves the callback.
 */
import { randomBytes } from 'node:crypto';
import { and, desc, eq, gt, inArray, isNull, lte, or, type SQL } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { callbacks, consentOffers } from '../db/schema/index.js';
import { isPermitted, nextIntervals } from '../domain/calling-rules.js';
import { clip } from '../domain/intervals.js';
import { canReceiveSms, type PhoneType } from '../domain/phone.js';
import type { AppDeps } from '../http/context.js';
import { AppError, invalidField } from '../http/errors.js';
import { flushSms, optOutStopsText, outboundSmsRow, queueSms } from '../notify/sms.js';
import { smsLanguage, smsText } from '../notify/sms-templates.js';
import { callingRulesOfRow, nextPermittedOrRecheck } from './callback-rules.js';
import { transition, type CallbackRow } from './transitions.js';
import { verificationHash } from './verification-sessions.js';
import { enqueueWakeup } from './wakeups.js';

type Deps = Pick<AppDeps, 'db' | 'config' | 'queues' | 'logger'>;
type OfferRow = typeof consentOffers.$inferSelect;

/** An unanswered offer lapses after a day, or at the callback's deadline if that comes first. */
export const OFFER_TTL_MS = 24 * 3600_000;
/** Permitted intervals listed on the offer page. */
export const OFFER_SLOTS = 6;
const EXPIRE_BATCH = 500;

const hashToken = (deps: Pick<AppDeps, 'config'>, token: string) => verificationHash(deps.config.SECRET_KEY, token);

/**
 * The offer of a callback about to be created in `awaiting_consent`, and its SMS unless the number
 * cannot take texts or refused them (`optOutScope`): the caller stores them with the callback and
 * flushes the SMS after. The token reaches the customer only in the link; it is stored as a keyed hash.
 */
export function offerRows(callback: CallbackRow, deps: Pick<AppDeps, 'config'>, now: Date, optOutScope: string | null) {
  const token = randomBytes(32).toString('base64url');
  const offer: typeof consentOffers.$inferInsert = {
    callbackId: callback.id,
    phoneE164: callback.phoneE164,
    tokenHash: hashToken(deps, token),
    expiresAt: new Date(Math.min(now.getTime() + OFFER_TTL_MS, callback.deadline.getTime())),
    createdAt: now,
  };
  if (!canReceiveSms(callback.phoneType as PhoneType) || optOutStopsText(optOutScope, 'consent_offer')) return { offer, sms: null, token };
  const link = `${deps.config.PUBLIC_BASE_URL.replace(/\/+$/, '')}/o/${token}`;
  const sms = outboundSmsRow({
    to: callback.phoneE164,
    body: smsText('consent_offer', smsLanguage(callback.customerLanguage), {
      brand: deps.config.BRAND_NAME,
      reason: callback.reason,
      link,
      allowLinks: deps.config.SMS_ALLOW_LINKS,
    }),
    purpose: 'consent_offer',
    callbackId: callback.id,
  });
  return { offer, sms, token };
}

const isOpen = (offer: OfferRow, callback: CallbackRow, now: Date) =>
  offer.answeredAt === null && offer.expiresAt > now && callback.status === 'awaiting_consent';

async function offerByToken(deps: Deps, token: string) {
  const [found] = await deps.db
    .select({ offer: consentOffers, callback: callbacks })
    .from(consentOffers)
    .innerJoin(callbacks, eq(callbacks.id, consentOffers.callbackId))
    .where(eq(consentOffers.tokenHash, hashToken(deps, token)));
  return found ?? null;
}

export interface OfferView {
  callbackId: string;
  expiresAt: string;
  /** The next permitted intervals, the choices the page offers. */
  slots: { start: string; end: string }[];
  /** The zones the callback is planned in, so a page can show local times. */
  timezones: string[];
  brand: string;
  reason: string;
}

/** The open offer behind a link, with the slots the customer may pick; null if unknown, answered or expired. */
export async function loadOffer(deps: Deps, token: string, now: Date): Promise<OfferView | null> {
  const found = await offerByToken(deps, token);
  if (!found || !isOpen(found.offer, found.callback, now)) return null;
  const rules = await callingRulesOfRow(deps.db, found.callback, now);
  const deadline = found.callback.deadline.getTime();
  const slots = clip(nextIntervals(rules, now.getTime(), { limit: OFFER_SLOTS }), now.getTime(), deadline);
  return {
    callbackId: found.callback.id,
    expiresAt: found.offer.expiresAt.toISOString(),
    slots: slots.map((s) => ({ start: new Date(s.start).toISOString(), end: new Date(s.end).toISOString() })),
    timezones: found.callback.timezones,
    brand: deps.config.BRAND_NAME,
    reason: found.callback.reason,
  };
}

export interface OfferAnswer {
  status: 'scheduled' | 'declined';
  scheduledFor: string | null;
}

type Via = 'web' | 'sms';

/** 422 for a slot that is not a permitted time (past, outside the windows, over the caps). */
const badSlot = (message: string) => invalidField('slot', message);

/**
 * Answers one offer: claims it, moves the callback (awaiting_consent → scheduled with its wake-up,
 * or → declined) and queues the confirmation text, all in one transaction. Null when the offer was
 * answered, expired or its callback left awaiting_consent meanwhile.
 */
async function answerOffer(
  deps: Deps,
  offerId: string,
  answer: { accept: boolean; slot?: Date | undefined; via: Via },
  now: Date,
): Promise<OfferAnswer | null> {
  const result = await deps.db.transaction(async (tx) => {
    const [claimed] = await tx
      .update(consentOffers)
      .set({ answer: answer.accept ? 'accepted' : 'declined', answeredVia: answer.via, chosenSlot: answer.slot ?? null, answeredAt: now })
      .where(and(eq(consentOffers.id, offerId), isNull(consentOffers.answeredAt), gt(consentOffers.expiresAt, now)))
      .returning();
    if (!claimed) return null;
    const [row] = await tx.select().from(callbacks).where(eq(callbacks.id, claimed.callbackId)).for('update');
    if (!row || row.status !== 'awaiting_consent') return null;
    const actor = `customer:${answer.via}`;

    let moved: CallbackRow | null;
    if (answer.accept) {
      const rules = await callingRulesOfRow(tx, row, now);
      // The promise stays honest: a chosen slot must be permitted and before the callback's deadline.
      if (answer.slot && (answer.slot < now || answer.slot >= row.deadline || !isPermitted(rules, answer.slot.getTime()))) {
        throw badSlot('not a permitted time; choose one of the offered slots');
      }
      const at = answer.slot ?? nextPermittedOrRecheck(rules, now.getTime()).at;
      const result = await transition(tx, row.id, 'scheduled', {
        from: ['awaiting_consent'],
        version: row.version,
        actor,
        details: { consent: 'accepted', via: answer.via, chosenSlot: answer.slot?.toISOString() ?? null, scheduledFor: at.toISOString() },
        set: { scheduledFor: at },
        event: 'callback.scheduled',
        now,
      });
      moved = result?.row ?? null;
      if (moved) await enqueueWakeup(deps.queues, moved, now);
    } else {
      const result = await transition(tx, row.id, 'declined', {
        from: ['awaiting_consent'],
        version: row.version,
        actor,
        details: { consent: 'declined', via: answer.via },
        set: { scheduledFor: null },
        now,
      });
      moved = result?.row ?? null;
    }
    // The row is locked and was awaiting_consent, so the conditional update cannot miss.
    if (!moved) return null;

    const sms = canReceiveSms(moved.phoneType as PhoneType)
      ? await queueSms(tx, {
          to: moved.phoneE164,
          body: smsText('consent_confirmation', smsLanguage(moved.customerLanguage), {
            brand: deps.config.BRAND_NAME,
            accepted: answer.accept,
            at: moved.scheduledFor,
            timeZone: moved.timezones[0] ?? null,
          }),
          purpose: 'consent_confirmation',
          callbackId: moved.id,
        })
      : null;
    return { answer: { status: moved.status as OfferAnswer['status'], scheduledFor: moved.scheduledFor?.toISOString() ?? null }, sms };
  });
  if (!result) return null;
  if (result.sms) await flushSms(deps, [result.sms.id]);
  return result.answer;
}

/** POST /v1/public/offers/{token} and the /o/{token} form. 404 for an unknown or lapsed offer, 409 if already answered. */
export async function answerOfferByToken(
  deps: Deps,
  token: string,
  input: { accept: boolean; slot?: string | Date | undefined },
  now: Date,
): Promise<OfferAnswer> {
  const slot = input.slot === undefined ? undefined : new Date(input.slot);
  if (slot && Number.isNaN(slot.getTime())) throw badSlot('not a date-time');
  const found = await offerByToken(deps, token);
  if (!found || (found.offer.answeredAt === null && found.offer.expiresAt <= now)) {
    throw new AppError('not_found', 'this offer does not exist or has expired');
  }
  if (!isOpen(found.offer, found.callback, now)) {
    throw new AppError('invalid_state', 'this offer has already been answered or the callback was withdrawn', {
      answer: found.offer.answer,
    });
  }
  const answer = await answerOffer(deps, found.offer.id, { accept: input.accept, slot, via: 'web' }, now);
  if (!answer) throw new AppError('invalid_state', 'this offer has already been answered or the callback was withdrawn');
  return answer;
}

/**
 * An SMS reply (1/YES → accept at the earliest permitted time, 2/NO → decline) answers the number's
 * most recent open offer. False when the number has none.
 */
export async function answerOfferByPhone(deps: Deps, e164: string, accept: boolean, now: Date): Promise<boolean> {
  const [open] = await deps.db
    .select({ id: consentOffers.id })
    .from(consentOffers)
    .innerJoin(callbacks, eq(callbacks.id, consentOffers.callbackId))
    .where(
      and(
        eq(consentOffers.phoneE164, e164),
        isNull(consentOffers.answeredAt),
        gt(consentOffers.expiresAt, now),
        eq(callbacks.status, 'awaiting_consent'),
      ),
    )
    .orderBy(desc(consentOffers.createdAt))
    .limit(1);
  if (!open) return false;
  return (await answerOffer(deps, open.id, { accept, via: 'sms' }, now)) !== null;
}

/**
 * Maintenance: callbacks still awaiting consent when their offer lapsed (or, without an offer, when
 * their own deadline passed) become `expired`; their open offers are closed. Returns how many
 * callbacks expired.
 */
export async function expireOffers(deps: Deps, now: Date): Promise<number> {
  const lapsedOffer = deps.db
    .select({ id: consentOffers.callbackId })
    .from(consentOffers)
    .where(and(isNull(consentOffers.answeredAt), lte(consentOffers.expiresAt, now)));
  const due = await deps.db
    .select({ id: callbacks.id })
    .from(callbacks)
    .where(and(eq(callbacks.status, 'awaiting_consent'), or(lte(callbacks.deadline, now), inArray(callbacks.id, lapsedOffer))))
    .limit(EXPIRE_BATCH);
  let expired = 0;
  for (const { id } of due) {
    const moved = await deps.db.transaction(async (tx) => {
      const result = await transition(tx, id, 'expired', {
        from: ['awaiting_consent'],
        actor: 'system:consent',
        details: { reason: 'no_answer' },
        set: { scheduledFor: null },
        now,
      });
      if (result) await closeOffers(tx, eq(consentOffers.callbackId, id), now);
      return result;
    });
    if (moved) expired++;
  }
  // Offers of callbacks that left awaiting_consent some other way (cancelled, suppressed) close too.
  await closeOffers(deps.db, lte(consentOffers.expiresAt, now), now);
  return expired;
}

function closeOffers(db: Executor, condition: SQL, now: Date) {
  return db
    .update(consentOffers)
    .set({ answer: 'expired', answeredVia: 'system', answeredAt: now })
    .where(and(condition, isNull(consentOffers.answeredAt)));
}
