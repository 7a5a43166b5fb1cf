import { sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { earliestPermitted, type CallingRules } from '../domain/calling-rules.js';
import type { CallbackStatus } from '../domain/callback-state.js';
import type { Phone } from '../domain/phone.js';
import type { Queues } from '../queues/queues.js';
import { attemptTimesOf, buildCallingRules, callingRulesFor, capWindowStart, type CallingInput } from './scheduling.js';
import type { CallingSettings } from './settings.js';
import { transition, type CallbackRow } from './transitions.js';
import { enqueueWakeup } from './wakeups.js';

/** When no permitted time is found in the search horizon, look again after this long (as the dispatcher does). */
const RECHECK_MS = 3600_000;

/** What a stored callback says about when it may be called. */
export function callingInputOfRow(row: CallbackRow): CallingInput {
  return {
    phone: { e164: row.phoneE164, country: row.phoneCountry, type: row.phoneType as Phone['type'] },
    zones: row.timezones,
    notBefore: row.notBefore,
    preferredWindows: row.preferredWindows?.map((w) => ({ start: Date.parse(w.start), end: Date.parse(w.end) })) ?? null,
  };
}

/**
 * `attemptTimesSql` for drizzle selects (maintenance pages through callbacks with drizzle): the
 * attempts to a callback's own number that still count against the caps at `now`. Written out with
 * table names because drizzle leaves columns unqualified in a one-table select.
 */
export const recentAttemptTimes = (now: Date) =>
  sql<string[] | null>`(select json_agg(a.started_at::text) from attempts a
    where a.phone_e164 = callbacks.phone_e164 and a.started_at > ${capWindowStart(now).toISOString()}::timestamptz)`;

/** The calling rules of a stored callback from the settings and its recent attempt times. */
export function callingRulesFromFacts(settings: CallingSettings, row: CallbackRow, attemptTimes: string[] | null): CallingRules {
  return buildCallingRules(settings, callingInputOfRow(row), attemptTimesOf(attemptTimes));
}

/** The calling rules of a stored callback at `now`, past attempts to its number included. */
export function callingRulesOfRow(db: Executor, row: CallbackRow, now: Date): Promise<CallingRules> {
  return callingRulesFor(db, callingInputOfRow(row), now);
}

/** The first permitted instant at or after `from`, or a re-check time when none is found. */
export function nextPermittedOrRecheck(rules: CallingRules, from: number): { at: Date; found: boolean } {
  const next = earliestPermitted(rules, from);
  return next === null ? { at: new Date(from + RECHECK_MS), found: false } : { at: new Date(next), found: true };
}

/**
 * Puts an active callback back to `scheduled` at `scheduledFor`, conditional on the version read,
 * clears any claim, and enqueues its wake-up in the same transaction (a refused wake-up rolls the
 * change back). Returns null if the callback changed meanwhile.
 */
export async function backToScheduled(
  tx: Executor,
  queues: Queues,
  row: CallbackRow,
  scheduledFor: Date,
  options: { from: CallbackStatus[]; actor: string; details: Record<string, unknown>; now: Date },
): Promise<CallbackRow | null> {
  const moved = await transition(tx, row.id, 'scheduled', {
    from: options.from,
    version: row.version,
    actor: options.actor,
    details: { ...options.details, scheduledFor: scheduledFor.toISOString() },
    set: { scheduledFor, claimedBy: null, leaseExpiresAt: null },
    now: options.now,
  });
  if (!moved) return null;
  await enqueueWakeup(queues, moved.row, options.now);
  return moved.row;
}
