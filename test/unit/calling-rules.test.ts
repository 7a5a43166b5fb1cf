import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  type CallingRules,
  DEFAULT_LEGAL_HOURS,
  type HoursRule,
  LEGAL_HOURS_BY_COUNTRY,
  earliestPermitted,
  isPermitted,
  legalHoursFor,
  nextIntervals,
  parseHHMM,
  permittedIntervals,
} from '../../src/domain/calling-rules.js';
import { type Interval, contains } from '../../src/domain/intervals.js';

const SHIPPED = { default: DEFAULT_LEGAL_HOURS, byCountry: LEGAL_HOURS_BY_COUNTRY };
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];

const at = (iso: string): number => Date.parse(iso);
const iv = (start: string, end: string): Interval => ({ start: at(start), end: at(end) });
const daily = (start: string, end: string): HoursRule[] => [{ days: EVERY_DAY, start, end }];

/** Center open around the clock in UTC, US legal hours, caps that never bind. */
function rules(overrides: Partial<CallingRules> = {}): CallingRules {
  return {
    zones: ['America/New_York'],
    legalHours: daily('08:00', '21:00'),
    center: { timezone: 'UTC', hours: daily('00:00', '24:00'), closedDates: [] },
    caps: { perDay: 100, perWeek: 100 },
    attemptTimes: [],
    notBefore: 0,
    ...overrides,
  };
}

describe('parseHHMM', () => {
  it('reads minutes since midnight, up to 24:00', () => {
    expect(parseHHMM('00:00')).toBe(0);
    expect(parseHHMM('08:30')).toBe(510);
    expect(parseHHMM('23:59')).toBe(1439);
    expect(parseHHMM('24:00')).toBe(1440);
  });

  it.each(['24:01', '25:00', '8:00', '08:60', '0800', '08:00:00', '', ' 08:00', '-1:00', 'ab:cd'])(
    'rejects %j',
    (bad) => {
      expect(() => parseHHMM(bad)).toThrow(RangeError);
    },
  );
});

describe('legal hours defaults', () => {
  it('ships the required countries, US at 08:00-21:00 every day', () => {
    for (const country of ['US', 'CA', 'GB', 'MY', 'CN', 'SG', 'AU', 'DE', 'FR', 'IN']) {
      expect(LEGAL_HOURS_BY_COUNTRY[country]?.length, country).toBeGreaterThan(0);
    }
    expect(LEGAL_HOURS_BY_COUNTRY.US).toEqual(daily('08:00', '21:00'));
    expect(DEFAULT_LEGAL_HOURS).toEqual(daily('08:00', '21:00'));
  });

  it('ships only well-formed rules', () => {
    for (const [country, list] of Object.entries(LEGAL_HOURS_BY_COUNTRY)) {
      expect(country).toMatch(/^[A-Z]{2}$/);
      for (const rule of list) {
        expect(parseHHMM(rule.start)).toBeLessThan(parseHHMM(rule.end));
        expect(rule.days.every((d) => d >= 1 && d <= 7)).toBe(true);
      }
    }
  });

  it('cannot be altered by a caller', () => {
    const us = legalHoursFor('US', SHIPPED);
    expect(() => us.push({ days: [1], start: '00:00', end: '24:00' })).toThrow(TypeError);
    expect(() => (us[0] as HoursRule).days.push(8)).toThrow(TypeError);
  });

  it("takes the country's own rule, else the default rule", () => {
    const custom = daily('09:00', '17:00');
    const fallback = daily('10:00', '16:00');
    expect(legalHoursFor('US', { byCountry: { US: custom }, default: fallback })).toBe(custom);
    expect(legalHoursFor('US', { byCountry: {}, default: fallback })).toBe(fallback);
    expect(legalHoursFor('us', SHIPPED)).toBe(LEGAL_HOURS_BY_COUNTRY.US);
    expect(legalHoursFor('FR', { byCountry: { US: custom }, default: fallback })).toBe(fallback);
    expect(legalHoursFor('ZZ', SHIPPED)).toBe(DEFAULT_LEGAL_HOURS);
    expect(legalHoursFor(null, SHIPPED)).toBe(DEFAULT_LEGAL_HOURS);
    expect(legalHoursFor(undefined, { byCountry: {}, default: fallback })).toBe(fallback);
    expect(legalHoursFor('constructor', SHIPPED)).toBe(DEFAULT_LEGAL_HOURS);
  });
});

