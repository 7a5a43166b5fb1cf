import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Config } from '../config.js';
import type { Executor } from '../db/client.js';
import { verificationSessions } from '../db/schema/index.js';

/** SPEC §7: a session is valid from the attempt's start until 10 min after it ends, and never past 30 min. */
export const VERIFICATION_HARD_CAP_MS = 30 * 60_000;
export const VERIFICATION_AFTER_END_MS = 10 * 60_000;

/** Codes and link tokens are stored only as this keyed hash: a database dump reveals neither. */
export const verificationHash = (secretKey: string, value: string) =>
  createHmac('sha256', secretKey).update(value).digest('hex');

/** Six digits from the CSPRNG, leading zeros kept so every code has the same length. */
export const newVerificationCode = () => randomInt(0, 1_000_000).toString().padStart(6, '0');

/** 256 bits, well above the 128 the SPEC asks for, URL-safe for `/v/{token}`. */
const newLinkToken = () => randomBytes(32).toString('base64url');

export interface IssuedVerification {
  code: string;
  expiresAt: Date;
  link: string | null;
}

/**
 * Opens the one verification session of an attempt. The plaintext code and link are returned to
 * the caller (the agent states the code; the SMS carries it) and never stored.
 */
export async function createVerificationSession(
  tx: Executor,
  config: Pick<Config, 'SECRET_KEY' | 'SMS_ALLOW_LINKS' | 'PUBLIC_BASE_URL'>,
  input: { attemptId: string; callbackId: string; phoneE164: string },
  now: Date,
): Promise<IssuedVerification> {
  const code = newVerificationCode();
  const token = config.SMS_ALLOW_LINKS ? newLinkToken() : null;
  const hardExpiresAt = new Date(now.getTime() + VERIFICATION_HARD_CAP_MS);
  await tx.insert(verificationSessions).values({
    attemptId: input.attemptId,
    callbackId: input.callbackId,
    phoneE164: input.phoneE164,
    codeHash: verificationHash(config.SECRET_KEY, code),
    tokenHash: token === null ? null : verificationHash(config.SECRET_KEY, token),
    validFrom: now,
    expiresAt: hardExpiresAt,
    hardExpiresAt,
    createdAt: now,
  });
  const link = token === null ? null : `${config.PUBLIC_BASE_URL.replace(/\/+$/, '')}/v/${token}`;
  return { code, expiresAt: hardExpiresAt, link };
}

/** The attempt has ended: the customer may still check for 10 minutes, within the hard cap. */
export async function closeVerificationWindow(tx: Executor, attemptId: string, now: Date): Promise<void> {
  const afterEnd = new Date(now.getTime() + VERIFICATION_AFTER_END_MS);
  await tx
    .update(verificationSessions)
    .set({ expiresAt: sql`least(${verificationSessions.hardExpiresAt}, ${afterEnd.toISOString()}::timestamptz)` })
    .where(eq(verificationSessions.attemptId, attemptId));
}
