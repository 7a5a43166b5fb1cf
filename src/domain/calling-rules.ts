/**
 * The calling rules engine of SPEC §4: when may this number be called?
 *
 * The permitted set is the intersection of legal hours (in every candidate zone of the customer),
 * the center's staffed hours minus its closed dates, the customer's preferred windows, the rolling
 * frequency caps and `notBefore`. Everything is built as interval lists, one local day at a time,
 * so a two-week preview costs a few dozen zone look-ups instead of a per-minute scan.
 */
import { LRUCache } from 'lru-cache';
import { IANAZone } from 'luxon';
import { type Interval, clip, contains, intersect, normalize, subtract } from './intervals.js';

/** ISO weekdays 1=Mon..7=Sun, "HH:MM" local times; `end` may be "24:00"; end <= start is empty. */
export interface HoursRule {
  days: number[];
  start: string;
  end: string;
}

export interface CallingRules {
  /** The customer's candidate IANA zones; a time must be permitted in every one of them. */
  zones: string[];
  /** Legal calling hours for the number's country, in the customer's local time. */
  legalHours: HoursRule[];
  /** Staffed hours in the center's zone; closed dates ("YYYY-MM-DD") are whole local days there. */
  center: { timezone: string; hours: HoursRule[]; closedDates: string[] };
  /** When non-empty, only instants inside their union are permitted. */
  preferredWindows?: Interval[] | null;
  caps: { perDay: number; perWeek: number };
  /** Epoch ms of past attempts to this number, across all callbacks. */
  attemptTimes: number[];
  notBefore: number;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;
const DEFAULT_HORIZON_MS = 35 * DAY_MS;
/**
 * Searches walk forward in chunks, since zone look-ups dominate the cost: the earliest time is
 * nearly always within a weekend of `from`, and a preview of ten windows spans about two weeks.
 */
const EARLIEST_FIRST_CHUNK_MS = 3 * DAY_MS;
const PREVIEW_FIRST_CHUNK_MS = 14 * DAY_MS;
const SEARCH_CHUNK_MS = 7 * DAY_MS;
/** Offsets are known exactly this far around a range: the one-day margin, a day, and slack. */
const CLOCK_MARGIN_MS = 60 * HOUR_MS;

// ---------------------------------------------------------------------------------------------
// Shipped legal hours
// ---------------------------------------------------------------------------------------------

const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];
const MON_FRI = [1, 2, 3, 4, 5];

function hours(days: number[], start: string, end: string): HoursRule {
  return { days: [...days], start, end };
}

/** Shipped tables are shared by every caller, so they are frozen rather than trusted. */
function frozen(rules: HoursRule[]): HoursRule[] {
  for (const rule of rules) {
    Object.freeze(rule.days);
    Object.freeze(rule);
  }
  Object.freeze(rules);
  return rules;
}

export const DEFAULT_LEGAL_HOURS: HoursRule[] = frozen([hours(EVERY_DAY, '08:00', '21:00')]);

/**
 * Defaults per ISO 3166-1 alpha-2 country. Public holidays are not modelled here: where a rule
 * excludes them (AU, FR, DE), admins add them as center closed dates or override the country.
 */
