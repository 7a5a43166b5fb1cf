/**
 * Periodic upkeep (SPEC §5, §6), run by the maintenance queue every few seconds. Every step is
 * safe to run twice or concurrently: status changes go through `transition()` conditional on the
 * version read, and SLA marks are conditional updates, so each event is written once.
 */
import { and, asc, eq, inArray, isNull, lt, lte } from 'drizzle-orm';
import { afterDue } from '../db/keyset.js';
import type { Database } from '../db/client.js';
import { callbacks, outbox } from '../db/schema/index.js';
import type { CallbackStatus } from '../domain/callback-state.js';
import { isPermitted } from '../domain/calling-rules.js';
import type { AppDeps } from '../http/context.js';
import type { Queues } from '../queues/queues.js';
import { reconcileWakeups } from '../queues/reconciler.js';
import { requeueStaleSms } from '../notify/sms.js';
import { checkAlerts } from '../ops/alerts.js';
import { expireOffers } from './consent.js';
import { abandonStaleCalls } from './agent-workflow.js';
import { backToScheduled, callingRulesFromFacts, nextPermittedOrRecheck, recentAttemptTimes } from './callback-rules.js';
import { loadSetting } from './settings.js';
import { callbackEventPayload, transition, type CallbackRow } from './transitions.js';

const ACTOR = 'system:maintenance';
const DEFAULT_BATCH_SIZE = 500;
/** A run drains at most this many batches per step; the next tick continues. */
const MAX_BATCHES_PER_RUN = 10;
const SLA_AT_RISK_MS = 2 * 3600_000;
/**
 * The deadline is the promise to the customer. An `awaiting_consent` callback has made none yet:
 * its deadline is when the unanswered offer expires, which is not an SLA breach.
 */
const SLA_STATUSES: CallbackStatus[] = ['scheduled', 'ready', 'claimed', 'in_call'];

interface StepDeps {
  db: Database;
  queues: Queues;
}

/** Runs a batch step until a batch comes back short, or MAX_BATCHES_PER_RUN batches. */
async function drain(batch: () => Promise<{ selected: number; changed: number }>, batchSize: number): Promise<number> {
  let changed = 0;
  for (let i = 0; i < MAX_BATCHES_PER_RUN; i++) {
    const result = await batch();
    changed += result.changed;
    if (result.selected < batchSize) break;
  }
  return changed;
}

/** Claimed callbacks whose lease ran out go back to `ready` for any agent to claim. */
export function expireLeases(deps: StepDeps, now: Date, batchSize = DEFAULT_BATCH_SIZE): Promise<number> {
  return drain(async () => {
    const rows = await deps.db
      .select({ id: callbacks.id, version: callbacks.version, claimedBy: callbacks.claimedBy })
      .from(callbacks)
      .where(and(eq(callbacks.status, 'claimed'), lte(callbacks.leaseExpiresAt, now)))
      .orderBy(asc(callbacks.leaseExpiresAt))
      .limit(batchSize);
    let changed = 0;
    for (const r of rows) {
      const moved = await deps.db.transaction((tx) =>
        transition(tx, r.id, 'ready', {
          from: ['claimed'],
          version: r.version,
          actor: ACTOR,
          details: { reason: 'lease_expired', claimedBy: r.claimedBy },
          set: { claimedBy: null, leaseExpiresAt: null },
          now,
        }),
      );
      if (moved) changed++;
    }
    return { selected: rows.length, changed };
  }, batchSize);
}

/**
 * Ready callbacks nobody claimed while calling was permitted go back to `scheduled` at the next
 * permitted time. Every ready row is checked, a page at a time, in (scheduled_for, id) order.
 */
export async function closeReadyWindows(deps: StepDeps, now: Date, batchSize = DEFAULT_BATCH_SIZE): Promise<number> {
  let after: { scheduledFor: Date; id: string } | null = null;
  let changed = 0;
  const settings = await loadSetting(deps.db, 'calling');
  for (;;) {
    const page: { row: CallbackRow; attemptTimes: string[] | null }[] = await deps.db
      .select({ row: callbacks, attemptTimes: recentAttemptTimes(now) })
      .from(callbacks)
      .where(
        and(
          eq(callbacks.status, 'ready'),
          // A row that became ready after this tick's `now` waits for the next tick: judged at an
          // earlier instant, a window that had just opened would look closed (and under load every
          // fresh dispatch would be undone, each undo adding to the load).
          lte(callbacks.updatedAt, now),
          afterDue(callbacks, after),
        ),
      )
      .orderBy(asc(callbacks.scheduledFor), asc(callbacks.id))
      .limit(batchSize);
    const rows = page.map((p) => p.row);
    for (const { row, attemptTimes } of page) {
      // The rules are evaluated in memory: one query per page, and a write only for closed windows.
      const rules = callingRulesFromFacts(settings, row, attemptTimes);
      if (isPermitted(rules, now.getTime())) continue;
      const next = nextPermittedOrRecheck(rules, now.getTime());
      const moved = await deps.db.transaction((tx) =>
        backToScheduled(tx, deps.queues, row, next.at, {
          from: ['ready'],
          actor: ACTOR,
          details: { reason: next.found ? 'window_closed' : 'no_permitted_time_found' },
          now,
        }),
      );
      if (moved) changed++;
    }
    const last = rows[rows.length - 1];
    // Ready rows always keep the time they were scheduled for; a null one would end the paging early.
    if (rows.length < batchSize || !last?.scheduledFor) break;
    after = { scheduledFor: last.scheduledFor, id: last.id };
  }
  return changed;
}

