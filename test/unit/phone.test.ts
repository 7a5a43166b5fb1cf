import fc from 'fast-check';
import { getCountries, getExampleNumber } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import { describe, expect, it } from 'vitest';
import {
  candidateZones,
  canReceiveSms,
  isValidTimeZone,
  maskPhone,
  parsePhone,
  resolveZones,
  type Phone,
} from '../../src/domain/phone.js';

function phone(input: string, region?: string | null): Phone {
  const result = parsePhone(input, region);
  if (!result.ok) throw new Error(`expected ${input} to parse, got ${result.reason}`);
  return result.phone;
}

describe('parsePhone', () => {
  it.each([
    ['(212) 555-0123', 'US'],
    ['212.555.0123', 'us'],
    ['+1 212-555-0123', null],
    ['+1 (212) 555-0123', 'GB'],
    ['00 1 212 555 0123', 'GB'],
    ['011 1 212 555 0123', 'US'],
    ['tel:+1-212-555-0123', undefined],
    ['tel:2125550123;phone-context=+1', undefined],
    ['  +12125550123  ', undefined],
    ['＋１ ２１２ ５５５ ０１２３', undefined],
    ['（２１２）５５５－０１２３', 'US'],
  ])('accepts %j (region %s)', (input, region) => {
    expect(parsePhone(input, region)).toEqual({
      ok: true,
      phone: { e164: '+12125550123', country: 'US', type: 'fixed_line_or_mobile' },
    });
  });

  it('uses the international prefix of the given region, as libphonenumber does', () => {
    // 00 is not the US international prefix (011), so this is a too-long national number.
    expect(parsePhone('00 1 212 555 0123', 'US')).toEqual({ ok: false, reason: 'invalid' });
    expect(parsePhone('00 1 212 555 0123')).toEqual({ ok: false, reason: 'invalid' });
  });

  it('stores country and type', () => {
    expect(phone('+60 12-345 6789')).toEqual({ e164: '+60123456789', country: 'MY', type: 'mobile' });
    expect(phone('012-345 6789', 'MY')).toEqual({ e164: '+60123456789', country: 'MY', type: 'mobile' });
    expect(phone('131 2345 6789', 'CN')).toEqual({ e164: '+8613123456789', country: 'CN', type: 'mobile' });
    expect(phone('020 7946 0958', 'GB')).toEqual({ e164: '+442079460958', country: 'GB', type: 'fixed_line' });
    expect(phone('+1 800 234 5678')).toMatchObject({ type: 'toll_free' });
    expect(phone('+800 1234 5678')).toEqual({ e164: '+80012345678', country: null, type: 'toll_free' });
  });

  it.each([
    ['', 'US'],
    ['   ', 'US'],
    ['abc', 'US'],
    ['call me', undefined],
    ['1-800-FLOWERS', 'US'],
    ['call me at +1 212 555 0123', undefined],
    ['+1 212 555 0123 ext. 5', undefined],
    ['tel:+1-212-555-0123;ext=12', undefined],
    ['+1 212 555 012', undefined],
    ['555 0123', 'US'],
    ['+1 212 555 0123 4567', undefined],
    ['+1 212 555 0123', 'ZZ'],
    ['(212) 555-0123', 'USA'],
    ['(212) 555-0123', '001'],
    ['(212) 555-0123', ''],
    ['2125550123', undefined],
    ['+44 7700 900123', undefined],
    [`+1 212 555 0123${' '.repeat(50)}`, undefined],
    ['+1 212 555 0123'.padStart(65, '0'), undefined],
  ])('rejects %j (region %s) as invalid', (input, region) => {
    expect(parsePhone(input, region)).toEqual({ ok: false, reason: 'invalid' });
  });

  it.each([
    ['bidi override', '\u202E+1 212 555 0123'],
    ['bidi isolate', '+1 212 \u2066555\u2069 0123'],
    ['left-to-right mark', '+1 212 555\u200E 0123'],
    ['zero-width space', '+1 212\u200B555 0123'],
    ['zero-width joiner', '+1212555\u200D0123'],
    ['word joiner', '+1 212 555\u2060 0123'],
    ['byte order mark', '\uFEFF+1 212 555 0123'],
    ['NUL', '+1 212 555 0123\u0000'],
    ['newline', '+1 212 555 0123\n'],
    ['tab', '+1\t212 555 0123'],
    ['lone surrogate', '+1 212 555 0123\uD800'],
  ])('rejects a %s', (_name, input) => {
    expect(parsePhone(input, 'US')).toEqual({ ok: false, reason: 'invalid' });
  });

  it.each([
    ['premium rate', '+1 900 234 5678'],
    ['UK premium rate', '+44 909 876 5432'],
    ['pager', '+44 76 2345 6789'],
  ])('rejects a %s number as not callable', (_name, input) => {
    expect(parsePhone(input)).toEqual({ ok: false, reason: 'not_callable' });
  });

  it('never throws and returns only E.164 numbers, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80, unit: 'grapheme' }), fc.constantFrom(undefined, null, 'US', 'GB', 'zz'), (input, region) => {
        const result = parsePhone(input, region);
        if (result.ok) expect(result.phone.e164).toMatch(/^\+[1-9]\d{1,14}$/);
      }),
      { numRuns: 300 },
    );
  });
});

