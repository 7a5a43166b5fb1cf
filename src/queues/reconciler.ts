import { and, asc, eq, gt, lte, or } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { callbacks } from '../db/schema/index.js';
import { dueJobId, type DueJob, type Queues } from './queues.js';

/** Wake-ups due within this window are restored now, so a lost one fires at most a tick late. */
const DEFAULT_HORIZON_MS = 60_000;
const DEFAULT_BATCH_SIZE = 500;

interface DueRow {
  id: string;
  version: number;
  scheduledFor: Date;
}

async function nextBatch(db: Database, until: Date, after: DueRow | null, limit: number): Promise<DueRow[]> {
  const rows = await db
    .select({ id: callbacks.id, version: callbacks.version, scheduledFor: callbacks.scheduledFor })
    .from(callbacks)
    .where(
      and(
        eq(callbacks.status, 'scheduled'),
        lte(callbacks.scheduledFor, until),
        after
          ? or(
              gt(callbacks.scheduledFor, after.scheduledFor),
              and(eq(callbacks.scheduledFor, after.scheduledFor), gt(callbacks.id, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(asc(callbacks.scheduledFor), asc(callbacks.id))
    .limit(limit);
  // The WHERE clause excludes null scheduled_for; the narrowing is for the type checker.
  return rows.filter((r): r is DueRow => r.scheduledFor !== null);
}

/**
 * The rows whose wake-up is not waiting in Redis. A job hash that is missing was lost with Redis'
 * data. A job hash that is finished (failed, e.g. the database was briefly down, or completed
 * without moving the row) while the row is still scheduled for that version would block a re-add
 * through its deterministic id, so it is removed first. One pipelined HMGET per row: cheaper than
 * getJobState, which scans the wait list.
 */
async function withoutLiveJob(queues: Queues, rows: DueRow[]): Promise<DueRow[]> {
  const client = await queues.due.getBackend().client;
  const fields = await Promise.all(
    rows.map((r) => client.hmget(queues.due.toKey(dueJobId(r.id, r.version)), 'name', 'finishedOn')),
  );
  const missing: DueRow[] = [];
  await Promise.all(
    rows.map(async (r, i) => {
      const [name, finishedOn] = fields[i] ?? [];
      if (name && !finishedOn) return;
      if (name) await queues.due.remove(dueJobId(r.id, r.version));
      missing.push(r);
    }),
  );
  return missing;
}

/**
 * SPEC §6: Redis may lose its data, PostgreSQL may not. Re-adds the wake-up of every scheduled
 * callback due within the horizon. Job ids are deterministic per (callback, version), so a wake-up
 * still in Redis is not duplicated, and dispatchDue re-checks status and version, so a re-added
 * job whose earlier copy already ran changes nothing. Returns how many wake-ups were (re-)added.
 */
export async function reconcileWakeups(
  deps: { db: Database; queues: Queues },
  now: Date,
  options: { horizonMs?: number; batchSize?: number } = {},
): Promise<number> {
  const until = new Date(now.getTime() + (options.horizonMs ?? DEFAULT_HORIZON_MS));
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  let after: DueRow | null = null;
  let added = 0;
  for (;;) {
    const rows = await nextBatch(deps.db, until, after, batchSize);
    if (rows.length === 0) break;
    const missing = await withoutLiveJob(deps.queues, rows);
    if (missing.length > 0) {
      await deps.queues.due.addBulk(
        missing.map((r) => ({
          name: 'due',
          data: { callbackId: r.id, version: r.version } satisfies DueJob,
          opts: { jobId: dueJobId(r.id, r.version), delay: Math.max(0, r.scheduledFor.getTime() - now.getTime()) },
        })),
      );
    }
    added += missing.length;
    if (rows.length < batchSize) break;
    after = rows[rows.length - 1] ?? null;
  }
  return added;
}
