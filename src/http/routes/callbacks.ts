import { z } from '@hono/zod-openapi';
import { CALLBACK_STATUSES } from '../../domain/callback-state.js';
import { parsePhone } from '../../domain/phone.js';
import {
  cancelCallback,
  createCallback,
  getCallback,
  idempotencyFor,
  listCallbacks,
  rescheduleCallback,
} from '../../services/callbacks.js';
import { invalidField, problemResponses } from '../errors.js';
import { ALL_STAFF, createRouter, jsonBody, jsonResponse, staffRoute } from '../router.js';
import { CallbackSchema, Instant, PhoneFields, PreferredWindows } from '../schemas.js';

const CaseRef = z.string().min(1).max(64).regex(/^[\x21-\x7E]+$/, 'printable ASCII without spaces');

const CreateCallback = z
  .object({
    caseRef: CaseRef,
    category: z.string().regex(/^[a-z0-9_.-]{1,64}$/, 'lowercase letters, digits, _ . - (1–64)'),
    ...PhoneFields,
    round: z.number().int().min(2).max(20).optional(),
    customer: z
      .object({
        tier: z.string().min(1).max(40).optional(),
        language: z.enum(['zh-CN', 'en', 'ms']).optional(),
      })
      .strict()
      .optional(),
    reason: z.string().trim().min(1).max(140),
    firstExplanation: z
      .object({ summary: z.string().trim().min(1).max(4000), agentId: z.string().min(1).max(64).optional() })
      .strict(),
    preferredWindows: PreferredWindows.optional(),
    notBefore: Instant.optional(),
    deadline: Instant.optional(),
    priority: z.number().int().min(0).max(9).optional(),
  })
  .strict()
  .openapi('CreateCallback');


const CallbackDetail = CallbackSchema.extend({
  attempts: z.array(z.object({ id: z.string(), number: z.number().int(), startedAt: z.string() }).passthrough()),
  timeline: z.array(
    z.object({
      at: z.string(),
      actor: z.string(),
      from: z.string().nullable(),
      to: z.string(),
      details: z.record(z.string(), z.unknown()),
    }),
  ),
}).openapi('CallbackDetail');

const IdParam = z.object({ id: z.uuid() });
const IdempotencyHeader = z.object({
  'idempotency-key': z.string().min(1).max(200).regex(/^[\x21-\x7E]+$/, 'printable ASCII').optional(),
});

const ListQuery = z
  .object({
    status: z
      .string()
      .transform((s) => s.split(','))
      .pipe(z.array(z.enum(CALLBACK_STATUSES)))
      .optional(),
    caseRef: CaseRef.optional(),
    phone: z.string().min(1).max(64).optional(),
    dueBefore: Instant.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();

export function callbacksRouter() {
  return createRouter()
    .openapi(
      staffRoute(ALL_STAFF, {
        method: 'post',
        path: '/callbacks',
        tags: ['callbacks'],
        summary: 'Schedule a second-explanation callback',
        request: { headers: IdempotencyHeader, body: jsonBody(CreateCallback) },
        responses: { 201: jsonResponse(CallbackSchema, 'The callback'), ...problemResponses(409, 503) },
      }),
      async (c) => {
        const { deps, principal } = c.var;
        const body = c.req.valid('json');
        const idem = idempotencyFor(principal, c.req.valid('header')['idempotency-key'], body);
        const result = await createCallback(deps, principal, body, deps.now(), idem);
        return c.json(result.body as z.infer<typeof CallbackSchema>, 201);
      },
    )
    .openapi(
      staffRoute(ALL_STAFF, {
        method: 'get',
        path: '/callbacks',
        tags: ['callbacks'],
        summary: 'List callbacks, newest first',
        request: { query: ListQuery },
        responses: {
          200: jsonResponse(z.object({ items: z.array(CallbackSchema), nextCursor: z.string().nullable() }), 'A page'),
        },
      }),
      async (c) => {
        const { deps } = c.var;
        const query = c.req.valid('query');
        let e164: string | undefined;
        if (query.phone) {
          const parsed = parsePhone(query.phone, deps.config.DEFAULT_REGION);
          if (!parsed.ok) {
            throw invalidField('phone', 'not a valid phone number');
          }
          e164 = parsed.phone.e164;
        }
        return c.json(await listCallbacks(deps.db, query, e164), 200);
      },
    )
    .openapi(
      staffRoute(ALL_STAFF, {
        method: 'get',
        path: '/callbacks/{id}',
        tags: ['callbacks'],
        summary: 'A callback with its attempts and timeline',
        request: { params: IdParam },
        responses: { 200: jsonResponse(CallbackDetail, 'The callback'), ...problemResponses(404) },
      }),
      async (c) => c.json(await getCallback(c.var.deps.db, c.req.valid('param').id), 200),
    )
    .openapi(
      staffRoute(ALL_STAFF, {
        method: 'post',
        path: '/callbacks/{id}/cancel',
        tags: ['callbacks'],
        summary: 'Cancel a callback',
        request: { params: IdParam, body: jsonBody(z.object({ reason: z.string().trim().min(1).max(500) }).strict()) },
        responses: { 200: jsonResponse(CallbackSchema, 'The cancelled callback'), ...problemResponses(404, 409) },
      }),
      async (c) => {
        const { deps, principal } = c.var;
        const result = await cancelCallback(deps.db, principal, c.req.valid('param').id, c.req.valid('json').reason, deps.now());
        return c.json(result, 200);
      },
    )
    .openapi(
      staffRoute(ALL_STAFF, {
        method: 'post',
        path: '/callbacks/{id}/reschedule',
        tags: ['callbacks'],
        summary: 'Move a callback to a new earliest time or new windows',
        request: {
          params: IdParam,
          body: jsonBody(
            z
              .object({ notBefore: Instant.optional(), preferredWindows: PreferredWindows.optional() })
              .strict()
              .refine((b) => b.notBefore || b.preferredWindows, 'give notBefore or preferredWindows'),
          ),
        },
        responses: { 200: jsonResponse(CallbackSchema, 'The rescheduled callback'), ...problemResponses(404, 409, 503) },
      }),
      async (c) => {
        const { deps, principal } = c.var;
        const result = await rescheduleCallback(deps, principal, c.req.valid('param').id, c.req.valid('json'), deps.now());
        return c.json(result, 200);
      },
    );
}
