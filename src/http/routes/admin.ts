import { randomUUID } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import { desc, isNull } from 'drizzle-orm';
import { agents, apiKeys } from '../../db/schema/index.js';
import { createApiKey, revokeApiKey } from '../../services/api-keys.js';
import { AppError, problemResponses } from '../errors.js';
import { createRouter, jsonBody, jsonResponse, staffRoute } from '../router.js';

const Skill = z.string().regex(/^[a-z0-9_.-]{1,40}$/, 'lowercase letters, digits, _ . - (1–40)');

const AgentSchema = z
  .object({
    id: z.string(),
    displayName: z.string(),
    skills: z.array(z.string()),
    active: z.boolean(),
    createdAt: z.string(),
  })
  .openapi('Agent');

const CreateAgent = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
    displayName: z.string().trim().min(1).max(80),
    skills: z.array(Skill).max(50).default([]),
  })
  .strict();

const CreateKey = z
  .object({
    role: z.enum(['agent', 'ops', 'admin']),
    agentId: z.string().min(1).max(64).optional(),
    name: z.string().trim().min(1).max(80),
  })
  .strict();

const KeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(['agent', 'ops', 'admin']),
    agentId: z.string().nullable(),
    keyPrefix: z.string(),
    createdAt: z.string(),
  })
  .openapi('ApiKey');

const toAgent = (a: typeof agents.$inferSelect) => ({ ...a, createdAt: a.createdAt.toISOString() });

export function adminRouter() {
  return createRouter()
    .openapi(
      staffRoute(['admin'], {
        method: 'post',
        path: '/agents',
        tags: ['admin'],
        summary: 'Create an agent',
        request: { body: jsonBody(CreateAgent) },
        responses: { 201: jsonResponse(AgentSchema, 'The agent'), ...problemResponses(409) },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const [row] = await c.var.deps.db
          .insert(agents)
          .values({ id: body.id ?? randomUUID(), displayName: body.displayName, skills: [...new Set(body.skills)] })
          .onConflictDoNothing()
          .returning();
        if (!row) throw new AppError('conflict', `agent ${body.id} already exists`);
        return c.json(toAgent(row), 201);
      },
    )
    .openapi(
      staffRoute(['admin'], {
        method: 'get',
        path: '/agents',
        tags: ['admin'],
        summary: 'List agents',
        responses: { 200: jsonResponse(z.object({ items: z.array(AgentSchema) }), 'Agents') },
      }),
      async (c) => {
        const rows = await c.var.deps.db.select().from(agents).orderBy(agents.displayName);
        return c.json({ items: rows.map(toAgent) }, 200);
      },
    )
    .openapi(
      staffRoute(['admin'], {
        method: 'post',
        path: '/api-keys',
        tags: ['admin'],
        summary: 'Create an API key (the key is shown once)',
        request: { body: jsonBody(CreateKey) },
        responses: {
          201: jsonResponse(KeySchema.omit({ keyPrefix: true, createdAt: true }).extend({ key: z.string() }), 'The key'),
        },
      }),
      async (c) => {
        const created = await createApiKey(c.var.deps.db, c.req.valid('json'));
        return c.json(created, 201);
      },
    )
    .openapi(
      staffRoute(['admin'], {
        method: 'get',
        path: '/api-keys',
        tags: ['admin'],
        summary: 'List active API keys (never the keys themselves)',
        responses: { 200: jsonResponse(z.object({ items: z.array(KeySchema) }), 'Keys') },
      }),
      async (c) => {
        const rows = await c.var.deps.db
          .select({
            id: apiKeys.id,
            name: apiKeys.name,
            role: apiKeys.role,
            agentId: apiKeys.agentId,
            keyPrefix: apiKeys.keyPrefix,
            createdAt: apiKeys.createdAt,
          })
          .from(apiKeys)
          .where(isNull(apiKeys.revokedAt))
          .orderBy(desc(apiKeys.createdAt));
        return c.json({ items: rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() })) }, 200);
      },
    )
    .openapi(
      staffRoute(['admin'], {
        method: 'delete',
        path: '/api-keys/{id}',
        tags: ['admin'],
        summary: 'Revoke an API key',
        request: { params: z.object({ id: z.uuid() }) },
        responses: { 204: { description: 'Revoked' }, ...problemResponses(404) },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        if (!(await revokeApiKey(c.var.deps.db, id))) throw new AppError('not_found', `no active API key ${id}`);
        return c.body(null, 204);
      },
    );
}
