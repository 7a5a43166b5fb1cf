import { z } from '@hono/zod-openapi';
import { and, desc, eq, lt } from 'drizzle-orm';
import { webhookDeliveries, webhookEndpoints } from '../../db/schema/index.js';
import { forbiddenWebhookUrl } from '../../notify/webhook-address.js';
import { DELIVERY_STATUSES, WEBHOOK_EVENTS, newWebhookSecret, webhookMessageId } from '../../notify/webhooks.js';
import { AppError, invalidField, problemResponses } from '../errors.js';
import { createRouter, jsonBody, jsonResponse, staffRoute } from '../router.js';

/** http(s) only, no credentials in the URL (they would show up in listings and logs). */
const EndpointUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
  .max(2000)
  .refine((v) => {
    // Refinements run even after the URL check failed, so this must not assume a valid URL.
    const url = URL.canParse(v) ? new URL(v) : null;
    return url === null || (url.username === '' && url.password === '');
  }, 'must not contain credentials')
  .transform((v) => new URL(v).href)
  .openapi({ type: 'string', format: 'uri', example: 'https://crm.example.com/hooks/secondcall' });

const CreateEndpoint = z
  .object({
    url: EndpointUrl,
    events: z
      .array(z.enum(WEBHOOK_EVENTS))
      .min(1)
      .max(WEBHOOK_EVENTS.length * 2)
      .optional()
      .openapi({ description: 'Events to deliver; omitted: every event' }),
    description: z.string().trim().max(200).optional(),
  })
  .strict();

const EndpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()).nullable(),
    description: z.string().nullable(),
    active: z.boolean(),
    createdAt: z.string(),
  })
  .openapi('WebhookEndpoint');

const DeliverySchema = z
  .object({
    id: z.number().int(),
    endpointId: z.string(),
    outboxId: z.number().int(),
    webhookId: z.string().openapi({ description: 'The webhook-id header sent (the same on every retry)' }),
    event: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    lastStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
  })
  .openapi('WebhookDelivery');

const DeliveriesQuery = z.object({
  status: z.enum(DELIVERY_STATUSES).optional(),
  endpointId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, 'cursor is not one this API returned')
    .optional(),
});

const toEndpoint = (row: typeof webhookEndpoints.$inferSelect) => ({
  id: row.id,
  url: row.url,
  events: row.events,
  description: row.description,
  active: row.active,
  createdAt: row.createdAt.toISOString(),
});

const toDelivery = (row: typeof webhookDeliveries.$inferSelect) => ({
  id: row.id,
  endpointId: row.endpointId,
  outboxId: row.outboxId,
  webhookId: webhookMessageId(row.outboxId),
  event: row.event,
  status: row.status as (typeof DELIVERY_STATUSES)[number],
  attempts: row.attempts,
  lastStatus: row.lastStatus,
  lastError: row.lastError,
  createdAt: row.createdAt.toISOString(),
  deliveredAt: row.deliveredAt?.toISOString() ?? null,
});

/** Admin management of outgoing webhooks (SPEC §6). `/webhooks/sms/*` is the SMS provider's, not these. */
export function webhooksRouter() {
  return createRouter()
    .openapi(
      staffRoute(['admin'], {
        method: 'post',
        path: '/webhooks/endpoints',
        tags: ['webhooks'],
        summary: 'Register a webhook endpoint (the signing secret is shown once)',
        description:
          'Unless WEBHOOK_ALLOW_PRIVATE_URLS is set, a URL whose host is, or resolves to, a loopback, private, ' +
          'link-local or other non-public address is refused with 422 `validation_failed` (path `url`).',
        request: { body: jsonBody(CreateEndpoint) },
        responses: { 201: jsonResponse(EndpointSchema.extend({ secret: z.string() }), 'The endpoint and its secret') },
      }),
      async (c) => {
        const body = c.req.valid('json');
        if (!c.var.deps.config.WEBHOOK_ALLOW_PRIVATE_URLS) {
          const reason = await forbiddenWebhookUrl(body.url);
          if (reason) throw invalidField('url', `webhooks go to public addresses only: ${reason}`);
        }
        const [row] = await c.var.deps.db
          .insert(webhookEndpoints)
          .values({
            url: body.url,
            secret: newWebhookSecret(),
            events: body.events ? [...new Set(body.events)] : null,
            description: body.description ?? null,
          })
          .returning();
        return c.json({ ...toEndpoint(row!), secret: row!.secret }, 201);
      },
    )
    .openapi(
      staffRoute(['admin'], {
        method: 'get',
        path: '/webhooks/endpoints',
        tags: ['webhooks'],
        summary: 'List webhook endpoints, newest first (never their secrets)',
        responses: { 200: jsonResponse(z.object({ items: z.array(EndpointSchema) }), 'Endpoints') },
      }),
      async (c) => {
        const rows = await c.var.deps.db.select().from(webhookEndpoints).orderBy(desc(webhookEndpoints.createdAt));
        return c.json({ items: rows.map(toEndpoint) }, 200);
      },
    )
    .openapi(
      staffRoute(['admin'], {
        method: 'delete',
        path: '/webhooks/endpoints/{id}',
        tags: ['webhooks'],
        summary: 'Deactivate a webhook endpoint; its pending deliveries are cancelled',
        request: { params: z.object({ id: z.uuid() }) },
        responses: { 204: { description: 'Deactivated' }, ...problemResponses(404) },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const found = await c.var.deps.db.transaction(async (tx) => {
          const [row] = await tx
            .update(webhookEndpoints)
            .set({ active: false })
            .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.active, true)))
            .returning({ id: webhookEndpoints.id });
          if (!row) return false;
          await tx
            .update(webhookDeliveries)
            .set({ status: 'cancelled', lastError: 'endpoint deactivated' })
            .where(and(eq(webhookDeliveries.endpointId, id), eq(webhookDeliveries.status, 'pending')));
          return true;
        });
        if (!found) throw new AppError('not_found', `no active webhook endpoint ${id}`);
        return c.body(null, 204);
      },
    )
    .openapi(
      staffRoute(['admin'], {
        method: 'get',
        path: '/webhooks/deliveries',
        tags: ['webhooks'],
        summary: 'Recent webhook deliveries, newest first',
        request: { query: DeliveriesQuery },
        responses: {
          200: jsonResponse(z.object({ items: z.array(DeliverySchema), nextCursor: z.string().nullable() }), 'Deliveries'),
        },
      }),
      async (c) => {
        const query = c.req.valid('query');
        const rows = await c.var.deps.db
          .select()
          .from(webhookDeliveries)
          .where(
            and(
              query.status ? eq(webhookDeliveries.status, query.status) : undefined,
              query.endpointId ? eq(webhookDeliveries.endpointId, query.endpointId) : undefined,
              query.cursor ? lt(webhookDeliveries.id, Number(query.cursor)) : undefined,
            ),
          )
          .orderBy(desc(webhookDeliveries.id))
          .limit(query.limit + 1);
        const page = rows.slice(0, query.limit);
        return c.json(
          {
            items: page.map(toDelivery),
            nextCursor: rows.length > query.limit ? String(page[page.length - 1]!.id) : null,
          },
          200,
        );
      },
    );
}
