import { z } from '@hono/zod-openapi';
import { AppError, problemResponses } from '../errors.js';
import { ALL_STAFF, createRouter, jsonBody, jsonResponse, staffRoute } from '../router.js';
import { listPolicies, loadPolicy, savePolicy } from '../../services/policies.js';
import { DEFAULT_CATEGORY, MAX_DEADLINE_HOURS } from '../../domain/policy.js';

const Category = z.string().regex(/^[a-z0-9_.-]{1,64}$/, 'lowercase letters, digits, _ . - (1–64)');

const PolicySchema = z
  .object({
    category: z.string(),
    enabled: z.boolean(),
    maxRounds: z.number().int(),
    requiredSkill: z.string(),
    customerTiers: z.array(z.string()).nullable(),
    consent: z.enum(['none', 'required']),
    deadlineHours: z.number().int(),
    maxAttempts: z.number().int(),
    retryDelaysMinutes: z.array(z.number().int()),
  })
  .openapi('Policy');

const PutPolicy = z
  .object({
    enabled: z.boolean().optional(),
    maxRounds: z.number().int().min(2).max(10).optional(),
    requiredSkill: z.string().regex(/^[a-z0-9_.-]{1,40}$/).optional(),
    customerTiers: z.array(z.string().min(1).max(40)).min(1).max(50).nullable().optional(),
    consent: z.enum(['none', 'required']).optional(),
    deadlineHours: z.number().int().min(1).max(MAX_DEADLINE_HOURS).optional(),
    maxAttempts: z.number().int().min(1).max(20).optional(),
    retryDelaysMinutes: z.array(z.number().int().min(1).max(7 * 24 * 60)).min(1).max(20).optional(),
  })
  .strict()
  .openapi('PolicyUpdate');

const params = z.object({ category: Category });

export function policiesRouter() {
  return createRouter()
    .openapi(
      staffRoute(ALL_STAFF, {
        method: 'get',
        path: '/policies',
        tags: ['policies'],
        summary: 'List policies (effective values)',
        responses: { 200: jsonResponse(z.object({ items: z.array(PolicySchema) }), 'Policies') },
      }),
      async (c) => c.json({ items: await listPolicies(c.var.deps.db) }, 200),
    )
    .openapi(
      staffRoute(ALL_STAFF, {
        method: 'get',
        path: '/policies/{category}',
        tags: ['policies'],
        summary: "A category's effective policy",
        request: { params },
        responses: { 200: jsonResponse(PolicySchema, 'Policy'), ...problemResponses(404) },
      }),
      async (c) => {
        const { category } = c.req.valid('param');
        const { configured, ...policy } = await loadPolicy(c.var.deps.db, category);
        if (!configured) throw new AppError('not_found', `no policy for category ${category}`);
        return c.json(policy, 200);
      },
    )
    .openapi(
      staffRoute(['admin'], {
        method: 'put',
        path: '/policies/{category}',
        tags: ['policies'],
        summary: "Set a category's policy (omitted fields follow the default policy)",
        request: { params, body: jsonBody(PutPolicy) },
        responses: { 200: jsonResponse(PolicySchema, 'Policy') },
      }),
      async (c) => {
        const { category } = c.req.valid('param');
        const body = c.req.valid('json');
        if (category === DEFAULT_CATEGORY && body.enabled) {
          throw new AppError('validation_failed', 'the default policy supplies fields; it cannot enable categories', {
            errors: [{ path: 'enabled', message: 'must be false or omitted for the default policy' }],
          });
        }
        const { configured: _, ...policy } = await savePolicy(c.var.deps.db, category, body);
        return c.json(policy, 200);
      },
    );
}
