import { z } from '@hono/zod-openapi';
import { sql, type SQL } from 'drizzle-orm';
import { DateTime } from 'luxon';
import type { Database } from '../db/client.js';
import { ACTIVE_STATUSES, CALLBACK_STATUSES, type CallbackStatus } from '../domain/callback-state.js';
import { loadSetting } from '../services/settings.js';

/**
 * The figures of the ops dashboard (SPEC §9), each computed by one query that reads an index
 * range, never a whole big table. Definitions (also in the OpenAPI descriptions):
 * - periods are rolling: `last24h` = [now − 24 h, now], `last7d` = [now − 7 d, now];
 * - active callbacks are counted as they are now; terminal ones by when they reached that state;
 * - SLA statuses are the callback statuses that carry a promise (`awaiting_consent` does not: its
 *   deadline is when the unanswered offer expires), as in maintenance;
 * - attempts belong to the period in which they started; answer rate = connected ÷ attempts with
 *   a result (attempts still in progress are counted as attempts but not in the rate);
 * - verification rate = verified sessions ÷ connected attempts, sessions counted by their start (the
 *   attempt's start). A customer may verify with the texted code before the call connects, so a
 *   session of an unanswered attempt counts too and the rate can, rarely, exceed 1.
 */

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;
export const SLA_AT_RISK_MS = 2 * HOUR_MS;
export const LIST_LIMIT = 50;

export const SLA_STATUSES = ['scheduled', 'ready', 'claimed', 'in_call'] as const satisfies readonly CallbackStatus[];
export const TERMINAL_STATUSES = CALLBACK_STATUSES.filter(
  (s) => !(ACTIVE_STATUSES as readonly string[]).includes(s),
) as Exclude<CallbackStatus, (typeof ACTIVE_STATUSES)[number]>[];

/**
 * Status lists are written into the SQL as literals, not parameters: a partial index such as
 * callbacks_deadline_idx can only be used when the planner sees the list (prepared statements
 * switch to generic plans after a few runs). The values are our own constants.
 */
const statusList = (statuses: readonly string[]) => sql.raw(statuses.map((s) => `'${s}'`).join(', '));
const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;
/** Epoch milliseconds as a JS number; the driver returns timestamps of raw queries as text. */
const epochMs = (column: SQL) => sql`(extract(epoch from ${column}) * 1000)::float8`;

const count = z.number().int().nonnegative();
const rate = z.number().min(0).max(1).nullable();
const byStatus = <S extends readonly [string, ...string[]]>(statuses: S) =>
  z.object(Object.fromEntries(statuses.map((s) => [s, count])) as { [K in S[number]]: typeof count });

const CallbackRef = z
  .object({ id: z.uuid(), caseRef: z.string(), status: z.string(), deadline: z.string(), scheduledFor: z.string().nullable() })
  .openapi('OpsCallbackRef');

const AttemptFigures = z
  .object({ attempts: count, withResult: count, connected: count, answerRate: rate })
  .openapi('OpsAttemptFigures', { description: 'answerRate = connected ÷ withResult; null when nothing has a result' });

const VerificationFigures = z
  .object({ connected: count, verified: count, rate: z.number().min(0).nullable() })
  .openapi('OpsVerificationFigures', {
    description: 'verified = verification sessions verified, by attempt start; rate = verified ÷ connected attempts',
  });

const SeriesPoint = { attempts: count, connected: count, verified: count };

