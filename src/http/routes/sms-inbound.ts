import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import { and, desc, eq, isNotNull, sql } from 'drizzle-orm';
import type { Config } from '../../config.js';
import type { Executor } from '../../db/client.js';
import { callbacks, optOuts, smsMessages } from '../../db/schema/index.js';
import { parsePhone } from '../../domain/phone.js';
import { keywordLanguage, parseSmsCommand, type SmsCommand } from '../../domain/sms-keywords.js';
import { flushSms, queueSms } from '../../notify/sms.js';
import { smsLanguage, smsText, type SmsLanguage } from '../../notify/sms-templates.js';
import { answerOfferByPhone } from '../../services/consent.js';
import { registerOptOut } from '../../services/opt-outs.js';
import { answerCallStatus } from '../../verification/call-status.js';
import type { AppDeps } from '../context.js';
import { AppError, fieldErrors, problemResponses } from '../errors.js';
import { createRouter } from '../router.js';

/**
 * Inbound SMS (SPEC §8): the provider posts each text a customer sends to our number. The request
 * is authenticated by the provider's signature; the message is recorded once per provider message
 * id (a replayed webhook changes nothing) and its keyword acted on: opt-out, an answer to a consent
 * offer, or "are you calling me?".
 */

export const SMS_INBOUND_PATH = '/webhooks/sms/inbound';
/** SMS_PROVIDER=log has no provider to sign: the caller signs the raw body with SECRET_KEY. */
export const LOG_SIGNATURE_HEADER = 'x-secondcall-signature';
export const TWILIO_SIGNATURE_HEADER = 'x-twilio-signature';
const ACTOR = 'customer:sms';
const TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

