import { z } from '@hono/zod-openapi';
import { eq, sql } from 'drizzle-orm';
import type { Database, Executor } from '../db/client.js';
import { alertStates, outbox, settings } from '../db/schema/index.js';

/**
 * Alerts (SPEC §9): an official number whose answer rate falls (carriers labelling it as spam)
 * and a burst of SLA breaches. Each fires one outbox event when its condition starts and
 * `alert.resolved` when it ends; alert_states remembers which are firing.
 */

export const AlertSettingsSchema = z
  .object({
    answerRateMin: z.number().min(0).max(1).default(0.3).openapi({ description: 'Alert when a caller number answers below this rate over 24 h' }),
    minAttempts: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(20)
      .openapi({ description: 'Attempts with a result a caller number needs in 24 h before its rate is judged' }),
    slaBreachesPerHourMax: z
      .number()
      .int()
      .min(0)
      .max(1_000_000)
      .default(5)
      .openapi({ description: 'Alert when more callbacks than this breached their SLA in the last hour' }),
  })
  .strict()
  .openapi('AlertSettings');

export type AlertSettings = z.output<typeof AlertSettingsSchema>;

const SETTINGS_KEY = 'alerts';
const HOUR_MS = 3600_000;

export const ALERT_EVENTS = ['alert.answer_rate_low', 'alert.sla_breaches_high', 'alert.resolved'] as const;

export async function loadAlertSettings(db: Executor): Promise<AlertSettings> {
  const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, SETTINGS_KEY));
  // Parsing fills in defaults for fields added after the document was stored.
  return AlertSettingsSchema.parse(row?.value ?? {});
}

export async function saveAlertSettings(db: Executor, value: AlertSettings): Promise<void> {
  await db
    .insert(settings)
    .values({ key: SETTINGS_KEY, value })
    .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: new Date() } });
}

type AlertKind = 'answer_rate_low' | 'sla_breaches_high';

interface Condition {
  key: string;
  kind: AlertKind;
  firing: boolean;
  details: Record<string, unknown>;
}

const answerRateKey = (callerNumber: string) => `answer_rate_low:${callerNumber}`;
const SLA_KEY = 'sla_breaches_high';

/** One condition per caller number that made calls in the last 24 h. */
async function answerRateConditions(db: Executor, s: AlertSettings, now: Date): Promise<Condition[]> {
  const since = new Date(now.getTime() - 24 * HOUR_MS);
  const rows = await db.execute<{ caller_number: string; with_result: number; connected: number }>(sql`
    select caller_number, count(result)::int as with_result, (count(*) filter (where result = 'connected'))::int as connected
    from attempts where started_at >= ${since.toISOString()}::timestamptz and caller_number is not null
    group by caller_number`);
  return [...rows].map((r) => {
    const answerRate = r.with_result > 0 ? r.connected / r.with_result : null;
    return {
      key: answerRateKey(r.caller_number),
      kind: 'answer_rate_low',
      firing: answerRate !== null && r.with_result >= s.minAttempts && answerRate < s.answerRateMin,
      details: {
        callerNumber: r.caller_number,
        attemptsWithResult: r.with_result,
        connected: r.connected,
        answerRate,
        answerRateMin: s.answerRateMin,
        minAttempts: s.minAttempts,
        since: since.toISOString(),
      },
    };
  });
}

async function slaCondition(db: Executor, s: AlertSettings, now: Date): Promise<Condition> {
  const since = new Date(now.getTime() - HOUR_MS);
  const [row] = await db.execute<{ n: number }>(
    sql`select count(*)::int as n from callbacks where sla_breached_at >= ${since.toISOString()}::timestamptz`,
  );
  const breaches = row?.n ?? 0;
  return {
    key: SLA_KEY,
    kind: 'sla_breaches_high',
    firing: breaches > s.slaBreachesPerHourMax,
    details: { breachesLastHour: breaches, slaBreachesPerHourMax: s.slaBreachesPerHourMax, since: since.toISOString() },
  };
}

/**
 * Records the new state if it differs from the stored one, in one statement: of two checks
 * running at once, only the one whose UPDATE changed the row gets it back and writes the event.
 */
async function flip(tx: Executor, c: Condition, now: Date): Promise<boolean> {
  const changed = await tx
    .insert(alertStates)
    .values({ key: c.key, firing: c.firing, details: c.details, changedAt: now })
    .onConflictDoUpdate({
      target: alertStates.key,
      set: { firing: c.firing, details: c.details, changedAt: now },
      setWhere: sql`${alertStates.firing} is distinct from excluded.firing`,
    })
    .returning({ key: alertStates.key });
  return changed.length > 0;
}

export interface AlertCheck {
  fired: string[];
  resolved: string[];
}

/** Evaluates every alert at `now`; called by maintenance. Returns the keys that changed. */
export async function checkAlerts(deps: { db: Database }, now: Date): Promise<AlertCheck> {
  const { db } = deps;
  const s = await loadAlertSettings(db);
  const [rates, sla, firingRows] = await Promise.all([
    answerRateConditions(db, s, now),
    slaCondition(db, s, now),
    db.select({ key: alertStates.key, details: alertStates.details }).from(alertStates).where(eq(alertStates.firing, true)),
  ]);
  const conditions = new Map([...rates, sla].map((c) => [c.key, c]));
  // A caller number with no calls in 24 h has no row above: its firing alert has ended.
  for (const row of firingRows) {
    if (!conditions.has(row.key) && row.key.startsWith('answer_rate_low:')) {
      conditions.set(row.key, { key: row.key, kind: 'answer_rate_low', firing: false, details: { ...row.details, attemptsWithResult: 0 } });
    }
  }
  const firingNow = new Set(firingRows.map((r) => r.key));
  // Only conditions that are true, or were true, can change anything.
  const candidates = [...conditions.values()].filter((c) => c.firing || firingNow.has(c.key));

  const result: AlertCheck = { fired: [], resolved: [] };
  await db.transaction(async (tx) => {
    for (const c of candidates) {
      if (!(await flip(tx, c, now))) continue;
      const payload = { key: c.key, alert: c.kind, at: now.toISOString(), ...c.details };
      await tx.insert(outbox).values({ event: c.firing ? `alert.${c.kind}` : 'alert.resolved', payload });
      (c.firing ? result.fired : result.resolved).push(c.key);
    }
  });
  return result;
}