export const OverviewSchema = z
  .object({
    generatedAt: z.string(),
    timezone: z.string().openapi({ description: "The center's time zone: daily buckets are its calendar days" }),
    callbacks: z.object({
      active: byStatus(ACTIVE_STATUSES).extend({ total: count }).openapi({ description: 'Active callbacks now, by status' }),
      finishedLast24h: byStatus(TERMINAL_STATUSES as unknown as [string, ...string[]]).openapi({
        description: 'Callbacks that reached each terminal status in the last 24 h',
      }),
      finishedLast7d: byStatus(TERMINAL_STATUSES as unknown as [string, ...string[]]),
      outcomesLast24h: z.record(z.string(), count).openapi({
        description: 'Completed callbacks by agent outcome; exemptions are counted apart (`exemptions`), not as agent results',
      }),
      outcomesLast7d: z.record(z.string(), count),
      dueNextHour: count.openapi({ description: 'Scheduled callbacks whose time is before now + 1 h (overdue ones included)' }),
    }),
    sla: z.object({
      atRisk: z
        .object({ count, items: z.array(CallbackRef) })
        .openapi({ description: 'Active callbacks whose deadline is within the next 2 h (not yet passed); items: first 50 by deadline' }),
      breached: z.object({
        activeCount: count.openapi({ description: 'Active callbacks past their deadline, still to be called' }),
        items: z.array(CallbackRef).openapi({ description: 'The 50 most overdue active callbacks' }),
        last24h: count.openapi({ description: 'Callbacks marked breached (sla_breached_at) in the last 24 h, whatever their status now' }),
        last7d: count,
      }),
    }),
    attempts: z.object({
      last24h: AttemptFigures,
      last7d: AttemptFigures,
      byCallerNumber: z.array(
        z.object({
          callerNumber: z.string().nullable().openapi({ description: 'attempts.caller_number; null when the agent gave none' }),
          label: z.string().nullable(),
          official: z.boolean(),
          last24h: AttemptFigures,
          last7d: AttemptFigures,
          daily: z.array(z.object({ date: z.string(), withResult: count, connected: count, answerRate: rate })),
        }),
      ),
    }),
    verification: z.object({ last24h: VerificationFigures, last7d: VerificationFigures }),
    optOuts: z.object({ total: count, last24h: count, last7d: count }),
    scamReports: z.object({
      last24h: count,
      last7d: count,
      officialNumberLast7d: count.openapi({ description: 'Reports naming one of our official numbers: a sign of spoofing' }),
    }),
    exemptions: z.object({
      pending: count,
      approved: count,
      rejected: count,
      approvedLast7d: count,
      pendingItems: z.array(z.object({ id: z.uuid(), callbackId: z.uuid(), caseRef: z.string(), reason: z.string(), createdAt: z.string() })),
    }),
    series: z.object({
      hourly: z.array(z.object({ start: z.string(), ...SeriesPoint })).openapi({ description: 'The last 24 clock hours (UTC hours), oldest first' }),
      daily: z.array(z.object({ date: z.string(), ...SeriesPoint })).openapi({ description: 'The last 7 calendar days in the center time zone, today last' }),
    }),
  })
  .openapi('OpsOverview');

export type Overview = z.infer<typeof OverviewSchema>;

export interface OverviewWindow {
  now: Date;
  since24h: Date;
  since7d: Date;
  timezone: string;
  /** Starts of the 24 UTC clock hours of the hourly series, the current hour last. */
  hours: number[];
  /** The 7 calendar days of the daily series in the center's time zone, today last, with their starts. */
  days: { date: string; start: Date }[];
}

export function overviewWindow(now: Date, timezone: string): OverviewWindow {
  const currentHour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const today = DateTime.fromJSDate(now, { zone: timezone }).startOf('day');
  return {
    now,
    since24h: new Date(now.getTime() - DAY_MS),
    since7d: new Date(now.getTime() - 7 * DAY_MS),
    timezone,
    hours: Array.from({ length: 24 }, (_, i) => currentHour - (23 - i) * HOUR_MS),
    days: Array.from({ length: 7 }, (_, i) => {
      const day = today.minus({ days: 6 - i });
      return { date: day.toISODate()!, start: day.toJSDate() };
    }),
  };
}

/**
 * Bucket number of a timestamp among bucket starts (width_bucket: 0 before the first, i from the
 * i-th start on). The starts come from here, so PostgreSQL does no time zone arithmetic per row
 * and local days are exact in every zone, including half-hour offsets and DST changes.
 */
const bucketOf = (column: SQL, starts: Date[]) =>
  sql`width_bucket(${column}, ${`{${starts.map((d) => d.toISOString()).join(',')}}`}::timestamptz[])`;