export const LEGAL_HOURS_BY_COUNTRY: Record<string, HoursRule[]> = Object.freeze({
  // TCPA, 47 CFR 64.1200(c)(1): no solicitation calls before 8 a.m. or after 9 p.m. local time (FDCPA §1692c alike).
  US: frozen([hours(EVERY_DAY, '08:00', '21:00')]),
  // CRTC Unsolicited Telecommunications Rules (Telemarketing): weekdays 09:00-21:30, weekends 10:00-18:00.
  CA: frozen([hours(MON_FRI, '09:00', '21:30'), hours([6, 7], '10:00', '18:00')]),
  // FCA CONC 7.9.4R bans contact at "unreasonable times" without fixing hours; 08:00-21:00 is the usual reading.
  GB: frozen([hours(EVERY_DAY, '08:00', '21:00')]),
  // Bank Negara Malaysia fair debt collection practices: no contact before 08:00 or after 21:00.
  MY: frozen([hours(EVERY_DAY, '08:00', '21:00')]),
  // China Banking Association consumer-loan collection guideline (2026): no calls from 22:00 to 08:00.
  CN: frozen([hours(EVERY_DAY, '08:00', '22:00')]),
  // No statutory calling hours (Debt Collection Act 2022 sets none); 08:00-21:00 is common collection practice.
  SG: frozen([hours(EVERY_DAY, '08:00', '21:00')]),
  // Telemarketing and Research Calls Industry Standard 2017: weekdays 09:00-20:00, Saturday 09:00-17:00, no Sunday.
  AU: frozen([hours(MON_FRI, '09:00', '20:00'), hours([6], '09:00', '17:00')]),
  // No statutory hours (UWG §7 governs consent); Bitkom telemarketing code: weekdays 08:00-20:00, Saturday 09:00-18:00.
  DE: frozen([hours(MON_FRI, '08:00', '20:00'), hours([6], '09:00', '18:00')]),
  // Décret n° 2022-1313: weekdays 10:00-13:00 and 14:00-20:00, never on weekends or public holidays.
  FR: frozen([hours(MON_FRI, '10:00', '13:00'), hours(MON_FRI, '14:00', '20:00')]),
  // TRAI TCCCPR 2018: commercial calls 09:00-21:00 (RBI limits bank recovery calls further, to 08:00-19:00).
  IN: frozen([hours(EVERY_DAY, '09:00', '21:00')]),
});

/**
 * The legal hours for a number's country: the country's own rule, else the default rule. The
 * shipped tables above are the initial settings; admins edit both lists as a whole.
 */
