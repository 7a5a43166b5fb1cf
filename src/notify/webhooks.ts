import { randomBytes } from 'node:crypto';
import { UnrecoverableError, type JobsOptions } from 'bullmq';
import { and, eq, sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import type { Database } from '../db/client.js';
import { outbox, webhookDeliveries, webhookEndpoints } from '../db/schema/index.js';
import type { AppDeps } from '../http/context.js';
import type { WebhookJob } from '../queues/queues.js';
import { countWebhookDelivery } from '../ops/metrics.js';
import { ALERT_EVENTS } from '../ops/alerts.js';

/** The events a webhook endpoint may subscribe to (SPEC §6). */
export const WEBHOOK_EVENTS = [
  'callback.scheduled',
  'callback.ready',
  'callback.completed',
  'callback.suppressed',
  'callback.unreachable',
  'callback.sla_at_risk',
  'callback.sla_breached',
  'verification.verified',
  'verification.locked',
  'opt_out.created',
  'scam_report.created',
  ...ALERT_EVENTS,
] as const;

export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** `cancelled`: the endpoint was deactivated before the delivery succeeded. */
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const WEBHOOK_ATTEMPTS = 12;
export const WEBHOOK_TIMEOUT_MS = 10_000;
const USER_AGENT = 'secondcall-webhooks';
const MAX_ERROR_LENGTH = 500;

/** BullMQ job ids must not contain ':'. One job per delivery, so re-adding it is a no-op. */
export const webhookJobId = (deliveryId: number) => `wh-${deliveryId}`;

/** Derived from the outbox row, so every retry (and every endpoint) sees the same id and can dedupe. */
export const webhookMessageId = (outboxId: number) => `msg_${outboxId}`;

/** An endpoint without an event list takes every event. */
export const subscribesTo = (events: readonly string[] | null, event: string) => events === null || events.includes(event);

/** Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

export function webhookJobOptions(deliveryId: number, backoffMs: number): JobsOptions {
  return {
    jobId: webhookJobId(deliveryId),
    attempts: WEBHOOK_ATTEMPTS,
    backoff: { type: 'exponential', delay: backoffMs },
  };
}

/** Thrown so BullMQ retries the delivery with backoff. */
export class WebhookDeliveryError extends Error {
  override readonly name = 'WebhookDeliveryError';
}

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

/** The request body and Standard Webhooks headers for one outbox event. */
export function signWebhook(
  secret: string,
  message: { outboxId: number; event: string; createdAt: Date; payload: Record<string, unknown> },
  sentAt: Date,
): SignedRequest {
  const id = webhookMessageId(message.outboxId);
  const body = JSON.stringify({ type: message.event, timestamp: message.createdAt.toISOString(), data: message.payload });
  return {
    body,
    headers: {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, sentAt, body),
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
    },
  };
}

async function loadDelivery(db: Database, deliveryId: number) {
  const [row] = await db
    .select({
      status: webhookDeliveries.status,
      attempts: webhookDeliveries.attempts,
      endpointId: webhookEndpoints.id,
      url: webhookEndpoints.url,
      secret: webhookEndpoints.secret,
      active: webhookEndpoints.active,
      outboxId: outbox.id,
      event: outbox.event,
      payload: outbox.payload,
      createdAt: outbox.createdAt,
    })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .innerJoin(outbox, eq(outbox.id, webhookDeliveries.outboxId))
    .where(eq(webhookDeliveries.id, deliveryId));
  return row;
}

type PostResult = { ok: true; status: number } | { ok: false; status: number | null; error: string };

function describeFailure(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `timeout after ${WEBHOOK_TIMEOUT_MS} ms`;
  if (err instanceof Error) {
    const code = (err.cause as { code?: unknown } | undefined)?.code;
    return typeof code === 'string' ? `${err.message}: ${code}` : err.message;
  }
  return String(err);
}

/** One POST; a redirect is a failure, since following it would send signed events somewhere else. */
async function post(url: string, request: SignedRequest): Promise<PostResult> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    // The receiver's answer is not used; dropping it frees the connection.
    await res.body?.cancel().catch(() => {});
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    return { ok: false, status: res.status, error: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}` };
  } catch (err) {
    return { ok: false, status: null, error: describeFailure(err).slice(0, MAX_ERROR_LENGTH) };
  }
}

/** Updates a delivery only while it is still pending: a finished delivery never changes again. */
async function recordOutcome(
  db: Database,
  deliveryId: number,
  set: { status: DeliveryStatus; lastStatus?: number | null; lastError?: string | null; countAttempt?: boolean },
): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({
      status: set.status,
      ...(set.countAttempt ? { attempts: sql`${webhookDeliveries.attempts} + 1` } : {}),
      ...(set.lastStatus !== undefined ? { lastStatus: set.lastStatus } : {}),
      ...(set.lastError !== undefined ? { lastError: set.lastError } : {}),
      ...(set.status === 'delivered' ? { deliveredAt: sql`now()` } : {}),
    })
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.status, 'pending')));
}

/**
 * Processes one webhook job: POSTs the signed event to its endpoint. A failure is recorded and
 * thrown so BullMQ retries with backoff; the last attempt marks the delivery `failed`.
 */
export async function deliverWebhook(deps: AppDeps, job: WebhookJob, attemptsMade: number): Promise<void> {
  const { deliveryId } = job;
  const log = deps.logger.child({ deliveryId });
  const target = await loadDelivery(deps.db, deliveryId);
  if (!target) {
    log.warn('webhook delivery not found');
    return;
  }
  if (target.status !== 'pending') return;
  if (!target.active) {
    await recordOutcome(deps.db, deliveryId, { status: 'cancelled', lastError: 'endpoint deactivated' });
    return;
  }

  // The receiver checks webhook-timestamp against its own clock, so it is the real sending time
  // rather than the service's (possibly fixed) business clock.
  const request = signWebhook(target.secret, target, new Date());
  const result = await post(target.url, request);
  if (result.ok) {
    await recordOutcome(deps.db, deliveryId, { status: 'delivered', lastStatus: result.status, lastError: null, countAttempt: true });
    countWebhookDelivery(deps, 'delivered');
    log.info({ endpointId: target.endpointId, event: target.event, status: result.status }, 'webhook delivered');
    return;
  }

  // A job re-added after Redis lost it starts again at attemptsMade 0; the row remembers the tries.
  const attempt = Math.max(attemptsMade, target.attempts) + 1;
  const exhausted = attempt >= WEBHOOK_ATTEMPTS;
  await recordOutcome(deps.db, deliveryId, {
    status: exhausted ? 'failed' : 'pending',
    lastStatus: result.status,
    lastError: result.error,
    countAttempt: true,
  });
  countWebhookDelivery(deps, exhausted ? 'failed' : 'retrying');
  log.warn({ endpointId: target.endpointId, event: target.event, attempt, status: result.status, error: result.error }, 'webhook attempt failed');
  const message = `webhook delivery ${deliveryId} attempt ${attempt} failed: ${result.error}`;
  if (exhausted) throw new UnrecoverableError(message);
  throw new WebhookDeliveryError(message);
}