type SlaMark = 'atRisk' | 'breached';

/**
 * Marks up to batchSize callbacks and writes their outbox events in one transaction. The inner
 * SELECT skips rows another run has locked and the UPDATE re-checks the mark is still unset, so
 * concurrent runs never emit twice. The version is not bumped: this is no status change, and the
 * pending wake-up job must stay valid.
 */
async function markSla(db: Database, mark: SlaMark, now: Date, batchSize: number) {
  const column = mark === 'atRisk' ? callbacks.slaAtRiskAt : callbacks.slaBreachedAt;
  const limit = mark === 'atRisk' ? new Date(now.getTime() + SLA_AT_RISK_MS) : now;
  const event = mark === 'atRisk' ? 'callback.sla_at_risk' : 'callback.sla_breached';
  return db.transaction(async (tx) => {
    const due = tx
      .select({ id: callbacks.id })
      .from(callbacks)
      .where(
        and(
          inArray(callbacks.status, SLA_STATUSES),
          mark === 'atRisk' ? lt(callbacks.deadline, limit) : lte(callbacks.deadline, limit),
          isNull(column),
        ),
      )
      .orderBy(asc(callbacks.deadline))
      .limit(batchSize)
      .for('update', { skipLocked: true });
    const marked = await tx
      .update(callbacks)
      .set(mark === 'atRisk' ? { slaAtRiskAt: now } : { slaBreachedAt: now })
      .where(and(inArray(callbacks.id, due), isNull(column)))
      .returning();
    if (marked.length > 0) {
      await tx.insert(outbox).values(
        marked.map((row) => ({
          event,
          payload: { ...callbackEventPayload(row), msToDeadline: row.deadline.getTime() - now.getTime() },
        })),
      );
    }
    return { selected: marked.length, changed: marked.length };
  });
}

/** SPEC §5: `callback.sla_at_risk` once when under 2 h remain, `callback.sla_breached` once at the deadline. */
export async function raiseSlaEvents(deps: StepDeps, now: Date, batchSize = DEFAULT_BATCH_SIZE) {
  const atRisk = await drain(() => markSla(deps.db, 'atRisk', now, batchSize), batchSize);
  const breached = await drain(() => markSla(deps.db, 'breached', now, batchSize), batchSize);
  return { atRisk, breached };
}

/**
 * One maintenance tick, in order. A failing step does not stop the others (a lost wake-up must be
 * restored even when, say, SLA marking fails); the tick then fails as a whole so the error is seen.
 */
export async function runMaintenance(
  deps: AppDeps,
  now: Date,
  options: { batchSize?: number } = {},
): Promise<Record<string, number>> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const counts: Record<string, number> = {};
  const errors: unknown[] = [];
  // Lost wake-ups first: recovering them within the promised 60 s must not wait on slower steps.
  const steps: [string, () => Promise<Record<string, number>>][] = [
    ['reconcileWakeups', async () => ({ reconciledWakeups: await reconcileWakeups(deps, now, { batchSize }) })],
    ['requeueStaleSms', async () => ({ requeuedSms: await requeueStaleSms(deps, now) })],
    ['expireLeases', async () => ({ expiredLeases: await expireLeases(deps, now, batchSize) })],
    ['closeReadyWindows', async () => ({ closedReadyWindows: await closeReadyWindows(deps, now, batchSize) })],
    [
      'raiseSlaEvents',
      async () => {
        const sla = await raiseSlaEvents(deps, now, batchSize);
        return { slaAtRisk: sla.atRisk, slaBreached: sla.breached };
      },
    ],
    ['expireOffers', async () => ({ expiredOffers: await expireOffers(deps, now) })],
    [
      'abandonStaleCalls',
      async () => ({ abandonedCalls: await abandonStaleCalls(deps, now, deps.config.IN_CALL_TIMEOUT_MINUTES * 60_000, batchSize) }),
    ],
    [
      'checkAlerts',
      async () => {
        const alerts = await checkAlerts(deps, now);
        return { alertsFired: alerts.fired.length, alertsResolved: alerts.resolved.length };
      },
    ],
  ];
  for (const [name, step] of steps) {
    try {
      Object.assign(counts, await step());
    } catch (err) {
      deps.logger.error({ err, step: name }, 'maintenance step failed');
      errors.push(err);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, `${errors.length} maintenance step(s) failed`);
  return counts;
}
