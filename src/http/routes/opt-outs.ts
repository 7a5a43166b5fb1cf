import { z } from '@hono/zod-openapi';
import { parsePhone } from '../../domain/phone.js';
import { actorOf } from '../../services/callbacks.js';
import { findOptOut, liftOptOut, registerOptOut } from '../../services/opt-outs.js';
import { AppError, invalidField, problemResponses } from '../errors.js';
import { ALL_STAFF, createRouter, jsonBody, jsonResponse, staffRoute } from '../router.js';
import { PhoneFields } from '../schemas.js';

const OptOutSchema = z
  .object({
    phone: z.string(),
    scope: z.enum(['all', 'voice', 'sms']),
    source: z.string(),
    createdBy: z.string(),
    createdAt: z.string(),
  })
  .openapi('OptOut');

const PhoneParam = z.object({ phone: z.string().min(1).max(64).openapi({ example: '+12125550123' }) });

function e164Of(phone: string, region: string): string {
  const parsed = parsePhone(phone, region);
  if (!parsed.ok) {
    throw invalidField('phone', 'not a valid phone number');
  }
  return parsed.phone.e164;
}

export function optOutsRouter() {
  return createRouter()
    .openapi(
      staffRoute(ALL_STAFF, {
        method: 'post',
        path: '/opt-outs',
        tags: ['opt-outs'],
        summary: "Register a customer's opt-out; active callbacks of the number are suppressed at once",
        request: {
          body: jsonBody(
            z
              .object({ phone: PhoneFields.phone, region: PhoneFields.region, scope: z.enum(['all', 'voice', 'sms']).default('all') })
              .strict(),
          ),
        },
        responses: {
          201: jsonResponse(z.object({ optOut: OptOutSchema, suppressedCallbacks: z.array(z.string()) }), 'Registered'),
        },
      }),
      async (c) => {
        const { deps, principal } = c.var;
        const body = c.req.valid('json');
        const e164 = e164Of(body.phone, body.region ?? deps.config.DEFAULT_REGION);
        const result = await registerOptOut(deps.db, { e164, scope: body.scope, source: 'staff', actor: actorOf(principal), now: deps.now() });
        return c.json(result, 201);
      },
    )
    .openapi(
      staffRoute(ALL_STAFF, {
        method: 'get',
        path: '/opt-outs/{phone}',
        tags: ['opt-outs'],
        summary: "A number's opt-out",
        request: { params: PhoneParam },
        responses: { 200: jsonResponse(OptOutSchema, 'The opt-out'), ...problemResponses(404) },
      }),
      async (c) => {
        const { deps } = c.var;
        const e164 = e164Of(c.req.valid('param').phone, deps.config.DEFAULT_REGION);
        const found = await findOptOut(deps.db, e164);
        if (!found) throw new AppError('not_found', 'this number has not opted out');
        return c.json(found, 200);
      },
    )
    .openapi(
      staffRoute(['ops', 'admin'], {
        method: 'delete',
        path: '/opt-outs/{phone}',
        tags: ['opt-outs'],
        summary: 'Lift an opt-out (suppressed callbacks stay suppressed)',
        request: { params: PhoneParam },
        responses: { 204: { description: 'Lifted' }, ...problemResponses(404) },
      }),
      async (c) => {
        const { deps } = c.var;
        const e164 = e164Of(c.req.valid('param').phone, deps.config.DEFAULT_REGION);
        if (!(await liftOptOut(deps.db, e164))) throw new AppError('not_found', 'this number has not opted out');
        return c.body(null, 204);
      },
    );
}
