/**
 * The customers' JSON endpoints (SPEC §7–§8, §10 "Endpoints (customers)"): no authentication,
 * rate-limited per client IP on every route and per phone number where one is given. Answers that
 * could reveal something about a number (is it known? is it being called?) have one shape and
 * status whatever the number; what only the number's owner may learn goes to it by SMS.
 */
import { createRoute, z, type RouteConfig } from '@hono/zod-openapi';
import { parsePhone } from '../../domain/phone.js';
import { SMS_LANGUAGES } from '../../notify/sms-templates.js';
import { answerOfferByToken, loadOffer } from '../../services/consent.js';
import { confirmOptOut, requestOptOut } from '../../services/opt-out-requests.js';
import { createScamReport, findOfficialNumber } from '../../services/scam-reports.js';
import { answerCallStatus } from '../../verification/call-status.js';
import { checkCode } from '../../verification/check.js';
import { AppError, problemResponses } from '../errors.js';
import { rateLimit, type RateLimitOptions } from '../rate-limit.js';
import { createRouter, jsonBody, jsonResponse } from '../router.js';
import { Instant, IntervalSchema, PhoneFields } from '../schemas.js';

/**
 * Buckets per endpoint. The per-number budget applies to the customer's own number; not to the
 * number checked for being official, nor to the reported caller (many people may report one).
 */
const LIMITS = {
  verify: { scope: 'verify', phoneField: 'phone' },
  callStatus: { scope: 'call-status', phoneField: 'phone' },
  officialNumber: { scope: 'official-number-check', failOpen: true },
  reports: { scope: 'reports', phoneField: 'ownNumber' },
  offerRead: { scope: 'offers', failOpen: true },
  offerAnswer: { scope: 'offers' },
  optOut: { scope: 'opt-outs', phoneField: 'phone' },
  optOutConfirm: { scope: 'opt-outs-confirm', phoneField: 'phone' },
} satisfies Record<string, RateLimitOptions>;

/**
 * A public route: rate-limited per IP before validation, marked `x-public` in the OpenAPI document
 * (no security requirement), with the problems every public route can answer.
 */
function publicRoute<R extends Omit<RouteConfig, 'middleware' | 'security'>>(limit: RateLimitOptions, route: R) {
  return createRoute({
    ...route,
    tags: ['public'],
    middleware: [rateLimit(limit)] as const,
    security: [],
    'x-public': true,
    responses: { ...problemResponses(422, 429, 503), ...route.responses },
  });
}

const Lang = z.enum(SMS_LANGUAGES).optional().openapi({ description: 'Language of the text we send' });
const Code = z.string().min(1).max(32).openapi({ example: '482913' });
const Token = z.object({ token: z.string().min(16).max(128).regex(/^[A-Za-z0-9_-]+$/) });

const VerifyResultSchema = z
  .object({
    genuine: z.boolean(),
    company: z.string().optional(),
    agentName: z.string().optional(),
    reason: z.string().optional(),
    caseRef: z.string().optional().openapi({ description: 'Masked, e.g. CA****11' }),
    callerNumber: z.string().nullable().optional().openapi({ description: 'The official number the agent calls from' }),
  })
  .openapi('VerifyResult');

const Accepted = z.object({ accepted: z.literal(true), message: z.string() }).openapi('PublicAccepted');

/** One text for every number, valid or not, known or not: the body tells the requester nothing. */
const CALL_STATUS_ACCEPTED = {
  accepted: true as const,
  message: 'If this number can receive text messages, we have sent it one saying whether we are calling it right now.',
};
const OPT_OUT_ACCEPTED = {
  accepted: true as const,
  message: 'If this number can receive text messages, we have sent it a code to confirm the opt-out.',
};

const OfferSchema = z
  .object({
    callbackId: z.uuid(),
    expiresAt: z.string(),
    slots: z.array(IntervalSchema),
    timezones: z.array(z.string()),
    brand: z.string(),
    reason: z.string(),
  })
  .openapi('ConsentOffer');