export function legalHoursFor(
  country: string | null | undefined,
  legalHours: { default: HoursRule[]; byCountry: Record<string, HoursRule[]> },
): HoursRule[] {
  const key = country?.trim().toUpperCase();
  // Object.hasOwn: a stored JSON object must not answer for keys such as "constructor".
  return key && Object.hasOwn(legalHours.byCountry, key) ? (legalHours.byCountry[key] as HoursRule[]) : legalHours.default;
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

const HHMM = /^([01]\d|2[0-4]):([0-5]\d)$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function parseHHMM(s: string): number {
  const match = HHMM.exec(s);
  const minutes = match ? Number(match[1]) * 60 + Number(match[2]) : NaN;
  if (!(minutes <= 1440)) throw new RangeError(`invalid time of day "${s}", expected HH:MM from 00:00 to 24:00`);
  return minutes;
}

/** Local midnight of a "YYYY-MM-DD" date, as wall-clock milliseconds (the date read as UTC). */
function parseIsoDate(s: string): number {
  const match = ISO_DATE.exec(s);
  const wall = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : NaN;
  // Date.UTC rolls 2026-02-30 over to March; a date that does not read back is not a date.
  if (Number.isNaN(wall) || new Date(wall).toISOString().slice(0, 10) !== s) {
    throw new RangeError(`invalid date "${s}", expected YYYY-MM-DD`);
  }
  return wall;
}

interface DailyWindow {
  days: number[];
  startMs: number;
  endMs: number;
}

function toDailyWindows(rules: HoursRule[]): DailyWindow[] {
  return rules
    .map((rule) => ({
      days: rule.days,
      startMs: parseHHMM(rule.start) * MINUTE_MS,
      endMs: parseHHMM(rule.end) * MINUTE_MS,
    }))
    .filter((w) => w.startMs < w.endMs && w.days.length > 0);
}

// ---------------------------------------------------------------------------------------------
// Local wall-clock time
// ---------------------------------------------------------------------------------------------

/** A stretch of time over which a zone keeps one UTC offset. */
interface OffsetSegment {
  start: number;
  end: number;
  offsetMs: number;
}

/**
 * A zone's offsets over a bounded span, with each change located to the exact second.
 *
 * Wall-clock times are handled as "wall ms": the local date and time read as if it were UTC.
 * Luxon's `DateTime.fromObject` is not used to resolve them: it moves a time inside a
 * spring-forward gap by the gap's length (02:30 becomes 03:30, not the 03:00 the gap ends at)
 * and picks between the two readings of a fall-back time by the offset in force today.
 */
class ZoneClock {
  private readonly segments: OffsetSegment[];
  /** Instants whose wall time already occurred earlier that night (fall-back repeats). */
  readonly repeated: Interval[];

  constructor(zoneName: string, from: number, until: number) {
    const zone = IANAZone.create(zoneName);
    if (!zone.isValid) throw new RangeError(`unknown time zone "${zoneName}"`);
    this.segments = offsetSegments(zone, from - CLOCK_MARGIN_MS, until + CLOCK_MARGIN_MS);
    this.repeated = repeatedSpans(this.segments);
  }

  /**
   * The first instant at which the local clock shows `wall` or later. A time that occurs twice
   * resolves to its first occurrence; a time skipped by spring-forward resolves to the end of
   * the gap, the first valid instant after it.
   */
  instantAt(wall: number): number {
    for (const segment of this.segments) {
      const t = wall - segment.offsetMs;
      // Earlier segments never showed `wall`; if this one starts after t, `wall` lay in the gap.
      if (t < segment.end) return Math.max(t, segment.start);
    }
    throw new Error('offset segments must extend to +Infinity');
  }

  /** Wall ms of the local midnight starting the day that contains instant t. */
  localDay(t: number): number {
    const segment = this.segments.find((s) => t < s.end) as OffsetSegment;
    return Math.floor((t + segment.offsetMs) / DAY_MS) * DAY_MS;
  }
}

function offsetMsAt(zone: IANAZone, t: number): number {
  return Math.round(zone.offset(t) * MINUTE_MS);
}

/** A zone's offset at the start of a span and each change within it. */
interface OffsetScan {
  startOffsetMs: number;
  changes: { at: number; offsetMs: number }[];
}

/**
 * Offsets are read through Intl (slow: a formatToParts per reading), so each zone is scanned once
 * per fixed span of SCAN_SPAN_MS and the result kept: a zone's rules do not change while we run.
 */
const SCAN_SPAN_MS = 32 * DAY_MS;
const scans = new LRUCache<string, OffsetScan>({ max: 20_000 });

function offsetScan(zone: IANAZone, k: number): OffsetScan {
  const key = `${zone.name}\u0000${k}`;
  let scan = scans.get(key);
  if (!scan) scans.set(key, (scan = scanOffsets(zone, k * SCAN_SPAN_MS, (k + 1) * SCAN_SPAN_MS)));
  return scan;
}

/**
 * Samples the offset once a day and bisects where it changed. Assumes no zone changes its
 * offset and back again within one day, which holds for the current rules of every tz zone.
 */
function scanOffsets(zone: IANAZone, from: number, until: number): OffsetScan {
  const startOffsetMs = offsetMsAt(zone, from);
  const changes: OffsetScan['changes'] = [];
  let offset = startOffsetMs;
  for (let prev = from; prev < until; ) {
    const next = Math.min(prev + DAY_MS, until);
    const nextOffset = offsetMsAt(zone, next);
    if (nextOffset !== offset) {
      changes.push({ at: findOffsetChange(zone, prev, next, offset), offsetMs: nextOffset });
      offset = nextOffset;
    }
    prev = next;
  }
  return { startOffsetMs, changes };
}

/** The zone's offsets over [from, until], from the scans of the spans that cover it. */
function offsetSegments(zone: IANAZone, from: number, until: number): OffsetSegment[] {
  const segments: OffsetSegment[] = [];
  let segmentStart = -Infinity;
  let offset: number | undefined;
  for (let k = Math.floor(from / SCAN_SPAN_MS); k * SCAN_SPAN_MS <= until; k++) {
    const scan = offsetScan(zone, k);
    // A span starts with the offset the previous one ended with (both read at the same instant).
    offset ??= scan.startOffsetMs;
    for (const change of scan.changes) {
      segments.push({ start: segmentStart, end: change.at, offsetMs: offset });
      segmentStart = change.at;
      offset = change.offsetMs;
    }
  }
  segments.push({ start: segmentStart, end: Infinity, offsetMs: offset as number });
  return segments;
}

/** The instant in (lo, hi] at which the offset stops being `before`; changes fall on whole seconds. */
function findOffsetChange(zone: IANAZone, lo: number, hi: number, before: number): number {
  let a = Math.floor(lo / 1000);
  let b = Math.ceil(hi / 1000);
  while (b - a > 1) {
    const mid = Math.floor((a + b) / 2);
    if (offsetMsAt(zone, mid * 1000) === before) a = mid;
    else b = mid;
  }
  return b * 1000;
}

function repeatedSpans(segments: OffsetSegment[]): Interval[] {
  const spans: Interval[] = [];
  for (let i = 1; i < segments.length; i++) {
    const before = segments[i - 1] as OffsetSegment;
    const after = segments[i] as OffsetSegment;
    const setBack = before.offsetMs - after.offsetMs;
    if (setBack > 0) spans.push({ start: after.start, end: after.start + setBack });
  }
  return normalize(spans);
}

function isoWeekday(dayWall: number): number {
  const daysSinceEpoch = Math.floor(dayWall / DAY_MS);
  // 1970-01-01 was a Thursday (ISO 4).
  return ((((daysSinceEpoch + 3) % 7) + 7) % 7) + 1;
}

/** The local days (wall ms of midnight) overlapping [from, until), with one more on each side. */
function localDays(clock: ZoneClock, from: number, until: number): { first: number; last: number } {
  return { first: clock.localDay(from) - DAY_MS, last: clock.localDay(until) + DAY_MS };
}

/**
 * Instants whose local time falls inside one of the windows, built day by day. The second
 * pass through a fall-back hour is left out, so a repeated local time is never counted twice.
 */
function localWindows(windows: DailyWindow[], clock: ZoneClock, from: number, until: number): Interval[] {
  const { first, last } = localDays(clock, from, until);
  const out: Interval[] = [];
  for (let day = first; day <= last; day += DAY_MS) {
    const weekday = isoWeekday(day);
    for (const w of windows) {
      if (!w.days.includes(weekday)) continue;
      out.push({ start: clock.instantAt(day + w.startMs), end: clock.instantAt(day + w.endMs) });
    }
  }
  return subtract(normalize(out), clock.repeated);
}

function closedDays(dates: string[], clock: ZoneClock, from: number, until: number): Interval[] {
  const { first, last } = localDays(clock, from, until);
  const out: Interval[] = [];
  for (const date of dates) {
    const day = parseIsoDate(date);
    if (day < first || day > last) continue;
    out.push({ start: clock.instantAt(day), end: clock.instantAt(day + DAY_MS) });
  }
  return normalize(out);
}

// ---------------------------------------------------------------------------------------------
// Frequency caps
// ---------------------------------------------------------------------------------------------

/**
 * Instants t at which at least `cap` attempts lie in (t - windowMs, t]. Attempt a counts during
 * [a, a + windowMs), so with attempts sorted, every run of `cap` consecutive ones blocks from its
 * last attempt until its first one leaves the window.
 */
function capBlocked(sortedAttempts: number[], cap: number, windowMs: number, from: number, until: number): Interval[] {
  if (!(cap > 0)) return [{ start: from, end: until }];
  const size = Math.ceil(cap);
  // Only attempts still in the window at `from`, or made before `until`, can block the range.
  const relevant = sortedAttempts.filter((a) => a > from - windowMs && a < until);
  const out: Interval[] = [];
  for (let last = size - 1; last < relevant.length; last++) {
    const firstOfRun = relevant[last - size + 1] as number;
    out.push({ start: relevant[last] as number, end: firstOfRun + windowMs });
  }
  return normalize(out);
}

// ---------------------------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------------------------

export function permittedIntervals(rules: CallingRules, from: number, until: number): Interval[] {
  const start = Math.max(from, rules.notBefore);
  if (Number.isNaN(start) || Number.isNaN(until)) throw new RangeError('permittedIntervals: range is not a number');
  if (!(start < until)) return [];
  if (!Number.isFinite(start) || !Number.isFinite(until)) {
    throw new RangeError('permittedIntervals: range must be finite');
  }
  if (rules.zones.length === 0) throw new RangeError('calling rules need at least one customer time zone');

  // Zones repeat (center and customer often share one), so each clock is built once per call.
  const clocks = new Map<string, ZoneClock>();
  const clockFor = (zone: string): ZoneClock => {
    let clock = clocks.get(zone);
    if (!clock) clocks.set(zone, (clock = new ZoneClock(zone, start, until)));
    return clock;
  };

  const center = clockFor(rules.center.timezone);
  let permitted = clip(localWindows(toDailyWindows(rules.center.hours), center, start, until), start, until);
  permitted = subtract(permitted, closedDays(rules.center.closedDates, center, start, until));

  const legal = toDailyWindows(rules.legalHours);
  for (const zone of new Set(rules.zones)) {
    if (permitted.length === 0) return permitted;
    permitted = intersect(permitted, localWindows(legal, clockFor(zone), start, until));
  }

  const preferred = rules.preferredWindows;
  if (preferred && preferred.length > 0) permitted = intersect(permitted, normalize(preferred));

  const attempts = rules.attemptTimes.filter(Number.isFinite).sort((a, b) => a - b);
  permitted = subtract(permitted, capBlocked(attempts, rules.caps.perDay, DAY_MS, start, until));
  permitted = subtract(permitted, capBlocked(attempts, rules.caps.perWeek, WEEK_MS, start, until));
  return permitted;
}

export function isPermitted(rules: CallingRules, t: number): boolean {
  return contains(permittedIntervals(rules, t, t + 1), t);
}

/**
 * The permitted intervals from max(from, notBefore) for horizonMs, chunk by chunk. The horizon
 * starts where the search can first succeed, so a far `notBefore` does not eat it up.
 */
function* permittedChunks(
  rules: CallingRules,
  from: number,
  horizonMs: number,
  firstChunkMs: number,
): Generator<{ intervals: Interval[]; chunkEnd: number }> {
  const start = Math.max(from, rules.notBefore);
  const until = start + horizonMs;
  if (Number.isNaN(until)) throw new RangeError('search range is not a number');
  let chunkStart = start;
  let chunkMs = firstChunkMs;
  while (chunkStart < until) {
    const chunkEnd = Math.min(chunkStart + chunkMs, until);
    yield { intervals: permittedIntervals(rules, chunkStart, chunkEnd), chunkEnd };
    chunkStart = chunkEnd;
    chunkMs = SEARCH_CHUNK_MS;
  }
}

/** The first permitted instant at or after max(from, notBefore), searching horizonMs from there. */
export function earliestPermitted(rules: CallingRules, from: number, horizonMs = DEFAULT_HORIZON_MS): number | null {
  for (const { intervals } of permittedChunks(rules, from, horizonMs, EARLIEST_FIRST_CHUNK_MS)) {
    const first = intervals[0];
    if (first) return first.start;
  }
  return null;
}

/** The first `limit` permitted intervals at or after max(from, notBefore), within horizonMs of it. */
export function nextIntervals(
  rules: CallingRules,
  from: number,
  opts: { limit?: number; horizonMs?: number } = {},
): Interval[] {
  const limit = opts.limit ?? 10;
  const horizonMs = opts.horizonMs ?? DEFAULT_HORIZON_MS;
  const found: Interval[] = [];
  if (limit <= 0) return found;
  for (const { intervals, chunkEnd } of permittedChunks(rules, from, horizonMs, PREVIEW_FIRST_CHUNK_MS)) {
    for (const iv of intervals) {
      const last = found[found.length - 1];
      // An interval cut by a chunk boundary continues in the next chunk.
      if (last && last.end === iv.start) last.end = iv.end;
      else found.push(iv);
    }
    const last = found[found.length - 1];
    // The limit-th interval is final once another follows it or it ends before the chunk does.
    if (found.length > limit || (found.length === limit && last && last.end < chunkEnd)) break;
  }
  return found.slice(0, limit);
}