describe('canReceiveSms', () => {
  it('is true only for mobile and fixed-line-or-mobile numbers', () => {
    expect(canReceiveSms('mobile')).toBe(true);
    expect(canReceiveSms('fixed_line_or_mobile')).toBe(true);
    for (const type of ['fixed_line', 'toll_free', 'voip', 'personal_number', 'uan', 'unknown'] as const) {
      expect(canReceiveSms(type)).toBe(false);
    }
  });
});

describe('isValidTimeZone', () => {
  it.each([
    ['America/New_York', true],
    ['America/Argentina/Buenos_Aires', true],
    ['UTC', true],
    ['Etc/GMT+5', true],
    ['Mars/Olympus', false],
    ['', false],
    [' ', false],
    ['+05:00', false],
    ['-0500', false],
    ['UTC+3', false],
    ['GMT-03:00', false],
    ['America/New_York ', false],
  ])('%j → %s', (zone, valid) => {
    expect(isValidTimeZone(zone)).toBe(valid);
    expect(isValidTimeZone(zone)).toBe(valid);
  });
});

describe('candidateZones', () => {
  it.each([
    ['+12125550123', ['America/New_York']],
    ['+18085550123', ['Pacific/Honolulu']],
    ['+12085550123', ['America/Boise', 'America/Los_Angeles']],
    ['+17015550123', ['America/Denver', 'America/North_Dakota/Center']],
    ['+17012001234', ['America/Chicago']],
    ['+8613123456789', ['Asia/Shanghai']],
    ['+442079460958', ['Europe/London']],
  ])('%s → %j', (e164, zones) => {
    expect(candidateZones(e164)).toEqual(zones);
  });

  it('is empty when only the country calling code is mapped, or nothing is', () => {
    expect(candidateZones('+15002345678')).toEqual([]);
    expect(candidateZones('+60123456789')).toEqual([]);
    expect(candidateZones('+80012345678')).toEqual([]);
    expect(candidateZones('2125550123')).toEqual([]);
    expect(candidateZones('')).toEqual([]);
  });
});

describe('resolveZones', () => {
  it('prefers an explicit zone', () => {
    expect(resolveZones(phone('+12125550123'), 'Europe/Paris')).toEqual({ zones: ['Europe/Paris'], source: 'explicit' });
  });

  it('uses the number when its prefix is mapped', () => {
    expect(resolveZones(phone('+12085550123'), null)).toEqual({
      zones: ['America/Boise', 'America/Los_Angeles'],
      source: 'number',
    });
  });

  it('falls back to the zones of the country calling code', () => {
    expect(resolveZones(phone('+60123456789'))).toEqual({ zones: ['Asia/Kuching'], source: 'country' });
    expect(resolveZones(phone('+33612345678'))).toEqual({ zones: ['Europe/Paris'], source: 'country' });
    // A non-geographic +1 number gets every NANP zone, from Guam to Newfoundland.
    const nanp = resolveZones(phone('+15002345678'));
    expect(nanp.source).toBe('country');
    expect(nanp.zones).toHaveLength(42);
    expect(nanp.zones).toEqual(expect.arrayContaining(['Pacific/Guam', 'America/St_Johns', 'America/New_York']));
  });

  it('returns no zones when nothing is known, leaving the choice to the caller', () => {
    expect(resolveZones(phone('+800 1234 5678'))).toEqual({ zones: [], source: 'country' });
  });
});

describe('maskPhone', () => {
  it.each([
    ['+12125551234', '+1******1234'],
    ['+442079460958', '+44******0958'],
    ['+8613123456789', '+86*******6789'],
    ['+80012345678', '+800****5678'],
    ['+6834002', '+683**02'],
    ['not a number', '***'],
    ['', '***'],
  ])('%j → %j', (e164, masked) => {
    expect(maskPhone(e164)).toBe(masked);
  });
});

describe('example numbers of every supported country', () => {
  const exampleNumbers = getCountries().flatMap((country) => getExampleNumber(country, examples)?.number ?? []);

  it('covers every country', () => {
    expect(exampleNumbers.length).toBe(getCountries().length);
  });

  it('round-trip through parsePhone and map only to valid zones', () => {
    fc.assert(
      fc.property(fc.constantFrom(...exampleNumbers), (e164) => {
        expect(parsePhone(e164)).toMatchObject({ ok: true, phone: { e164 } });
        expect(candidateZones(e164).every(isValidTimeZone)).toBe(true);
        const { zones } = resolveZones(phone(e164));
        expect(zones.every(isValidTimeZone)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
