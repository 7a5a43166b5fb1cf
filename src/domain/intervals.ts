/**
 * A small algebra over sets of instants, each set a list of half-open intervals [start, end)
 * in epoch milliseconds. "Normalized" means sorted, non-empty, disjoint and not touching:
 * every function here returns normalized lists, and the binary operations expect them.
 */

export interface Interval {
  start: number;
  end: number;
}

export function normalize(list: Interval[]): Interval[] {
  const sorted = list.filter((iv) => iv.start < iv.end).sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    // Touching intervals merge too, so equal sets always have equal representations.
    if (last && iv.start <= last.end) {
      last.end = Math.max(last.end, iv.end);
    } else {
      out.push({ start: iv.start, end: iv.end });
    }
  }
  return out;
}

export function intersect(a: Interval[], b: Interval[]): Interval[] {
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as Interval;
    const y = b[j] as Interval;
    const start = Math.max(x.start, y.start);
    const end = Math.min(x.end, y.end);
    if (start < end) out.push({ start, end });
    // Whichever ends first can meet nothing further in the other list.
    if (x.end < y.end) i++;
    else j++;
  }
  return out;
}

export function subtract(a: Interval[], b: Interval[]): Interval[] {
  const out: Interval[] = [];
  let j = 0;
  for (const x of a) {
    let start = x.start;
    // Holes that end before this interval cannot touch any later interval either.
    while (j < b.length && (b[j] as Interval).end <= start) j++;
    let k = j;
    while (k < b.length && (b[k] as Interval).start < x.end) {
      const hole = b[k] as Interval;
      if (hole.start > start) out.push({ start, end: hole.start });
      start = Math.max(start, hole.end);
      k++;
    }
    if (start < x.end) out.push({ start, end: x.end });
  }
  return out;
}

export function clip(list: Interval[], start: number, end: number): Interval[] {
  if (!(start < end)) return [];
  return intersect(list, [{ start, end }]);
}

export function contains(list: Interval[], t: number): boolean {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const iv = list[mid] as Interval;
    if (t < iv.start) hi = mid - 1;
    else if (t >= iv.end) lo = mid + 1;
    else return true;
  }
  return false;
}