const callbackRefColumns = sql`id, case_ref, status::text as status, ${epochMs(sql`deadline`)} as deadline_ms,
  ${epochMs(sql`scheduled_for`)} as scheduled_for_ms, (count(*) over ())::int as total`;

/** Every query of the overview, by name, so the benchmark can EXPLAIN exactly what runs. */
export function overviewQueries(w: OverviewWindow) {
  const sla = statusList(SLA_STATUSES);
  const hourStarts = w.hours.map((h) => new Date(h));
  const dayStarts = w.days.map((d) => d.start);
  return {
    activeByStatus: sql`select status::text as status, count(*)::int as n from callbacks
      where status in (${statusList(ACTIVE_STATUSES)}) group by status`,
    finishedByStatus: sql`select status::text as status, outcome,
        (count(*) filter (where updated_at >= ${ts(w.since24h)}))::int as d1, count(*)::int as d7
      from callbacks where updated_at >= ${ts(w.since7d)} and status in (${statusList(TERMINAL_STATUSES)})
      group by status, outcome`,
    dueNextHour: sql`select count(*)::int as n from callbacks
      where status = 'scheduled' and scheduled_for < ${ts(new Date(w.now.getTime() + HOUR_MS))}`,
    slaAtRisk: sql`select ${callbackRefColumns} from callbacks
      where status in (${sla}) and deadline > ${ts(w.now)} and deadline < ${ts(new Date(w.now.getTime() + SLA_AT_RISK_MS))}
      order by deadline limit ${LIST_LIMIT}`,
    slaBreachedActive: sql`select ${callbackRefColumns} from callbacks
      where status in (${sla}) and deadline <= ${ts(w.now)}
      order by deadline limit ${LIST_LIMIT}`,
    slaBreachedRecently: sql`select (count(*) filter (where sla_breached_at >= ${ts(w.since24h)}))::int as d1, count(*)::int as d7
      from callbacks where sla_breached_at >= ${ts(w.since7d)}`,
    attempts: sql`select ${bucketOf(sql`started_at`, hourStarts)} as hour_bucket, ${bucketOf(sql`started_at`, dayStarts)} as day_bucket,
        caller_number, started_at >= ${ts(w.since24h)} as in_d1,
        count(*)::int as attempts, count(result)::int as with_result,
        (count(*) filter (where result = 'connected'))::int as connected
      from attempts where started_at >= ${ts(w.since7d)}
      group by 1, 2, 3, 4`,
    verified: sql`select ${bucketOf(sql`valid_from`, hourStarts)} as hour_bucket, ${bucketOf(sql`valid_from`, dayStarts)} as day_bucket,
        valid_from >= ${ts(w.since24h)} as in_d1, count(*)::int as verified
      from verification_sessions where verified_at is not null and valid_from >= ${ts(w.since7d)}
      group by 1, 2, 3`,
    optOutsTotal: sql`select count(*)::int as n from opt_outs`,
    optOutsRecent: sql`select (count(*) filter (where created_at >= ${ts(w.since24h)}))::int as d1, count(*)::int as d7
      from opt_outs where created_at >= ${ts(w.since7d)}`,
    scamReports: sql`select (count(*) filter (where created_at >= ${ts(w.since24h)}))::int as d1, count(*)::int as d7,
        (count(*) filter (where caller_is_official))::int as official_d7
      from scam_reports where created_at >= ${ts(w.since7d)}`,
    exemptionsByStatus: sql`select status::text as status, count(*)::int as n,
        (count(*) filter (where decided_at >= ${ts(w.since7d)}))::int as decided_d7
      from exemptions group by status`,
    exemptionsPending: sql`select id, callback_id, case_ref, reason, ${epochMs(sql`created_at`)} as created_ms
      from exemptions where status = 'pending' order by created_at limit ${LIST_LIMIT}`,
  };
}

type Row = Record<string, unknown>;
const num = (v: unknown) => Number(v ?? 0);
const isoOf = (ms: unknown) => (ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString());
const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null);

