import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { UnrecoverableError, type JobsOptions } from 'bullmq';
import { and, eq, sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import type { Database } from '../db/client.js';
import { outbox, webhookDeliveries, webhookEndpoints } from '../db/schema/index.js';
import type { AppDeps } from '../http/context.js';
import type { WebhookJob } from '../queues/queues.js';
import { countWebhookDelivery } from '../ops/metrics.js';
import { ALERT_EVENTS } from '../ops/alerts.js';
import { BlockedAddressError, assertLiteralAllowed, guardedLookup } from './webhook-address.js';

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

/**
 * Without keep-alive, every delivery opens a fresh connection and so resolves and checks the
 * endpoint's address again. The guarded agents connect only where `guardedLookup` allows.
 */
const AGENTS = {
  guarded: { http: new http.Agent({ lookup: guardedLookup }), https: new https.Agent({ lookup: guardedLookup }) },
  open: { http: new http.Agent(), https: new https.Agent() },
};

function describeFailure(err: unknown): string {
  if (err instanceof BlockedAddressError) return `blocked: ${err.message}; WEBHOOK_ALLOW_PRIVATE_URLS is off`;
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError' || (err.cause instanceof Error && err.cause.name === 'TimeoutError')) {
    return `timeout after ${WEBHOOK_TIMEOUT_MS} ms`;
  }
  // A name with several addresses that all refuse fails with an AggregateError without a message.
  const message = err.message || (err instanceof AggregateError ? err.errors.map(String).join('; ') : err.name);
  const code = (err as NodeJS.ErrnoException).code;
  return code && !message.includes(code) ? `${message}: ${code}` : message;
}

/** One POST of the signed request; the receiver's answer (status aside) is not read. */
async function send(url: URL, request: SignedRequest, allowPrivate: boolean): Promise<{ status: number; statusText: string }> {
  // A literal address is connected to without a lookup, so it is checked here instead.
  if (!allowPrivate) assertLiteralAllowed(url);
  const secure = url.protocol === 'https:';
  const agents = allowPrivate ? AGENTS.open : AGENTS.guarded;
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(
      url,
      {
        method: 'POST',
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        agent: secure ? agents.https : agents.http,
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      },
      (res) => {
        res.destroy();
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '' });
      },
    );
    req.on('error', reject);
    req.end(request.body);
  });
}

/** One POST; a redirect is a failure, since following it would send signed events somewhere else. */
async function post(url: string, request: SignedRequest, allowPrivate: boolean): Promise<PostResult> {
  try {
    const { status, statusText } = await send(new URL(url), request, allowPrivate);
    if (status >= 200 && status < 300) return { ok: true, status };
    return { ok: false, status, error: `HTTP ${status}${statusText ? ` ${statusText}` : ''}` };
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
  const result = await post(target.url, request, deps.config.WEBHOOK_ALLOW_PRIVATE_URLS);
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
