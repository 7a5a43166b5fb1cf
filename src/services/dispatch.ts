import type { Database } from '../db/client.js';
import { clientOf, fromDriverRow } from '../db/raw.js';
import { callbacks } from '../db/schema/index.js';
import { isPermitted } from '../domain/calling-rules.js';
import type { Queues } from '../queues/queues.js';
import { backToScheduled, callingRulesFromFacts, nextPermittedOrRecheck } from './callback-rules.js';
import { attemptTimesSql } from './scheduling.js';
import { loadSetting } from './settings.js';
import { transition } from './transitions.js';
import { observeDispatchLateness } from '../ops/metrics.js';

export type DispatchOutcome = 'ready' | 'rescheduled' | 'suppressed' | 'stale';

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
  // One round trip for everything the decision needs: the callback, its opt-out, its recent attempts.
  const sql = clientOf(db);
  const [found] = await sql`
    select c.*,
      exists (select 1 from opt_outs o where o.phone_e164 = c.phone_e164 and o.scope <> 'sms') as opted_out,
      ${attemptTimesSql(sql, sql`c.phone_e164`, now)} as attempt_times
    from callbacks c where c.id = ${job.callbackId}`;
  if (!found) return 'stale';
  const row = fromDriverRow(callbacks, found);
  if (row.status !== 'scheduled' || row.version !== job.version) return 'stale';

  // Each change is one conditional statement (see transition()), so no explicit transaction is needed.
  const guard = { from: ['scheduled' as const], version: job.version, current: row, actor: ACTOR, now };
  if (found.opted_out) {
    const moved = await transition(db, row.id, 'suppressed', { ...guard, details: { reason: 'opt_out' }, set: { scheduledFor: null } });
    return moved ? 'suppressed' : 'stale';
  }

  const settings = await loadSetting(db, 'calling');
  const rules = callingRulesFromFacts(settings, row, found.attempt_times as string[] | null);
  if (isPermitted(rules, now.getTime())) {
    const lateMs = now.getTime() - (row.scheduledFor?.getTime() ?? now.getTime());
    const moved = await transition(db, row.id, 'ready', { ...guard, details: { lateMs } });
    if (!moved) return 'stale';
    observeDispatchLateness(deps, lateMs / 1000);
    return 'ready';
  }

  const next = nextPermittedOrRecheck(rules, now.getTime());
  const moved = await db.transaction((tx) =>
    backToScheduled(tx, deps.queues, row, next.at, {
      ...guard,
      details: { reason: next.found ? 'not_permitted_now' : 'no_permitted_time_found' },
      now,
    }),
  );
  return moved ? 'rescheduled' : 'stale';
}