interface Tally {
  attempts: number;
  withResult: number;
  connected: number;
}
const emptyTally = (): Tally => ({ attempts: 0, withResult: 0, connected: 0 });
const addTally = (t: Tally, r: Row) => {
  t.attempts += num(r.attempts);
  t.withResult += num(r.with_result);
  t.connected += num(r.connected);
};
const attemptFigures = (t: Tally) => ({ ...t, answerRate: ratio(t.connected, t.withResult) });

const toRef = (r: Row) => ({
  id: String(r.id),
  caseRef: String(r.case_ref),
  status: String(r.status),
  deadline: isoOf(r.deadline_ms)!,
  scheduledFor: isoOf(r.scheduled_for_ms),
});

const zeroes = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/** The entry of `list` for a 1-based width_bucket number; undefined for 0 (before the first). */
const bucket = <T>(list: T[], n: unknown) => (num(n) >= 1 ? list[num(n) - 1] : undefined);

function attemptsSection(w: OverviewWindow, rows: Row[], officialLabels: Map<string, string>) {
  const days = w.days.map((d) => d.date);
  const d1 = emptyTally();
  const d7 = emptyTally();
  const perNumber = new Map<string | null, { d1: Tally; d7: Tally; daily: Map<string, Tally> }>();
  for (const r of rows) {
    const caller = (r.caller_number as string | null) ?? null;
    let entry = perNumber.get(caller);
    if (!entry) {
      entry = { d1: emptyTally(), d7: emptyTally(), daily: new Map(days.map((d) => [d, emptyTally()])) };
      perNumber.set(caller, entry);
    }
    addTally(d7, r);
    addTally(entry.d7, r);
    if (r.in_d1) {
      addTally(d1, r);
      addTally(entry.d1, r);
    }
    const day = entry.daily.get(bucket(days, r.day_bucket) ?? '');
    if (day) addTally(day, r);
  }
  const byCallerNumber = [...perNumber.entries()]
    .map(([callerNumber, t]) => ({
      callerNumber,
      label: callerNumber ? (officialLabels.get(callerNumber) ?? null) : null,
      official: callerNumber !== null && officialLabels.has(callerNumber),
      last24h: attemptFigures(t.d1),
      last7d: attemptFigures(t.d7),
      daily: [...t.daily.entries()].map(([date, d]) => ({
        date,
        withResult: d.withResult,
        connected: d.connected,
        answerRate: ratio(d.connected, d.withResult),
      })),
    }))
    .sort((a, b) => b.last7d.attempts - a.last7d.attempts || String(a.callerNumber).localeCompare(String(b.callerNumber)));
  return { last24h: attemptFigures(d1), last7d: attemptFigures(d7), byCallerNumber };
}

function seriesSection(w: OverviewWindow, attemptRows: Row[], verifiedRows: Row[]) {
  const hourly = w.hours.map((h) => ({ start: new Date(h).toISOString(), attempts: 0, connected: 0, verified: 0 }));
  const daily = w.days.map((d) => ({ date: d.date, attempts: 0, connected: 0, verified: 0 }));
  for (const r of attemptRows) {
    for (const point of [bucket(hourly, r.hour_bucket), bucket(daily, r.day_bucket)]) {
      if (!point) continue;
      point.attempts += num(r.attempts);
      point.connected += num(r.connected);
    }
  }
  for (const r of verifiedRows) {
    for (const point of [bucket(hourly, r.hour_bucket), bucket(daily, r.day_bucket)]) {
      if (point) point.verified += num(r.verified);
    }
  }
  return { hourly, daily };
}

function verificationSection(attempts: { last24h: Tally; last7d: Tally }, verifiedRows: Row[]) {
  let d1 = 0;
  let d7 = 0;
  for (const r of verifiedRows) {
    d7 += num(r.verified);
    if (r.in_d1) d1 += num(r.verified);
  }
  const figures = (connected: number, verified: number) => ({ connected, verified, rate: ratio(verified, connected) });
  return { last24h: figures(attempts.last24h.connected, d1), last7d: figures(attempts.last7d.connected, d7) };
}