describe('local wall-clock windows', () => {
  it('builds 08:00-21:00 New York on an ordinary winter day', () => {
    expect(permittedIntervals(rules(), at('2026-01-15T05:00Z'), at('2026-01-16T05:00Z'))).toEqual([
      iv('2026-01-15T13:00Z', '2026-01-16T02:00Z'),
    ]);
  });

  it('spring forward: 01:00-04:00 is two real hours, 08:00-21:00 is 12:00Z-01:00Z', () => {
    const sunday = [7];
    const r = rules({
      legalHours: [
        { days: sunday, start: '01:00', end: '04:00' },
        { days: sunday, start: '08:00', end: '21:00' },
      ],
    });
    expect(permittedIntervals(r, at('2026-03-07T00:00Z'), at('2026-03-10T00:00Z'))).toEqual([
      iv('2026-03-08T06:00Z', '2026-03-08T08:00Z'),
      iv('2026-03-08T12:00Z', '2026-03-09T01:00Z'),
    ]);
  });

  it('spring forward: a start inside the gap opens when the gap ends', () => {
    const r = rules({ legalHours: [{ days: [7], start: '02:30', end: '05:00' }] });
    expect(permittedIntervals(r, at('2026-03-07T00:00Z'), at('2026-03-10T00:00Z'))).toEqual([
      iv('2026-03-08T07:00Z', '2026-03-08T09:00Z'),
    ]);
  });

  it('spring forward: a window entirely inside the gap never opens', () => {
    const r = rules({ legalHours: [{ days: [7], start: '02:00', end: '03:00' }] });
    expect(permittedIntervals(r, at('2026-03-07T00:00Z'), at('2026-03-10T00:00Z'))).toEqual([]);
  });

  it('fall back: 01:00-02:00 is the first 01:00 hour only, 08:00-21:00 is 13:00Z-02:00Z', () => {
    const r = rules({
      legalHours: [
        { days: [7], start: '01:00', end: '02:00' },
        { days: [7], start: '08:00', end: '21:00' },
      ],
    });
    expect(permittedIntervals(r, at('2026-10-31T00:00Z'), at('2026-11-03T00:00Z'))).toEqual([
      iv('2026-11-01T05:00Z', '2026-11-01T06:00Z'),
      iv('2026-11-01T13:00Z', '2026-11-02T02:00Z'),
    ]);
  });

  it('fall back: a window spanning the repeated hour skips its second pass', () => {
    const r = rules({ legalHours: [{ days: [7], start: '00:00', end: '03:00' }] });
    expect(permittedIntervals(r, at('2026-10-31T00:00Z'), at('2026-11-03T00:00Z'))).toEqual([
      iv('2026-11-01T04:00Z', '2026-11-01T06:00Z'),
      iv('2026-11-01T07:00Z', '2026-11-01T08:00Z'),
    ]);
  });

  it('24:00 is the start of the next local day, so whole days join up', () => {
    const r = rules({
      legalHours: [
        { days: [4, 5], start: '20:00', end: '24:00' },
        { days: [5], start: '00:00', end: '01:00' },
      ],
    });
    expect(permittedIntervals(r, at('2026-01-14T00:00Z'), at('2026-01-18T00:00Z'))).toEqual([
      iv('2026-01-16T01:00Z', '2026-01-16T06:00Z'),
      iv('2026-01-17T01:00Z', '2026-01-17T05:00Z'),
    ]);
  });

  it('weekdays are local: Monday-only hours in Tokyo start on Sunday in UTC', () => {
    const r = rules({ zones: ['Asia/Tokyo'], legalHours: [{ days: [1], start: '08:00', end: '21:00' }] });
    expect(nextIntervals(r, at('2026-01-14T00:00Z'), { limit: 2 })).toEqual([
      iv('2026-01-18T23:00Z', '2026-01-19T12:00Z'),
      iv('2026-01-25T23:00Z', '2026-01-26T12:00Z'),
    ]);
  });

  it('half-hour zones keep their offset (Kolkata +05:30, St Johns -03:30)', () => {
    const from = at('2026-01-15T01:00Z');
    expect(earliestPermitted(rules({ zones: ['Asia/Kolkata'] }), from)).toBe(at('2026-01-15T02:30Z'));
    expect(earliestPermitted(rules({ zones: ['America/St_Johns'] }), from)).toBe(at('2026-01-15T11:30Z'));
  });

  it('treats rules with end <= start or no days as empty', () => {
    const r = rules({
      legalHours: [
        { days: EVERY_DAY, start: '21:00', end: '08:00' },
        { days: [], start: '08:00', end: '21:00' },
      ],
    });
    expect(permittedIntervals(r, at('2026-01-15T00:00Z'), at('2026-01-20T00:00Z'))).toEqual([]);
  });
});