export function publicRouter() {
  return createRouter()
    .openapi(
      publicRoute(LIMITS.verify, {
        method: 'post',
        path: '/public/verify',
        summary: 'Check that a call is genuine with the phone number called and the code the agent stated',
        request: {
          body: jsonBody(z.object({ phone: PhoneFields.phone, region: PhoneFields.region, code: Code }).strict()),
        },
        responses: { 200: jsonResponse(VerifyResultSchema, 'genuine, with who is calling and why; or not genuine') },
      }),
      async (c) => {
        const { deps } = c.var;
        const body = c.req.valid('json');
        return c.json(await checkCode(deps, body, deps.now()), 200);
      },
    )
    .openapi(
      publicRoute(LIMITS.callStatus, {
        method: 'post',
        path: '/public/call-status',
        summary: 'Ask whether we are calling a number right now: the answer goes by SMS to that number',
        request: { body: jsonBody(z.object({ phone: PhoneFields.phone, region: PhoneFields.region }).strict()) },
        responses: { 202: jsonResponse(Accepted, 'Always the same answer') },
      }),
      async (c) => {
        const { deps } = c.var;
        const body = c.req.valid('json');
        const region = body.region ?? deps.config.DEFAULT_REGION;
        const parsed = parsePhone(body.phone, region);
        if (parsed.ok) await answerCallStatus(deps, parsed.phone.e164, deps.now());
        return c.json(CALL_STATUS_ACCEPTED, 202);
      },
    )
    .openapi(
      publicRoute(LIMITS.officialNumber, {
        method: 'post',
        path: '/public/official-number-check',
        summary: 'Is this one of the numbers the company calls from?',
        request: {
          body: jsonBody(z.object({ number: z.string().min(1).max(64), region: PhoneFields.region }).strict()),
        },
        responses: {
          200: jsonResponse(z.object({ official: z.boolean(), label: z.string().optional() }).openapi('OfficialNumberCheck'), 'The answer'),
        },
      }),
      async (c) => {
        const { deps } = c.var;
        const body = c.req.valid('json');
        const found = await findOfficialNumber(deps.db, body.number, body.region ?? deps.config.DEFAULT_REGION);
        return c.json(found ? { official: true, label: found.label } : { official: false }, 200);
      },
    )
    .openapi(
      publicRoute(LIMITS.reports, {
        method: 'post',
        path: '/public/reports',
        summary: 'Report a call believed to be a scam',
        request: {
          body: jsonBody(
            z
              .object({
                callerNumber: z.string().trim().min(1).max(64),
                ownNumber: PhoneFields.phone.optional(),
                region: PhoneFields.region,
                description: z.string().trim().min(1).max(2000),
              })
              .strict(),
          ),
        },
        responses: { 201: jsonResponse(z.object({ id: z.uuid() }), 'Recorded') },
      }),
      async (c) => {
        const { deps } = c.var;
        const body = c.req.valid('json');
        const region = body.region ?? deps.config.DEFAULT_REGION;
        return c.json(await createScamReport(deps.db, body, region, deps.now()), 201);
      },
    )
    .openapi(
      publicRoute(LIMITS.offerRead, {
        method: 'get',
        path: '/public/offers/{token}',
        summary: 'A callback offer (consent required) with the slots the customer may choose',
        request: { params: Token },
        responses: { 200: jsonResponse(OfferSchema, 'The open offer'), ...problemResponses(404) },
      }),
      async (c) => {
        const { deps } = c.var;
        const offer = await loadOffer(deps, c.req.valid('param').token, deps.now());
        if (!offer) throw new AppError('not_found', 'this offer does not exist, has expired or has been answered');
        return c.json(offer, 200);
      },
    )
    .openapi(
      publicRoute(LIMITS.offerAnswer, {
        method: 'post',
        path: '/public/offers/{token}',
        summary: 'Accept (optionally at a chosen slot) or decline a callback offer',
        request: {
          params: Token,
          body: jsonBody(z.object({ accept: z.boolean(), slot: Instant.optional() }).strict()),
        },
        responses: {
          200: jsonResponse(
            z.object({ status: z.enum(['scheduled', 'declined']), scheduledFor: z.string().nullable() }).openapi('OfferAnswer'),
            'Answered',
          ),
          ...problemResponses(404, 409),
        },
      }),
      async (c) => {
        const { deps } = c.var;
        const body = c.req.valid('json');
        return c.json(await answerOfferByToken(deps, c.req.valid('param').token, body, deps.now()), 200);
      },
    )
    .openapi(
      publicRoute(LIMITS.optOut, {
        method: 'post',
        path: '/public/opt-outs',
        summary: 'Ask to opt a number out: a confirmation code is texted to that number',
        request: {
          body: jsonBody(
            z
              .object({
                phone: PhoneFields.phone,
                region: PhoneFields.region,
                scope: z.enum(['all', 'voice', 'sms']).optional(),
                lang: Lang,
              })
              .strict(),
          ),
        },
        responses: { 202: jsonResponse(Accepted, 'Always the same answer') },
      }),
      async (c) => {
        const { deps } = c.var;
        const body = c.req.valid('json');
        await requestOptOut(deps, body, deps.now());
        return c.json(OPT_OUT_ACCEPTED, 202);
      },
    )
    .openapi(
      publicRoute(LIMITS.optOutConfirm, {
        method: 'post',
        path: '/public/opt-outs/confirm',
        summary: 'Confirm an opt-out with the texted code',
        request: {
          body: jsonBody(
            z.object({ phone: PhoneFields.phone, region: PhoneFields.region, code: Code, lang: Lang }).strict(),
          ),
        },
        responses: {
          200: jsonResponse(
            z.object({ optedOut: z.literal(true), scope: z.enum(['all', 'voice', 'sms']) }).openapi('OptOutConfirmed'),
            'Opted out',
          ),
        },
      }),
      async (c) => {
        const { deps } = c.var;
        const body = c.req.valid('json');
        const confirmed = await confirmOptOut(deps, body, deps.now());
        if (!confirmed) {
          throw new AppError('validation_failed', 'code: wrong or expired code', {
            errors: [{ path: 'code', message: 'wrong or expired code; ask for a new one' }],
          });
        }
        return c.json({ optedOut: true as const, scope: confirmed.scope }, 200);
      },
    );
}
