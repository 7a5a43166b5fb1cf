import { z } from '@hono/zod-openapi';
import { decideExemption, listExemptions, requestExemption } from '../../services/exemptions.js';
import { problemResponses } from '../errors.js';
import { createRouter, jsonBody, jsonResponse, staffRoute } from '../router.js';

const ExemptionSchema = z
  .object({
    id: z.uuid(),
    callbackId: z.uuid(),
    caseRef: z.string(),
    status: z.enum(['pending', 'approved', 'rejected']),
    reason: z.string(),
    requestedBy: z.string(),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
    note: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('Exemption');

const IdParam = z.object({ id: z.uuid() });

const ListQuery = z
  .object({
    status: z.enum(['pending', 'approved', 'rejected']).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();

export function exemptionsRouter() {
  return createRouter()
    .openapi(
      staffRoute(['agent'], {
        method: 'post',
        path: '/callbacks/{id}/exemption',
        tags: ['exemptions'],
        summary: 'Ask ops to exempt an unreasonable or abusive customer (SPEC §5.1)',
        request: { params: IdParam, body: jsonBody(z.object({ reason: z.string().trim().min(1).max(500) }).strict()) },
        responses: {
          201: jsonResponse(ExemptionSchema, 'The pending request'),
          ...problemResponses(404, 409),
        },
      }),
      async (c) => {
        const { deps, principal } = c.var;
        const row = await requestExemption(deps.db, principal, c.req.valid('param').id, c.req.valid('json').reason, deps.now());
        return c.json(row, 201);
      },
    )
    .openapi(
      staffRoute(['ops', 'admin'], {
        method: 'post',
        path: '/exemptions/{id}/decision',
        tags: ['exemptions'],
        summary: 'Approve (callback exempted, no further rounds) or reject (callback resumes)',
        request: {
          params: IdParam,
          body: jsonBody(z.object({ approve: z.boolean(), note: z.string().trim().min(1).max(500).optional() }).strict()),
        },
        responses: {
          200: jsonResponse(
            z.object({ exemption: ExemptionSchema, callback: z.object({ id: z.uuid(), status: z.string() }).passthrough() }),
            'The decision and the callback after it',
          ),
          ...problemResponses(404, 409, 503),
        },
      }),
      async (c) => {
        const { deps, principal } = c.var;
        return c.json(await decideExemption(deps, principal, c.req.valid('param').id, c.req.valid('json'), deps.now()), 200);
      },
    )
    .openapi(
      staffRoute(['ops', 'admin'], {
        method: 'get',
        path: '/exemptions',
        tags: ['exemptions'],
        summary: 'Exemption requests, newest first',
        request: { query: ListQuery },
        responses: {
          200: jsonResponse(z.object({ items: z.array(ExemptionSchema), nextCursor: z.string().nullable() }), 'A page'),
        },
      }),
      async (c) => c.json(await listExemptions(c.var.deps.db, c.req.valid('query')), 200),
    );
}