describe('several candidate zones', () => {
  it('permits only the overlap: New York and Honolulu on 2026-01-15 give 18:00Z-02:00Z', () => {
    const r = rules({ zones: ['America/New_York', 'Pacific/Honolulu'] });
    expect(permittedIntervals(r, at('2026-01-15T10:00Z'), at('2026-01-16T10:00Z'))).toEqual([
      iv('2026-01-15T18:00Z', '2026-01-16T02:00Z'),
    ]);
  });

  it('finds the earliest time per zone: New York 13:00Z, Honolulu 18:00Z', () => {
    const notBefore = at('2026-01-15T12:00Z');
    expect(earliestPermitted(rules({ notBefore }), at('2026-01-15T00:00Z'))).toBe(at('2026-01-15T13:00Z'));
    expect(earliestPermitted(rules({ notBefore, zones: ['Pacific/Honolulu'] }), at('2026-01-15T00:00Z'))).toBe(
      at('2026-01-15T18:00Z'),
    );
  });

  it('returns null when windows never overlap', () => {
    // Two 13-hour daily windows always overlap somewhere; three zones 8 hours apart do not.
    const threeWay = rules({ zones: ['Europe/London', 'Asia/Shanghai', 'America/Los_Angeles'] });
    expect(earliestPermitted(threeWay, at('2026-01-15T00:00Z'))).toBeNull();
    expect(earliestPermitted(threeWay, at('2026-07-15T00:00Z'))).toBeNull();
    // Kiritimati (+14) and Pago Pago (-11) are a calendar day apart: their Mondays never meet.
    const mondays = rules({
      zones: ['Pacific/Kiritimati', 'Pacific/Pago_Pago'],
      legalHours: [{ days: [1], start: '08:00', end: '21:00' }],
    });
    expect(earliestPermitted(mondays, at('2026-01-15T00:00Z'))).toBeNull();
  });

  it('Kiritimati and Pago Pago share 12 hours a day under daily 08:00-21:00 (one hour apart on the clock)', () => {
    const r = rules({ zones: ['Pacific/Kiritimati', 'Pacific/Pago_Pago'] });
    expect(nextIntervals(r, at('2026-01-15T08:00Z'), { limit: 1 })).toEqual([
      iv('2026-01-15T19:00Z', '2026-01-16T07:00Z'),
    ]);
  });

  it('returns null when legal hours have no days', () => {
    const r = rules({ legalHours: [{ days: [], start: '08:00', end: '21:00' }] });
    expect(earliestPermitted(r, at('2026-01-15T00:00Z'))).toBeNull();
    expect(nextIntervals(r, at('2026-01-15T00:00Z'))).toEqual([]);
  });
});

