import DataLoader from 'dataloader';
import { PgTransaction } from 'drizzle-orm/pg-core';
import type postgres from 'postgres';
import type { Executor } from '../db/client.js';
import { clientOf } from '../db/raw.js';
import { earliestPermitted, nextIntervals, type CallingRules } from '../domain/calling-rules.js';
import type { Interval } from '../domain/intervals.js';
import type { Phone } from '../domain/phone.js';
import { MAX_DEADLINE_HOURS } from '../domain/policy.js';
import { invalidField } from '../http/errors.js';
import { legalHoursOf, loadSetting, type CallingSettings } from './settings.js';

const WEEK_MS = 7 * 24 * 3600_000;

export interface Slot {
  earliest: Date | null;
  intervals: Interval[];
  withinDeadline: boolean;
}

export interface CallingInput {
  phone: Phone;
  zones: string[];
  notBefore: Date;
  preferredWindows: Interval[] | null;
}

/** The attempts that can still count against the caps at `now` (the weekly cap looks back 7 days). */
export const capWindowStart = (now: Date) => new Date(now.getTime() - WEEK_MS);

/** Pure: the calling rules from the settings and the past attempts to this number. */
export function buildCallingRules(settings: CallingSettings, input: CallingInput, attemptTimes: number[]): CallingRules {
  return {
    zones: input.zones,
    legalHours: legalHoursOf(settings, input.phone.country),
    center: settings.center,
    preferredWindows: input.preferredWindows,
    caps: settings.caps,
    attemptTimes,
    notBefore: input.notBefore.getTime(),
  };
}

/**
 * A subquery (postgres.js) for the start times of the attempts to `phone`, a value or a column such
 * as sql`c.phone_e164`, that still count against the caps at `now`: a JSON array, null for none.
 * Each hot path reads it within the statement that reads its other facts; `attemptTimesOf` parses it.
 */
export const attemptTimesSql = (sql: postgres.Sql, phone: string | postgres.PendingQuery<postgres.Row[]>, now: Date) =>
  sql`(select json_agg(a.started_at) from attempts a
    where a.phone_e164 = ${phone} and a.started_at > ${capWindowStart(now).toISOString()}::timestamptz)`;

export const attemptTimesOf = (json: string[] | null): number[] => (json ?? []).map((t) => Date.parse(t));

interface AttemptsAsked {
  e164: string;
  now: Date;
}

/**
 * The start times of the attempts to each number that still count against the caps at its `now`,
 * in one statement however many numbers are asked (postgres.js directly: this runs on every
 * preview, and drizzle's query building cost more than the query).
 */
async function readAttemptTimes(db: Executor, asked: readonly AttemptsAsked[]): Promise<number[][]> {
  const sql = clientOf(db);
  const earliest = new Date(Math.min(...asked.map((a) => a.now.getTime())));
  const numbers = [...new Set(asked.map((a) => a.e164))];
  const rows = await sql<{ e164: string; times: string[] | null }[]>`
    select n.e164, ${attemptTimesSql(sql, sql`n.e164`, earliest)} as times
    from json_array_elements_text(${JSON.stringify(numbers)}::json) as n(e164)`;
  const byNumber = new Map(rows.map((r) => [r.e164, attemptTimesOf(r.times)]));
  return asked.map((a) => (byNumber.get(a.e164) ?? []).filter((t) => t > capWindowStart(a.now).getTime()));
}

/**
 * Outside a transaction, the numbers asked for while the event loop handles one round of I/O are
 * read together (DataLoader, batched at setImmediate): under load, concurrent previews share one
 * statement instead of one each. Nothing is cached between rounds.
 */
const loaders = new WeakMap<Executor, DataLoader<AttemptsAsked, number[]>>();

function attemptTimesOfNumber(db: Executor, e164: string, now: Date): Promise<number[]> {
  if (db instanceof PgTransaction) return readAttemptTimes(db, [{ e164, now }]).then(([times]) => times!);
  let loader = loaders.get(db);
  if (!loader) {
    loader = new DataLoader((asked) => readAttemptTimes(db, asked), { cache: false, maxBatchSize: 200, batchScheduleFn: setImmediate });
    loaders.set(db, loader);
  }
  return loader.load({ e164, now });
}

/** Everything that decides when this number may be called, read from settings and past attempts. */
export async function callingRulesFor(db: Executor, input: CallingInput, now: Date): Promise<CallingRules> {
  const [settings, attemptTimes] = await Promise.all([loadSetting(db, 'calling'), attemptTimesOfNumber(db, input.phone.e164, now)]);
  return buildCallingRules(settings, input, attemptTimes);
}

/**
 * Times a request asks for: a deadline must lie ahead, and neither it nor notBefore further than a
 * policy's deadline may (MAX_DEADLINE_HOURS): a typo such as year 9999 is refused, not scheduled.
 */
export function checkRequestedTimes(input: { notBefore?: Date | undefined; deadline?: Date | undefined }, now: Date): void {
  if (input.deadline && input.deadline <= now) throw invalidField('deadline', 'must be in the future');
  const limit = now.getTime() + MAX_DEADLINE_HOURS * 3600_000;
  for (const field of ['notBefore', 'deadline'] as const) {
    if ((input[field]?.getTime() ?? 0) > limit) throw invalidField(field, `must be within ${MAX_DEADLINE_HOURS / 24} days from now`);
  }
}

/** The honest answer to "when can we call?": the earliest permitted time and whether it meets the deadline. */
export function findSlot(rules: CallingRules, now: Date, deadline: Date, options: { intervals?: number } = {}): Slot {
  const from = Math.max(now.getTime(), rules.notBefore);
  const earliest = earliestPermitted(rules, from);
  return {
    earliest: earliest === null ? null : new Date(earliest),
    intervals: options.intervals ? nextIntervals(rules, from, { limit: options.intervals }) : [],
    withinDeadline: earliest !== null && earliest < deadline.getTime(),
  };
}
