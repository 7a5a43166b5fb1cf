import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Interval, clip, contains, intersect, normalize, subtract } from '../../src/domain/intervals.js';

const iv = (start: number, end: number): Interval => ({ start, end });

/** Endpoints are integers, so integer points and the half-points between them decide membership. */
const PROBES = Array.from({ length: 2 * 70 }, (_, i) => i / 2 - 2);

function inUnion(list: Interval[], t: number): boolean {
  return list.some((x) => x.start <= t && t < x.end);
}

/** The probes a list covers, so one expectation compares a whole set. */
function members(list: Interval[]): number[] {
  return PROBES.filter((t) => inUnion(list, t));
}

function expectNormalized(list: Interval[]): void {
  list.forEach((x, i) => {
    expect(x.start).toBeLessThan(x.end);
    const next = list[i + 1];
    // Strictly greater: touching intervals must have been merged.
    if (next) expect(next.start).toBeGreaterThan(x.end);
  });
}

const intervalArb = fc
  .tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: -5, max: 20 }))
  .map(([start, length]) => iv(start, start + length));
const listArb = fc.array(intervalArb, { maxLength: 8 });

describe('normalize', () => {
  it('sorts, drops empty intervals and merges overlapping and touching ones', () => {
    expect(normalize([iv(10, 12), iv(5, 5), iv(1, 3), iv(3, 4), iv(11, 15), iv(8, 7), iv(20, 21)])).toEqual([
      iv(1, 4),
      iv(10, 15),
      iv(20, 21),
    ]);
  });

  it('does not mutate its input', () => {
    const input = [iv(3, 5), iv(1, 4)];
    normalize(input);
    expect(input).toEqual([iv(3, 5), iv(1, 4)]);
  });

  it('keeps the same set of points and is idempotent (property)', () => {
    fc.assert(
      fc.property(listArb, (list) => {
        const n = normalize(list);
        expectNormalized(n);
        expect(members(n)).toEqual(members(list));
        expect(normalize(n)).toEqual(n);
      }),
    );
  });
});

describe('intersect, subtract, clip, contains', () => {
  it('intersect keeps what both lists cover', () => {
    expect(intersect([iv(0, 10), iv(20, 30)], [iv(5, 25)])).toEqual([iv(5, 10), iv(20, 25)]);
    expect(intersect([iv(0, 10)], [iv(10, 20)])).toEqual([]);
    expect(intersect([], [iv(0, 1)])).toEqual([]);
  });

  it('subtract removes holes, including ones spanning several intervals', () => {
    expect(subtract([iv(0, 10), iv(20, 30)], [iv(5, 25)])).toEqual([iv(0, 5), iv(25, 30)]);
    expect(subtract([iv(0, 10)], [iv(2, 3), iv(5, 6)])).toEqual([iv(0, 2), iv(3, 5), iv(6, 10)]);
    expect(subtract([iv(0, 10)], [iv(-5, 15)])).toEqual([]);
    expect(subtract([iv(0, 10)], [])).toEqual([iv(0, 10)]);
  });

  it('clip cuts to a range and treats an empty range as empty', () => {
    expect(clip([iv(0, 10), iv(20, 30)], 5, 25)).toEqual([iv(5, 10), iv(20, 25)]);
    expect(clip([iv(0, 10)], 5, 5)).toEqual([]);
    expect(clip([iv(0, 10)], 7, 3)).toEqual([]);
  });

  it('contains is half-open', () => {
    const list = [iv(0, 10), iv(20, 30)];
    expect(contains(list, 0)).toBe(true);
    expect(contains(list, 9.999)).toBe(true);
    expect(contains(list, 10)).toBe(false);
    expect(contains(list, 25)).toBe(true);
    expect(contains(list, 30)).toBe(false);
    expect(contains([], 0)).toBe(false);
  });

  it('agree with point-set semantics on normalized inputs (property)', () => {
    fc.assert(
      fc.property(
        listArb,
        listArb,
        fc.integer({ min: -2, max: 70 }),
        fc.integer({ min: -2, max: 70 }),
        (rawA, rawB, lo, hi) => {
          const a = normalize(rawA);
          const b = normalize(rawB);
          const both = intersect(a, b);
          const diff = subtract(a, b);
          const clipped = clip(a, lo, hi);
          for (const list of [both, diff, clipped]) expectNormalized(list);
          expect(members(both)).toEqual(PROBES.filter((t) => inUnion(a, t) && inUnion(b, t)));
          expect(members(diff)).toEqual(PROBES.filter((t) => inUnion(a, t) && !inUnion(b, t)));
          expect(members(clipped)).toEqual(PROBES.filter((t) => inUnion(a, t) && lo <= t && t < hi));
          expect(PROBES.filter((t) => contains(a, t))).toEqual(members(a));
        },
      ),
      { numRuns: 300 },
    );
  });
});