describe('center hours and closed dates', () => {
  const berlin = (closedDates: string[] = []): CallingRules['center'] => ({
    timezone: 'Europe/Berlin',
    hours: [{ days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' }],
    closedDates,
  });

  it('intersects staffed hours in the center zone with legal hours in the customer zone', () => {
    // Berlin 09:00-17:00 is 08:00Z-16:00Z; New York opens at 13:00Z.
    const r = rules({ center: berlin() });
    expect(permittedIntervals(r, at('2026-01-15T00:00Z'), at('2026-01-16T00:00Z'))).toEqual([
      iv('2026-01-15T13:00Z', '2026-01-15T16:00Z'),
    ]);
  });

  it('a closed date removes that whole local day in the center zone', () => {
    const r = rules({
      zones: ['UTC'],
      legalHours: daily('00:00', '24:00'),
      center: { timezone: 'Europe/Berlin', hours: daily('00:00', '24:00'), closedDates: ['2026-01-15'] },
    });
    expect(permittedIntervals(r, at('2026-01-14T00:00Z'), at('2026-01-17T00:00Z'))).toEqual([
      iv('2026-01-14T00:00Z', '2026-01-14T23:00Z'),
      iv('2026-01-15T23:00Z', '2026-01-17T00:00Z'),
    ]);
  });

  it('a closed date on a DST day removes all 23 or 25 real hours of it', () => {
    const r = rules({
      zones: ['UTC'],
      legalHours: daily('00:00', '24:00'),
      center: { timezone: 'America/New_York', hours: daily('00:00', '24:00'), closedDates: ['2026-11-01'] },
    });
    const gaps = permittedIntervals(r, at('2026-10-31T00:00Z'), at('2026-11-03T00:00Z'));
    expect(gaps[0]?.end).toBe(at('2026-11-01T04:00Z'));
    expect(gaps[1]?.start).toBe(at('2026-11-02T05:00Z'));
  });

  it('skips weekends and closed days when looking for the earliest time', () => {
    // 2026-01-16 is a Friday after hours; Monday the 19th is closed.
    const r = rules({ center: berlin(['2026-01-19']) });
    expect(earliestPermitted(r, at('2026-01-16T17:00Z'))).toBe(at('2026-01-20T13:00Z'));
  });

  it('rejects malformed closed dates and unknown zones', () => {
    const from = at('2026-01-15T00:00Z');
    const build = (overrides: Partial<CallingRules>) => () => permittedIntervals(rules(overrides), from, from + DAY);
    expect(build({ center: berlin(['2026-02-30']) })).toThrow(RangeError);
    expect(build({ center: berlin(['15/01/2026']) })).toThrow(RangeError);
    expect(build({ zones: ['Mars/Olympus'] })).toThrow(RangeError);
    expect(build({ zones: [] })).toThrow(RangeError);
    expect(build({ legalHours: daily('8:00', '21:00') })).toThrow(RangeError);
  });
});

describe('preferred windows and notBefore', () => {
  const from = at('2026-01-15T00:00Z');

  it('restricts to the union of preferred windows', () => {
    const r = rules({
      preferredWindows: [iv('2026-01-15T15:00Z', '2026-01-15T16:00Z'), iv('2026-01-15T10:00Z', '2026-01-15T14:00Z')],
    });
    expect(permittedIntervals(r, from, from + 2 * DAY)).toEqual([
      iv('2026-01-15T13:00Z', '2026-01-15T14:00Z'),
      iv('2026-01-15T15:00Z', '2026-01-15T16:00Z'),
    ]);
  });

  it('an empty or missing list does not restrict; a list of empty windows permits nothing', () => {
    const expected = permittedIntervals(rules(), from, from + DAY);
    expect(permittedIntervals(rules({ preferredWindows: [] }), from, from + DAY)).toEqual(expected);
    expect(permittedIntervals(rules({ preferredWindows: null }), from, from + DAY)).toEqual(expected);
    const emptyWindow = iv('2026-01-15T15:00Z', '2026-01-15T15:00Z');
    expect(permittedIntervals(rules({ preferredWindows: [emptyWindow] }), from, from + DAY)).toEqual([]);
  });

  it('permits nothing before notBefore', () => {
    const r = rules({ notBefore: at('2026-01-15T18:30Z') });
    expect(permittedIntervals(r, from, from + DAY)).toEqual([iv('2026-01-15T18:30Z', '2026-01-16T00:00Z')]);
    expect(isPermitted(r, at('2026-01-15T18:29Z'))).toBe(false);
    expect(isPermitted(r, at('2026-01-15T18:30Z'))).toBe(true);
  });

  it('measures the search horizon from notBefore, not from `from`', () => {
    const r = rules({ notBefore: at('2026-03-01T05:00Z') });
    expect(earliestPermitted(r, 0)).toBe(at('2026-03-01T13:00Z'));
    expect(earliestPermitted(r, at('2026-03-01T00:00Z'), 8 * HOUR)).toBeNull();
    expect(earliestPermitted(r, at('2026-03-01T00:00Z'), 8 * HOUR + 1)).toBe(at('2026-03-01T13:00Z'));
  });
});

describe('frequency caps', () => {
  const day = (hhmm: string, d = '15'): number => at(`2026-01-${d}T${hhmm}:00Z`);
  const open = { zones: ['UTC'], legalHours: daily('00:00', '24:00') };

  it('three attempts on day D block until the first leaves the rolling 24 h (10:00Z on D+1)', () => {
    const r = rules({
      zones: ['Europe/London'],
      legalHours: daily('08:00', '21:00'),
      caps: { perDay: 3, perWeek: 7 },
      attemptTimes: [day('11:00'), day('10:00'), day('12:00')],
    });
    expect(earliestPermitted(r, day('12:00'))).toBe(day('10:00', '16'));
    expect(isPermitted(r, day('10:00', '16') - 1)).toBe(false);
  });

  it('an attempt counts from its instant until exactly 24 h later', () => {
    const r = rules({ ...open, caps: { perDay: 1, perWeek: 100 }, attemptTimes: [day('10:00')] });
    expect(isPermitted(r, day('10:00') - 1)).toBe(true);
    expect(isPermitted(r, day('10:00'))).toBe(false);
    expect(isPermitted(r, day('10:00', '16') - 1)).toBe(false);
    expect(isPermitted(r, day('10:00', '16'))).toBe(true);
  });

  it('the weekly cap blocks a rolling 7 days', () => {
    const attempts = [day('09:00', '10'), day('09:00', '11'), day('09:00', '12')];
    const r = rules({ ...open, caps: { perDay: 3, perWeek: 3 }, attemptTimes: attempts });
    expect(permittedIntervals(r, day('00:00', '12'), day('00:00', '19') + DAY)).toEqual([
      { start: day('00:00', '12'), end: day('09:00', '12') },
      { start: day('09:00', '10') + WEEK, end: day('00:00', '20') },
    ]);
  });

  it('later attempts extend the block exactly (step function over sorted attempts)', () => {
    const attempts = [day('08:00'), day('09:00'), day('20:00'), day('06:00', '16')];
    const r = rules({ ...open, caps: { perDay: 2, perWeek: 100 }, attemptTimes: attempts });
    // Each pair of consecutive attempts blocks from the second until the first is 24 h old:
    // [09:00, 08:00+1d), [20:00, 09:00+1d) and [06:00+1d, 20:00+1d) join into one block.
    expect(permittedIntervals(r, day('00:00'), day('00:00', '18'))).toEqual([
      { start: day('00:00'), end: day('09:00') },
      { start: day('20:00', '16'), end: day('00:00', '18') },
    ]);
  });

  it('a cap of zero never permits a call', () => {
    const r = rules({ ...open, caps: { perDay: 0, perWeek: 7 } });
    expect(earliestPermitted(r, day('00:00'))).toBeNull();
  });
});

describe('nextIntervals', () => {
  const from = at('2026-01-15T00:00Z');

  it('returns the first `limit` intervals, ten by default', () => {
    const all = nextIntervals(rules(), from);
    expect(all).toHaveLength(10);
    expect(all[0]).toEqual(iv('2026-01-15T00:00Z', '2026-01-15T02:00Z'));
    expect(all[9]).toEqual(iv('2026-01-23T13:00Z', '2026-01-24T02:00Z'));
    expect(nextIntervals(rules(), from, { limit: 3 })).toEqual(all.slice(0, 3));
    expect(nextIntervals(rules(), from, { limit: 0 })).toEqual([]);
  });

  it('starts inside a window when `from` is inside one', () => {
    expect(nextIntervals(rules(), at('2026-01-15T20:00Z'), { limit: 1 })).toEqual([
      iv('2026-01-15T20:00Z', '2026-01-16T02:00Z'),
    ]);
  });

  it('joins a window cut by the internal search chunks and stops at the horizon', () => {
    const r = rules({ zones: ['UTC'], legalHours: daily('00:00', '24:00') });
    expect(nextIntervals(r, from, { horizonMs: 30 * DAY })).toEqual([{ start: from, end: from + 30 * DAY }]);
  });

  it('finds intervals beyond the first chunk', () => {
    const r = rules({ legalHours: [{ days: [1], start: '08:00', end: '21:00' }] });
    const mondays = nextIntervals(r, from, { limit: 4 });
    expect(mondays.map((x) => new Date(x.start).toISOString())).toEqual([
      '2026-01-19T13:00:00.000Z',
      '2026-01-26T13:00:00.000Z',
      '2026-02-02T13:00:00.000Z',
      '2026-02-09T13:00:00.000Z',
    ]);
  });
});

// -----------------------------------------------------------------------------------------------
// Properties against an independent oracle: it looks only at what luxon says the local clock shows
// at one instant, never at the engine's intervals.
// -----------------------------------------------------------------------------------------------

const ZONES = [
  'UTC',
  'America/New_York',
  'America/Los_Angeles',
  'America/St_Johns',
  'America/Santiago',
  'Pacific/Honolulu',
  'Europe/London',
  'Europe/Berlin',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Asia/Tokyo',
  'Australia/Adelaide',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Pacific/Kiritimati',
  'Africa/Casablanca',
];

/**
 * Where each zone changes its offset in 2026-2027, as the first midnight UTC after the change.
 * Found by asking luxon day by day, independently of the engine's own offset search.
 */
const DST_CHANGES: { zone: string; after: number }[] = ZONES.flatMap((zone) => {
  const changes: { zone: string; after: number }[] = [];
  let previous = DateTime.fromMillis(at('2026-01-01T00:00Z'), { zone }).offset;
  for (let t = at('2026-01-02T00:00Z'); t < at('2028-01-01T00:00Z'); t += DAY) {
    const offset = DateTime.fromMillis(t, { zone }).offset;
    if (offset !== previous) changes.push({ zone, after: t });
    previous = offset;
  }
  return changes;
});

function wallMs(dt: DateTime): number {
  return ((dt.hour * 60 + dt.minute) * 60 + dt.second) * 1000 + dt.millisecond;
}

function hhmmMs(s: string): number {
  const [h, m] = s.split(':').map(Number);
  return ((h as number) * 60 + (m as number)) * MINUTE;
}

/** True when the local clock already showed this time earlier (the second pass after fall-back). */
function isRepeatedLocalTime(t: number, zone: string): boolean {
  const now = DateTime.fromMillis(t, { zone }).offset;
  const before = DateTime.fromMillis(t - 3 * HOUR, { zone }).offset;
  const setBack = before - now;
  return setBack > 0 && DateTime.fromMillis(t - setBack * MINUTE, { zone }).offset === before;
}

function insideHours(hours: HoursRule[], zone: string, t: number): boolean {
  if (isRepeatedLocalTime(t, zone)) return false;
  const local = DateTime.fromMillis(t, { zone });
  const ms = wallMs(local);
  return hours.some((h) => h.days.includes(local.weekday) && ms >= hhmmMs(h.start) && ms < hhmmMs(h.end));
}

function oraclePermits(r: CallingRules, t: number): boolean {
  if (t < r.notBefore) return false;
  if (!r.zones.every((zone) => insideHours(r.legalHours, zone, t))) return false;
  if (!insideHours(r.center.hours, r.center.timezone, t)) return false;
  const centerDate = DateTime.fromMillis(t, { zone: r.center.timezone }).toISODate() ?? '';
  if (r.center.closedDates.includes(centerDate)) return false;
  const preferred = r.preferredWindows ?? [];
  if (preferred.length > 0 && !preferred.some((w) => w.start <= t && t < w.end)) return false;
  const inLast = (windowMs: number): number => r.attemptTimes.filter((a) => a > t - windowMs && a <= t).length;
  return inLast(DAY) < r.caps.perDay && inLast(WEEK) < r.caps.perWeek;
}

/** Every 15 minutes on the UTC grid (where most boundaries fall), plus `from` itself. */
function gridPoints(from: number, until: number): number[] {
  const points = from < until ? [from] : [];
  for (let t = Math.ceil(from / (15 * MINUTE)) * 15 * MINUTE; t < until; t += 15 * MINUTE) points.push(t);
  return points;
}

/** Quarter hours, any minute, and the small hours where DST changes happen. */
const hhmmArb = fc
  .oneof(
    fc.integer({ min: 0, max: 96 }).map((q) => q * 15),
    fc.integer({ min: 0, max: 1440 }),
    fc.integer({ min: 0, max: 16 }).map((q) => q * 15),
  )
  .map((m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`);

const hoursRuleArb: fc.Arbitrary<HoursRule> = fc.record({
  days: fc.oneof(fc.constant(EVERY_DAY), fc.subarray(EVERY_DAY)),
  start: hhmmArb,
  end: hhmmArb,
});

/** Mostly broad hours, so searches usually succeed, sometimes narrow or empty ones. */
const hoursArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(daily('08:00', '21:00')) },
  { weight: 1, arbitrary: fc.constant(daily('00:00', '24:00')) },
  { weight: 4, arbitrary: fc.array(hoursRuleArb, { minLength: 1, maxLength: 3 }) },
);

/**
 * A zone to focus on and a start: anywhere in 2026-2027, but mostly just before one of that
 * zone's DST changes, where mistakes hide.
 */
const focusArb = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      zone: fc.constantFrom(...ZONES),
      from: fc.integer({ min: at('2026-01-01T00:00Z'), max: at('2027-12-31T00:00Z') }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom(...DST_CHANGES), fc.integer({ min: -36 * HOUR, max: 6 * HOUR }))
      .map(([change, shift]) => ({ zone: change.zone, from: change.after + shift })),
  },
);

const scenarioArb = focusArb.chain(({ zone, from }) =>
  fc.record({
    from: fc.constant(from),
    rules: fc.record({
      zones: fc
        .oneof(
          { weight: 3, arbitrary: fc.constant([]) },
          { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom(...ZONES), { minLength: 1, maxLength: 2 }) },
        )
        .map((others) => [...new Set([zone, ...others])]),
      legalHours: hoursArb,
      center: fc.record({
        timezone: fc.oneof(fc.constant(zone), fc.constant('UTC'), fc.constantFrom(...ZONES)),
        hours: hoursArb,
        closedDates: fc.array(
          fc.integer({ min: -2, max: 4 }).map((k) => new Date(from + k * DAY).toISOString().slice(0, 10)),
          { maxLength: 2 },
        ),
      }),
      preferredWindows: fc.option(
        fc.array(
          fc
            .tuple(fc.integer({ min: -DAY, max: 3 * DAY }), fc.integer({ min: 0, max: 2 * DAY }))
            .map(([offset, length]) => ({ start: from + offset, end: from + offset + length })),
          { maxLength: 3 },
        ),
        { freq: 2 },
      ),
      caps: fc.oneof(
        fc.constant({ perDay: 100, perWeek: 100 }),
        fc.record({ perDay: fc.integer({ min: 1, max: 4 }), perWeek: fc.integer({ min: 1, max: 10 }) }),
      ),
      attemptTimes: fc.array(fc.integer({ min: -8 * DAY, max: 2 * DAY }).map((d) => from + d), { maxLength: 10 }),
      notBefore: fc.oneof(fc.constant(0), fc.integer({ min: -DAY, max: DAY }).map((d) => from + d)),
    }),
  }),
);

const horizonArb = fc.integer({ min: HOUR, max: 3 * DAY });
/** Where to probe between two instants, besides the 15-minute grid. */
const fractionsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 });

describe('properties against the oracle', () => {
  it('earliestPermitted returns a permitted instant and skips none before it', () => {
    fc.assert(
      fc.property(scenarioArb, horizonArb, fractionsArb, ({ from, rules: r }, horizon, fractions) => {
        const start = Math.max(from, r.notBefore);
        const found = earliestPermitted(r, from, horizon);
        const searchedUntil = found ?? start + horizon;
        if (found !== null) {
          expect(found).toBeGreaterThanOrEqual(from);
          expect(found).toBeGreaterThanOrEqual(r.notBefore);
          expect(found).toBeLessThan(start + horizon);
          expect(isPermitted(r, found)).toBe(true);
          expect(oraclePermits(r, found)).toBe(true);
          if (found > start) expect(oraclePermits(r, found - 1)).toBe(false);
        }
        const randomPoints = fractions.map((f) => Math.floor(start + f * (searchedUntil - start)));
        const samples = gridPoints(start, searchedUntil).concat(randomPoints);
        const skipped = samples.filter((t) => t < searchedUntil && oraclePermits(r, t));
        expect(skipped).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('permittedIntervals is normalized and agrees with the oracle inside, outside and at every edge', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: HOUR, max: 2 * DAY }), ({ from, rules: r }, length) => {
        const until = from + length;
        const start = Math.max(from, r.notBefore);
        const list = permittedIntervals(r, from, until);
        list.forEach((x, i) => {
          expect(x.start).toBeLessThan(x.end);
          expect(x.start).toBeGreaterThanOrEqual(start);
          expect(x.end).toBeLessThanOrEqual(until);
          const next = list[i + 1];
          if (next) expect(next.start).toBeGreaterThan(x.end);
        });
        const inside = list.flatMap((x) => [x.start, x.end - 1, Math.floor((x.start + x.end) / 2)]);
        const outside = list.flatMap((x) => [x.start - 1, x.end]).filter((t) => t >= start && t < until);
        expect(inside.filter((t) => !oraclePermits(r, t))).toEqual([]);
        expect(outside.filter((t) => oraclePermits(r, t))).toEqual([]);
        const disagreements = gridPoints(start, until).filter((t) => contains(list, t) !== oraclePermits(r, t));
        expect(disagreements).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('nextIntervals is the start of permittedIntervals over the same horizon', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 1, max: 5 }), ({ from, rules: r }, limit) => {
        const horizonMs = 10 * DAY;
        const start = Math.max(from, r.notBefore);
        const expected = permittedIntervals(r, start, start + horizonMs).slice(0, limit);
        expect(nextIntervals(r, from, { limit, horizonMs })).toEqual(expected);
        expect(earliestPermitted(r, from, horizonMs)).toBe(expected[0]?.start ?? null);
      }),
      { numRuns: 100 },
    );
  });
});
