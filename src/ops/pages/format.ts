import { DateTime } from 'luxon';

/** How the ops pages write numbers, rates, times and status names. */

const nf = new Intl.NumberFormat('en-US');

export const n = (v: number) => nf.format(v);

export const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(v >= 0.995 || v === 0 ? 0 : 1)}%`);

/** An instant in the given zone; '–' for none. */
export const local = (iso: string | null, tz: string, format = 'LLL d, HH:mm') =>
  iso === null ? '–' : DateTime.fromISO(iso, { zone: tz }).toFormat(format);

/** "in 1 h 20 min" / "2 h 5 min ago", to the minute. */
export function relative(iso: string, nowIso: string): string {
  const minutes = Math.round((Date.parse(iso) - Date.parse(nowIso)) / 60_000);
  const abs = Math.abs(minutes);
  const text = abs >= 60 ? `${Math.floor(abs / 60)} h ${abs % 60} min` : `${abs} min`;
  return minutes >= 0 ? `in ${text}` : `${text} ago`;
}

/** A status or outcome as words: `awaiting_consent` → `awaiting consent`. */
export const words = (status: string) => status.replaceAll('_', ' ');
