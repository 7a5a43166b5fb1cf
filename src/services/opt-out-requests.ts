/**
 * The web opt-out (SPEC §8, /opt-out page and POST /v1/public/opt-outs): whoever types a number
 * gets nothing back but "if it can receive texts, we sent it a code"; the opt-out is registered
 * only with the code texted to that number (6 digits, stored as a keyed hash, 15 minutes, 5 tries).
 * A new request replaces the open one, so asking again does not multiply the tries.
 */
import { timingSafeEqual } from 'node:crypto';
import { and, desc, eq, gt, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { AppDeps } from '../http/context.js';
import { optOutRequests } from '../db/schema/index.js';
import { canReceiveSms, parsePhone } from '../domain/phone.js';
import { flushSms, queueSms } from '../notify/sms.js';
import { smsText, type SmsLanguage } from '../notify/sms-templates.js';
import { normalizeCode } from '../verification/check.js';
import { registerOptOut, type OptOutScope } from './opt-outs.js';
import { newVerificationCode, verificationHash } from './verification-sessions.js';

type Deps = Pick<AppDeps, 'db' | 'config' | 'queues' | 'logger'>;

export const OPT_OUT_CODE_TTL_MINUTES = 15;
export const OPT_OUT_MAX_FAILED_CHECKS = 5;
const DUMMY_HASH = '0'.repeat(64);

function smsCapableE164(phone: string, region: string): string | null {
  const parsed = parsePhone(phone, region);
  return parsed.ok && canReceiveSms(parsed.phone.type) ? parsed.phone.e164 : null;
}

function sameHash(expectedHex: string, actualHex: string): boolean {
  const expected = Buffer.from(expectedHex, 'hex');
  const actual = Buffer.from(actualHex, 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

export interface OptOutRequestInput {
  phone: string;
  region?: string | undefined;
  scope?: OptOutScope | undefined;
  lang?: SmsLanguage | undefined;
}

/** Texts a confirmation code to the number if it can receive texts; otherwise does nothing, silently. */
export async function requestOptOut(deps: Deps, input: OptOutRequestInput, now: Date): Promise<void> {
  const e164 = smsCapableE164(input.phone, input.region ?? deps.config.DEFAULT_REGION);
  if (e164 === null) return;
  const code = newVerificationCode();
  const queued = await deps.db.transaction(async (tx) => {
    await tx
      .update(optOutRequests)
      .set({ expiresAt: now })
      .where(and(eq(optOutRequests.phoneE164, e164), isNull(optOutRequests.confirmedAt), gt(optOutRequests.expiresAt, now)));
    await tx.insert(optOutRequests).values({
      phoneE164: e164,
      scope: input.scope ?? 'all',
      codeHash: verificationHash(deps.config.SECRET_KEY, code),
      expiresAt: new Date(now.getTime() + OPT_OUT_CODE_TTL_MINUTES * 60_000),
      createdAt: now,
    });
    return queueSms(tx, {
      to: e164,
      body: smsText('opt_out_code', input.lang ?? 'en', { brand: deps.config.BRAND_NAME, code, minutes: OPT_OUT_CODE_TTL_MINUTES }),
      purpose: 'opt_out_code',
    });
  });
  if (queued) await flushSms(deps, [queued.id]);
}

/**
 * Takes one try from the number's open request before the code is compared (an atomic UPDATE that
 * refuses when the tries are used up), so parallel guesses get no more than the limit between them.
 */
async function reserveTry(deps: Deps, e164: string, now: Date) {
  const latest = deps.db
    .select({ id: optOutRequests.id })
    .from(optOutRequests)
    .where(and(eq(optOutRequests.phoneE164, e164), isNull(optOutRequests.confirmedAt), gt(optOutRequests.expiresAt, now)))
    .orderBy(desc(optOutRequests.createdAt))
    .limit(1);
  const [row] = await deps.db
    .update(optOutRequests)
    .set({ failedChecks: sql`${optOutRequests.failedChecks} + 1` })
    .where(
      and(
        inArray(optOutRequests.id, latest),
        isNull(optOutRequests.confirmedAt),
        lt(optOutRequests.failedChecks, OPT_OUT_MAX_FAILED_CHECKS),
      ),
    )
    .returning();
  return row;
}

export interface OptOutConfirmInput {
  phone: string;
  region?: string | undefined;
  code: string;
  lang?: SmsLanguage | undefined;
}

/**
 * Registers the opt-out (source 'web') when the code matches the number's open request, and texts
 * one confirmation. Returns the scope registered, or null for a wrong, expired or used-up code.
 */
export async function confirmOptOut(deps: Deps, input: OptOutConfirmInput, now: Date): Promise<{ scope: OptOutScope } | null> {
  const e164 = smsCapableE164(input.phone, input.region ?? deps.config.DEFAULT_REGION) ?? '';
  const actual = verificationHash(deps.config.SECRET_KEY, normalizeCode(input.code));
  const open = await reserveTry(deps, e164, now);
  if (!sameHash(open?.codeHash ?? DUMMY_HASH, actual) || !open) return null;

  // Registering first is safe to repeat (an upsert); the confirmation below is claimed once, so a
  // double submission texts one confirmation.
  const { optOut } = await registerOptOut(deps.db, { e164, scope: open.scope, source: 'web', actor: 'customer:web', now });
  const queued = await deps.db.transaction(async (tx) => {
    const [claimed] = await tx
      .update(optOutRequests)
      .set({ confirmedAt: now, failedChecks: sql`${optOutRequests.failedChecks} - 1` })
      .where(and(eq(optOutRequests.id, open.id), isNull(optOutRequests.confirmedAt)))
      .returning({ id: optOutRequests.id });
    if (!claimed) return null;
    return queueSms(tx, {
      to: e164,
      body: smsText('opt_out_confirmation', input.lang ?? 'en', { brand: deps.config.BRAND_NAME, scope: optOut.scope }),
      purpose: 'opt_out_confirmation',
    });
  });
  if (queued) await flushSms(deps, [queued.id]);
  return { scope: optOut.scope };
}
