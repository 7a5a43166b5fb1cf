import { and, asc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import { outbox, webhookDeliveries, webhookEndpoints } from '../db/schema/index.js';
import type { AppDeps } from '../http/context.js';
import { subscribesTo, webhookJobOptions } from './webhooks.js';

export interface RelayOptions {
  /** Outbox rows locked and fanned out per transaction. */
  batchSize?: number;
  /** Rows handled per call, so one tick of the relay stays short. */
  maxRows?: number;
  /** First retry delay of a failed delivery; BullMQ doubles it on each attempt. */
  backoffMs?: number;
  /** A pending delivery older than this is re-enqueued, in case its job never reached Redis or Redis lost it. */
  staleAfterMs?: number;
}

const DEFAULTS = { batchSize: 100, maxRows: 1000, staleAfterMs: 60_000 };
/** Stale deliveries re-enqueued per call; re-adding a job that still exists is a no-op in Redis. */
const STALE_BATCH = 500;

/**
 * Fans one batch of undelivered outbox rows out to the active endpoints subscribed to each event
 * and marks the rows relayed, in one transaction. SKIP LOCKED lets relays run side by side without
 * waiting on each other, and the unique (endpoint, outbox) index makes a repeated fan-out harmless.
 */
async function relayBatch(deps: AppDeps, limit: number): Promise<{ rows: number; deliveryIds: number[] }> {
  return deps.db.transaction(async (tx) => {
    const rows = await tx
      .select({ id: outbox.id, event: outbox.event })
      .from(outbox)
      .where(isNull(outbox.deliveredAt))
      .orderBy(asc(outbox.id))
      .limit(limit)
      .for('update', { skipLocked: true });
    if (rows.length === 0) return { rows: 0, deliveryIds: [] };

    const endpoints = await tx
      .select({ id: webhookEndpoints.id, events: webhookEndpoints.events })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.active, true));
    const values = rows.flatMap((row) =>
      endpoints
        .filter((endpoint) => subscribesTo(endpoint.events, row.event))
        .map((endpoint) => ({ endpointId: endpoint.id, outboxId: row.id, event: row.event })),
    );
    const inserted =
      values.length === 0
        ? []
        : await tx.insert(webhookDeliveries).values(values).onConflictDoNothing().returning({ id: webhookDeliveries.id });
    await tx
      .update(outbox)
      .set({ deliveredAt: sql`now()` })
      .where(
        inArray(
          outbox.id,
          rows.map((r) => r.id),
        ),
      );
    return { rows: rows.length, deliveryIds: inserted.map((d) => d.id) };
  });
}

/**
 * Adds one job per delivery. A failure leaves the deliveries `pending` in PostgreSQL, where the
 * stale sweep finds them again, so it is logged rather than thrown away with the committed work.
 */
async function enqueueDeliveries(deps: AppDeps, deliveryIds: number[], backoffMs: number): Promise<void> {
  if (deliveryIds.length === 0) return;
  try {
    await deps.queues.webhooks.addBulk(
      deliveryIds.map((deliveryId) => ({ name: 'deliver', data: { deliveryId }, opts: webhookJobOptions(deliveryId, backoffMs) })),
    );
  } catch (err) {
    deps.logger.warn({ err, deliveries: deliveryIds.length }, 'could not enqueue webhook deliveries; they will be re-enqueued when stale');
  }
}

/** Pending deliveries of active endpoints older than `staleAfterMs`, oldest first. */
async function staleDeliveries(deps: AppDeps, staleAfterMs: number): Promise<number[]> {
  const rows = await deps.db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(
      and(
        eq(webhookDeliveries.status, 'pending'),
        eq(webhookEndpoints.active, true),
        lt(webhookDeliveries.createdAt, sql`now() - ${staleAfterMs}::int * interval '1 millisecond'`),
      ),
    )
    .orderBy(asc(webhookDeliveries.createdAt))
    .limit(STALE_BATCH);
  return rows.map((r) => r.id);
}

/**
 * Relays the outbox to webhook deliveries (SPEC §6) and returns the number of outbox rows relayed.
 * Jobs are added after COMMIT, so a job never points at a delivery that does not exist; deliveries
 * whose job was lost (Redis down at enqueue time, or its data lost later) are re-added with the
 * same job id once they are stale, which is a no-op for those whose job is still there.
 */
export async function relayOutbox(deps: AppDeps, options: RelayOptions = {}): Promise<number> {
  const batchSize = options.batchSize ?? DEFAULTS.batchSize;
  const maxRows = options.maxRows ?? DEFAULTS.maxRows;
  const backoffMs = options.backoffMs ?? deps.config.WEBHOOK_BACKOFF_MS;
  const staleAfterMs = options.staleAfterMs ?? DEFAULTS.staleAfterMs;
  let relayed = 0;
  while (relayed < maxRows) {
    const limit = Math.min(batchSize, maxRows - relayed);
    const batch = await relayBatch(deps, limit);
    relayed += batch.rows;
    await enqueueDeliveries(deps, batch.deliveryIds, backoffMs);
    if (batch.rows < limit) break;
  }
  await enqueueDeliveries(deps, await staleDeliveries(deps, staleAfterMs), backoffMs);
  return relayed;
}
