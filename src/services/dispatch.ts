import { eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { callbacks } from '../db/schema/index.js';
import { earliestPermitted, isPermitted } from '../domain/calling-rules.js';
import type { Phone } from '../domain/phone.js';
import type { Queues } from '../queues/queues.js';
import { isOptedOutOfCalls } from './callbacks.js';
import { callingRulesFor } from './scheduling.js';
import { transition } from './transitions.js';
import { enqueueWakeup } from './wakeups.js';

export type DispatchOutcome = 'ready' | 'rescheduled' | 'suppressed' | 'stale';

/** When no permitted time is found in the search horizon, look again after this long. */
const RECHECK_MS = 3600_000;
const ACTOR = 'system:dispatcher';

/**
 * SPEC §5 at the due time: re-check everything against PostgreSQL, the source of truth. Every
 * update is conditional on the version the job was made for, so a repeated or stale job is harmless.
 */
export async function dispatchDue(
  deps: { db: Database; queues: Queues },
  job: { callbackId: string; version: number },
  now: Date,
): Promise<DispatchOutcome> {
  const { db } = deps;
  const [row] = await db.select().from(callbacks).where(eq(callbacks.id, job.callbackId));
  if (!row || row.status !== 'scheduled' || row.version !== job.version) return 'stale';

  const guard = { from: ['scheduled' as const], version: job.version, actor: ACTOR };
  if (await isOptedOutOfCalls(db, row.phoneE164)) {
    const moved = await db.transaction((tx) =>
      transition(tx, row.id, 'suppressed', { ...guard, details: { reason: 'opt_out' }, set: { scheduledFor: null } }),
    );
    return moved ? 'suppressed' : 'stale';
  }

  const phone: Phone = { e164: row.phoneE164, country: row.phoneCountry, type: row.phoneType as Phone['type'] };
  const preferredWindows = row.preferredWindows?.map((w) => ({ start: Date.parse(w.start), end: Date.parse(w.end) })) ?? null;
  const rules = await callingRulesFor(db, { phone, zones: row.timezones, notBefore: row.notBefore, preferredWindows }, now);

  if (isPermitted(rules, now.getTime())) {
    const moved = await db.transaction((tx) =>
      transition(tx, row.id, 'ready', { ...guard, details: { lateMs: now.getTime() - (row.scheduledFor?.getTime() ?? now.getTime()) } }),
    );
    return moved ? 'ready' : 'stale';
  }

  const next = earliestPermitted(rules, now.getTime());
  const scheduledFor = new Date(next ?? now.getTime() + RECHECK_MS);
  const moved = await db.transaction(async (tx) => {
    const result = await transition(tx, row.id, 'scheduled', {
      ...guard,
      details: { reason: next === null ? 'no_permitted_time_found' : 'not_permitted_now', scheduledFor: scheduledFor.toISOString() },
      set: { scheduledFor },
    });
    if (result) await enqueueWakeup(deps.queues, result.row, now);
    return result;
  });
  return moved ? 'rescheduled' : 'stale';
}