/** Compares digests of both sides, so neither the content nor the length of the secret leaks. */
function safeEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Twilio's X-Twilio-Signature: base64 HMAC-SHA1, keyed with the auth token, of the URL Twilio
 * requested followed by every form parameter as name + value, names sorted (a repeated name's
 * distinct values sorted, each once, as Twilio's SDKs do).
 */
export function twilioRequestSignature(authToken: string, url: string, params: URLSearchParams): string {
  const names = [...new Set(params.keys())].sort();
  let data = url;
  for (const name of names) {
    for (const value of [...new Set(params.getAll(name))].sort()) data += name + value;
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/**
 * The URL as configured, and the same with the scheme's default port written out or left off:
 * Twilio signs whichever form it requested, and its own SDKs accept both.
 */
function urlVariants(url: string): string[] {
  const parsed = new URL(url);
  // A port other than the scheme's default is part of every form of the URL.
  if (parsed.port !== '') return [url];
  const rest = `${parsed.pathname}${parsed.search}`;
  const defaultPort = parsed.protocol === 'https:' ? '443' : '80';
  return [...new Set([url, `${parsed.protocol}//${parsed.hostname}${rest}`, `${parsed.protocol}//${parsed.hostname}:${defaultPort}${rest}`])];
}

export const logRequestSignature = (secretKey: string, rawBody: string) =>
  createHmac('sha256', secretKey).update(rawBody, 'utf8').digest('hex');

/** The URL the provider posted to, as configured there: PUBLIC_BASE_URL + path + query. */
const publicUrl = (config: Config, path: string, search: string) => `${config.PUBLIC_BASE_URL.replace(/\/+$/, '')}${path}${search}`;

/** Throws 401 without a signature and 403 with a wrong one, before anything is written. */
function verifySignature(config: Config, request: { header: (name: string) => string | undefined; url: string; rawBody: string; params: URLSearchParams }) {
  const twilio = config.SMS_PROVIDER === 'twilio';
  const header = request.header(twilio ? TWILIO_SIGNATURE_HEADER : LOG_SIGNATURE_HEADER);
  if (!header) throw new AppError('unauthorized', `the ${twilio ? 'X-Twilio-Signature' : 'X-Secondcall-Signature'} header is required`);
  const expected = twilio
    ? urlVariants(request.url).map((url) => twilioRequestSignature(config.TWILIO_AUTH_TOKEN ?? '', url, request.params))
    : [logRequestSignature(config.SECRET_KEY, request.rawBody)];
  // Every candidate is compared, so the time taken does not tell which form came close.
  const matches = expected.map((signature) => safeEqual(header, signature));
  if (!matches.includes(true)) throw new AppError('forbidden', 'the request signature does not match');
}

/** Text as PostgreSQL can store it: a NUL character would fail the insert (a 500, and the provider retrying). */
const text = (min: number, max: number) =>
  z.string().min(min).max(max).refine((s) => !s.includes('\u0000'), 'must not contain a NUL character');

const InboundForm = z.object({
  MessageSid: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  From: text(1, 64),
  To: text(1, 64),
  Body: text(0, 1600).default(''),
});

export interface InboundSms {
  messageSid: string;
  from: string;
  to: string;
  body: string;
}

/** What an inbound text was recorded as (sms_messages.purpose for direction 'inbound'). */
export type InboundPurpose = 'opt_out' | 'consent_accept' | 'consent_decline' | 'call_status' | 'other';

const purposeOf = (command: SmsCommand): InboundPurpose => {
  if (command.kind === 'consent') return command.accept ? 'consent_accept' : 'consent_decline';
  if (command.kind === 'none') return 'other';
  return command.kind;
};

export type InboundOutcome =
  | 'duplicate'
  | 'opted_out'
  | 'already_opted_out'
  | 'consent_answered'
  | 'no_open_offer'
  | 'call_status_sent'
  | 'ignored';

/** Null when this provider message id was recorded before: the replay is ignored. */
async function recordInbound(tx: Executor, provider: string, sms: InboundSms, sender: string | null, command: SmsCommand) {
  const [row] = await tx
    .insert(smsMessages)
    .values({
      direction: 'inbound',
      toE164: sms.to,
      fromE164: sender ?? sms.from,
      body: sms.body,
      purpose: purposeOf(command),
      status: 'received',
      provider,
      providerId: sms.messageSid,
    })
    .onConflictDoNothing({ target: [smsMessages.provider, smsMessages.providerId] })
    .returning({ id: smsMessages.id });
  return row ?? null;
}

/** The keyword's language, else the language of the number's latest callback, else English. */
async function replyLanguage(tx: Executor, e164: string, body: string): Promise<SmsLanguage> {
  const hinted = keywordLanguage(body);
  if (hinted) return hinted;
  const [latest] = await tx
    .select({ language: callbacks.customerLanguage })
    .from(callbacks)
    .where(and(eq(callbacks.phoneE164, e164), isNotNull(callbacks.customerLanguage)))
    .orderBy(desc(callbacks.createdAt))
    .limit(1);
  return smsLanguage(latest?.language);
}

/**
 * STOP: opt-out of calls and texts, and active callbacks suppressed, in the transaction that
 * recorded the text. The number is locked first, so two STOPs sent together are handled one after
 * the other and only the first confirms. The one confirmation goes only to a number that could
 * still receive our texts: a repeated STOP, or a STOP after an SMS-only opt-out, gets no reply.
 */
async function optOutBySms(tx: Executor, config: Config, e164: string, body: string, now: Date): Promise<{ messageId: string | null; changed: boolean }> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`sms-opt-out:${e164}`}, 0))`);
  const [existing] = await tx.select({ scope: optOuts.scope }).from(optOuts).where(eq(optOuts.phoneE164, e164));
  if (existing?.scope === 'all') return { messageId: null, changed: false };
  // registerOptOut opens its own transaction; on a transaction handle that is a savepoint, so the
  // opt-out commits (or not) with the inbound record and the confirmation.
  await registerOptOut(tx, { e164, scope: 'all', source: 'sms', actor: ACTOR, now });
  if (existing?.scope === 'sms') return { messageId: null, changed: true };
  const lang = await replyLanguage(tx, e164, body);
  const queued = await queueSms(tx, {
    to: e164,
    body: smsText('opt_out_confirmation', lang, { brand: config.BRAND_NAME, scope: 'all' }),
    purpose: 'opt_out_confirmation',
  });
  return { messageId: queued?.id ?? null, changed: true };
}

/**
 * Consent answers and call-status questions run after the record is committed (they use their own
 * transactions). If one fails, the record is removed again so the provider's retry is not taken
 * for a replay.
 */
async function afterCommit(deps: AppDeps, recordId: string, action: () => Promise<InboundOutcome>): Promise<InboundOutcome> {
  try {
    return await action();
  } catch (err) {
    await deps.db
      .delete(smsMessages)
      .where(eq(smsMessages.id, recordId))
      .catch((deleteErr: unknown) => deps.logger.error({ err: deleteErr, messageId: recordId }, 'could not remove a failed inbound SMS record'));
    throw err;
  }
}

/** Records one inbound text and acts on its keyword. Never logs the body. */
export async function handleInboundSms(deps: AppDeps, sms: InboundSms, now: Date): Promise<InboundOutcome> {
  const sender = parsePhone(sms.from, null);
  const e164 = sender.ok ? sender.phone.e164 : null;
  // A sender we cannot parse (an alphanumeric id, a short code) cannot be opted out or answered.
  const command: SmsCommand = e164 ? parseSmsCommand(sms.body) : { kind: 'none' };

  const recorded = await deps.db.transaction(async (tx) => {
    const row = await recordInbound(tx, deps.config.SMS_PROVIDER, sms, e164, command);
    if (!row) return null;
    const optOut = command.kind === 'opt_out' && e164 ? await optOutBySms(tx, deps.config, e164, sms.body, now) : null;
    return { id: row.id, optOut };
  });
  const log = deps.logger.child({ inboundId: recorded?.id, command: command.kind });
  if (!recorded) {
    log.info({ messageSid: sms.messageSid }, 'inbound SMS replayed; ignored');
    return 'duplicate';
  }
  if (recorded.optOut) {
    if (recorded.optOut.messageId) await flushSms(deps, [recorded.optOut.messageId]);
    log.info({ changed: recorded.optOut.changed, confirmation: recorded.optOut.messageId !== null }, 'inbound SMS opt-out');
    return recorded.optOut.changed ? 'opted_out' : 'already_opted_out';
  }
  if (command.kind === 'consent' && e164) {
    return afterCommit(deps, recorded.id, async () =>
      (await answerOfferByPhone(deps, e164, command.accept, now)) ? 'consent_answered' : 'no_open_offer',
    );
  }
  if (command.kind === 'call_status' && e164) {
    return afterCommit(deps, recorded.id, async () => {
      await answerCallStatus(deps, e164, now);
      return 'call_status_sent';
    });
  }
  return 'ignored';
}

const FORM_MEDIA = 'application/x-www-form-urlencoded';

export function smsInboundRouter() {
  const router = createRouter();
  // Documented here, handled by a plain route below: the signature must be checked before the
  // form is validated, which a zod-openapi body schema would do first.
  router.openAPIRegistry.registerPath({
    method: 'post',
    path: SMS_INBOUND_PATH,
    tags: ['sms'],
    // No staff role: the provider's signature is the authentication.
    'x-public': true,
    summary: 'Inbound SMS from the provider (STOP, 1/YES, 2/NO, CALL …)',
    description:
      'Form-encoded as Twilio posts it. Twilio: X-Twilio-Signature over PUBLIC_BASE_URL + path. ' +
      'SMS_PROVIDER=log: X-Secondcall-Signature = hex HMAC-SHA256(SECRET_KEY, raw body). ' +
      'Answers an empty TwiML document; a replayed MessageSid is ignored.',
    request: {
      headers: z.object({
        'x-twilio-signature': z.string().optional(),
        'x-secondcall-signature': z.string().optional(),
      }),
      body: { required: true, content: { [FORM_MEDIA]: { schema: InboundForm } } },
    },
    responses: {
      200: { description: 'Recorded (or a replay, ignored)', content: { 'text/xml': { schema: z.string() } } },
      ...problemResponses(401, 403, 415, 422),
    },
  });

  router.post(SMS_INBOUND_PATH, async (c) => {
    const { deps } = c.var;
    const mediaType = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (mediaType !== FORM_MEDIA) throw new AppError('unsupported_media_type', `expected ${FORM_MEDIA}, got ${mediaType || 'no content type'}`);
    const rawBody = await c.req.text();
    const params = new URLSearchParams(rawBody);
    const url = publicUrl(deps.config, c.req.path, new URL(c.req.url).search);
    verifySignature(deps.config, { header: (name) => c.req.header(name), url, rawBody, params });

    const parsed = InboundForm.safeParse(Object.fromEntries(params));
    if (!parsed.success) {
      throw new AppError('validation_failed', 'the form is not an inbound SMS', { errors: fieldErrors(parsed.error.issues) });
    }
    const form = parsed.data;
    await handleInboundSms(deps, { messageSid: form.MessageSid, from: form.From, to: form.To, body: form.Body }, deps.now());
    return c.body(TWIML_EMPTY, 200, { 'content-type': 'text/xml; charset=utf-8' });
  });
  return router;
}
