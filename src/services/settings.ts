import { z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { settings } from '../db/schema/index.js';
import { readCache } from '../db/read-cache.js';
import { DEFAULT_LEGAL_HOURS, LEGAL_HOURS_BY_COUNTRY, legalHoursFor, parseHHMM, type HoursRule } from '../domain/calling-rules.js';
import { isValidTimeZone, parsePhone } from '../domain/phone.js';

const HHMM_PATTERN = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const HHMM = z.string().regex(HHMM_PATTERN, 'must be HH:MM (00:00–24:00)');

export const HoursRuleSchema = z
  .object({
    days: z
      .array(z.number().int().min(1).max(7))
      .min(1)
      .max(7)
      .refine((d) => new Set(d).size === d.length, 'days must not repeat'),
    start: HHMM,
    end: HHMM,
  })
  .strict()
  // Zod runs object refinements even when a field failed: compare only well-formed times.
  .refine((r) => !HHMM_PATTERN.test(r.start) || !HHMM_PATTERN.test(r.end) || parseHHMM(r.end) > parseHHMM(r.start), {
    message: 'end must be after start (split overnight hours into two rules)',
    path: ['end'],
  })
  .openapi('HoursRule');

export const TimeZoneSchema = z.string().refine(isValidTimeZone, 'must be an IANA time zone such as Europe/London');

const CountryCode = z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code');
const IsoDate = z.iso.date();

export const CallingSettingsSchema = z
  .object({
    legalHours: z
      .object({
        default: z.array(HoursRuleSchema).max(20),
        byCountry: z.record(CountryCode, z.array(HoursRuleSchema).max(20)),
      })
      .strict(),
    center: z
      .object({
        timezone: TimeZoneSchema,
        hours: z.array(HoursRuleSchema).max(20),
        closedDates: z.array(IsoDate).max(1000),
      })
      .strict(),
    caps: z.object({ perDay: z.number().int().min(1).max(100), perWeek: z.number().int().min(1).max(500) }).strict(),
  })
  .strict()
  .openapi('CallingSettings');

export type CallingSettings = z.infer<typeof CallingSettingsSchema>;

const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];

/** Shipped calling rules: legal hours per country, a center open around the clock (admins set their own). */
export const DEFAULT_CALLING_SETTINGS: CallingSettings = {
  legalHours: { default: DEFAULT_LEGAL_HOURS, byCountry: LEGAL_HOURS_BY_COUNTRY },
  center: { timezone: 'UTC', hours: [{ days: EVERY_DAY, start: '00:00', end: '24:00' }], closedDates: [] },
  caps: { perDay: 3, perWeek: 7 },
};

export const legalHoursOf = (s: CallingSettings, country: string | null): HoursRule[] => legalHoursFor(country, s.legalHours);

export const OfficialNumbersSchema = z
  .object({
    numbers: z
      .array(
        z
          .object({ number: z.string().min(1).max(64), label: z.string().trim().min(1).max(80) })
          .strict()
          .transform((n, ctx) => {
            const parsed = parsePhone(n.number, null);
            if (!parsed.ok) {
              ctx.addIssue({ code: 'custom', message: 'not a valid phone number in international format', path: ['number'] });
              return z.NEVER;
            }
            return { number: parsed.phone.e164, label: n.label };
          }),
      )
      .max(200),
  })
  .strict()
  .openapi('OfficialNumbers');

export type OfficialNumbers = z.output<typeof OfficialNumbersSchema>;

const SETTINGS = {
  calling: { schema: CallingSettingsSchema, fallback: DEFAULT_CALLING_SETTINGS },
  official_numbers: { schema: OfficialNumbersSchema, fallback: { numbers: [] } as OfficialNumbers },
} as const;

type SettingKey = keyof typeof SETTINGS;
type SettingValue<K extends SettingKey> = K extends 'calling' ? CallingSettings : OfficialNumbers;

const cache = readCache<CallingSettings | OfficialNumbers>(2000);

export async function loadSetting<K extends SettingKey>(db: Executor, key: K): Promise<SettingValue<K>> {
  return cache.get(db, key, async () => {
    const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, key));
    return (row?.value ?? SETTINGS[key].fallback) as SettingValue<K>;
  }) as Promise<SettingValue<K>>;
}

/** Stores an already-validated document. */
export async function saveSetting<K extends SettingKey>(db: Executor, key: K, value: SettingValue<K>): Promise<void> {
  await db
    .insert(settings)
    .values({ key, value })
    .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: new Date() } });
  cache.evict(db, key);
}
