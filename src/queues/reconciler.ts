import { and, asc, eq, inArray, lte } from 'drizzle-orm';
import { afterDue } from '../db/keyset.js';
import type { Database } from '../db/client.js';
import { callbacks } from '../db/schema/index.js';
import { dueJobId, wakeupJobOptions, type DueJob, type Queues } from './queues.js';

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
        afterDue(callbacks, after),
      ),
    )
    .orderBy(asc(callbacks.scheduledFor), asc(callbacks.id))
    .limit(limit);
  // The WHERE clause excludes null scheduled_for; the narrowing is for the type checker.
  return rows.filter((r): r is DueRow => r.scheduledFor !== null);
}

/**
 * The rows whose wake-up is not waiting in Redis. A job hash that is missing was lost with Redis'
 * data; a finished one (failed, e.g. the database was briefly down, or completed without moving
 * the row) would block a re-add through its deterministic id and is removed first. One pipelined
 * HMGET per row: cheaper than getJobState, which scans the wait list.
 *
 * The rows were read before Redis was asked, and a worker may have dispatched one in between (its
 * job then looks finished, or gone once removed on completion): only rows that PostgreSQL still
 * shows scheduled at that version after the check count, or each such race would dispatch twice
 * and, under load, feed on itself.
 */
async function withoutLiveJob(db: Database, queues: Queues, rows: DueRow[]): Promise<DueRow[]> {
  const client = await queues.due.getBackend().client;
  const fields = await Promise.all(
    rows.map((r) => client.hmget(queues.due.toKey(dueJobId(r.id, r.version)), 'name', 'finishedOn')),
  );
  const finished = new Set<string>();
  const candidates = rows.filter((r, i) => {
    const [name, finishedOn] = fields[i] ?? [];
    if (name && finishedOn) finished.add(r.id);
    return !name || finishedOn;
  });
  if (candidates.length === 0) return [];
  const still = new Set(
    (
      await db
        .select({ id: callbacks.id, version: callbacks.version })
        .from(callbacks)
        .where(and(inArray(callbacks.id, candidates.map((r) => r.id)), eq(callbacks.status, 'scheduled')))
    ).map((r) => `${r.id}/${r.version}`),
  );
  const missing = candidates.filter((r) => still.has(`${r.id}/${r.version}`));
  await Promise.all(missing.filter((r) => finished.has(r.id)).map((r) => queues.due.remove(dueJobId(r.id, r.version))));
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
    const missing = await withoutLiveJob(deps.db, deps.queues, rows);
    if (missing.length > 0) {
      await deps.queues.due.addBulk(
        missing.map((r) => ({
          name: 'due',
          data: { callbackId: r.id, version: r.version } satisfies DueJob,
          opts: wakeupJobOptions(r, now),
        })),
      );
    }
    added += missing.length;
    if (rows.length < batchSize) break;
    after = rows[rows.length - 1] ?? null;
  }
  return added;
}
