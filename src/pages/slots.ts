import { DateTime } from 'luxon';

export interface Slot {
  start: string;
  end: string;
}

/** Pieces shorter than this are not worth offering: the call could hardly fit. */
const MIN_SLOT_MS = 15 * 60_000;

/**
 * The choices shown to the customer: permitted intervals cut at local midnight, so a choice is
 * "this day, from … to …" even when calling is permitted for days on end, the first `max` kept.
 */
export function daySlots(intervals: readonly Slot[], zone: string, max: number): Slot[] {
  const slots: Slot[] = [];
  for (const interval of intervals) {
    let start = DateTime.fromISO(interval.start, { zone });
    const end = DateTime.fromISO(interval.end, { zone });
    while (start < end && slots.length < max) {
      const midnight = start.plus({ days: 1 }).startOf('day');
      const pieceEnd = midnight < end ? midnight : end;
      if (pieceEnd.toMillis() - start.toMillis() >= MIN_SLOT_MS) {
        slots.push({ start: start.toUTC().toISO()!, end: pieceEnd.toUTC().toISO()! });
      }
      start = pieceEnd;
    }
  }
  return slots;
}

/** Whether an instant lies inside one of the offered slots: the page accepts only its own choices. */
export const withinSlots = (slots: readonly Slot[], at: number) =>
  slots.some((s) => Date.parse(s.start) <= at && at < Date.parse(s.end));

/** A choice as the customer reads it: the day, then the hours ("20:30–24:00": a piece ends at midnight). */
export function describeSlot(slot: Slot, zone: string, locale: string): { day: string; hours: string } {
  const start = DateTime.fromISO(slot.start, { zone });
  const end = DateTime.fromISO(slot.end, { zone });
  const day = new Intl.DateTimeFormat(locale, { timeZone: zone, weekday: 'long', day: 'numeric', month: 'long' }).format(start.toJSDate());
  const endsAtMidnight = end.hour === 0 && end.minute === 0 && end > start;
  return { day, hours: `${start.toFormat('HH:mm')}–${endsAtMidnight ? '24:00' : end.toFormat('HH:mm')}` };
}