function callbacksSection(active: Row[], finished: Row[], due: Row[]) {
  const activeCounts = zeroes(ACTIVE_STATUSES);
  for (const r of active) activeCounts[r.status as keyof typeof activeCounts] = num(r.n);
  const finishedLast24h = zeroes(TERMINAL_STATUSES);
  const finishedLast7d = zeroes(TERMINAL_STATUSES);
  const outcomesLast24h: Record<string, number> = {};
  const outcomesLast7d: Record<string, number> = {};
  for (const r of finished) {
    const status = r.status as (typeof TERMINAL_STATUSES)[number];
    finishedLast24h[status] += num(r.d1);
    finishedLast7d[status] += num(r.d7);
    if (status === 'completed' && typeof r.outcome === 'string') {
      if (num(r.d1) > 0) outcomesLast24h[r.outcome] = (outcomesLast24h[r.outcome] ?? 0) + num(r.d1);
      outcomesLast7d[r.outcome] = (outcomesLast7d[r.outcome] ?? 0) + num(r.d7);
    }
  }
  const total = Object.values(activeCounts).reduce((a, b) => a + b, 0);
  return {
    active: { ...activeCounts, total },
    finishedLast24h,
    finishedLast7d,
    outcomesLast24h,
    outcomesLast7d,
    dueNextHour: num(due[0]?.n),
  };
}

function exemptionsSection(byStatus: Row[], pending: Row[]) {
  const counts = { pending: 0, approved: 0, rejected: 0, approvedLast7d: 0 };
  for (const r of byStatus) {
    const status = r.status as 'pending' | 'approved' | 'rejected';
    counts[status] = num(r.n);
    if (status === 'approved') counts.approvedLast7d = num(r.decided_d7);
  }
  return {
    ...counts,
    pendingItems: pending.map((r) => ({
      id: String(r.id),
      callbackId: String(r.callback_id),
      caseRef: String(r.case_ref),
      reason: String(r.reason),
      createdAt: isoOf(r.created_ms)!,
    })),
  };
}

/** Runs every query of the overview (in parallel, on the pool) and shapes the figures. */
export async function computeOverview(db: Database, now: Date): Promise<Overview> {
  const [calling, official] = await Promise.all([loadSetting(db, 'calling'), loadSetting(db, 'official_numbers')]);
  const w = overviewWindow(now, calling.center.timezone);
  const queries = overviewQueries(w);
  const names = Object.keys(queries) as (keyof typeof queries)[];
  const results = await Promise.all(names.map((name) => db.execute(queries[name])));
  const rows = Object.fromEntries(names.map((name, i) => [name, [...results[i]!] as Row[]])) as Record<keyof typeof queries, Row[]>;

  const labels = new Map(official.numbers.map((n) => [n.number, n.label]));
  const attempts = attemptsSection(w, rows.attempts, labels);
  const breachedActive = rows.slaBreachedActive;
  const atRisk = rows.slaAtRisk;
  const optOutsRecent = rows.optOutsRecent[0] ?? {};
  const scam = rows.scamReports[0] ?? {};
  const breachedRecently = rows.slaBreachedRecently[0] ?? {};

  return {
    generatedAt: now.toISOString(),
    timezone: w.timezone,
    callbacks: callbacksSection(rows.activeByStatus, rows.finishedByStatus, rows.dueNextHour),
    sla: {
      atRisk: { count: num(atRisk[0]?.total), items: atRisk.map(toRef) },
      breached: {
        activeCount: num(breachedActive[0]?.total),
        items: breachedActive.map(toRef),
        last24h: num(breachedRecently.d1),
        last7d: num(breachedRecently.d7),
      },
    },
    attempts,
    verification: verificationSection(attempts, rows.verified),
    optOuts: { total: num(rows.optOutsTotal[0]?.n), last24h: num(optOutsRecent.d1), last7d: num(optOutsRecent.d7) },
    scamReports: { last24h: num(scam.d1), last7d: num(scam.d7), officialNumberLast7d: num(scam.official_d7) },
    exemptions: exemptionsSection(rows.exemptionsByStatus, rows.exemptionsPending),
    series: seriesSection(w, rows.attempts, rows.verified),
  };
}
