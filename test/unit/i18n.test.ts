import { describe, expect, it } from 'vitest';
import { LANGUAGES, MESSAGES, parseAcceptLanguage, pickLanguage, type Messages } from '../../src/i18n/index.js';

const keysOf = (m: Messages) => Object.keys(m).sort();

/** Distinct sample values, so a text that drops or swaps a variable is caught. */
const SAMPLE: Record<string, string | number> = {
  brand: 'BRAND-X',
  company: 'COMPANY-Y',
  page: 'PAGE-Z',
  number: '+60 3-1234 5678',
  phone: '+1 212-555-0123',
  zone: 'Asia/Kuala_Lumpur',
  time: 'TIME-T',
  minutes: 17,
};

/** The variables a message function reads, found by calling it with a recording proxy. */
function variablesOf(fn: (v: never) => string): string[] {
  const read = new Set<string>();
  const proxy = new Proxy({}, { get: (_t, key) => (read.add(String(key)), SAMPLE[String(key)] ?? `?${String(key)}?`) });
  fn(proxy as never);
  return [...read].sort();
}

describe('messages (zh-CN, en, ms)', () => {
  it('every language has exactly the same keys', () => {
    for (const lang of LANGUAGES) expect(keysOf(MESSAGES[lang]), lang).toEqual(keysOf(MESSAGES.en));
  });

  it('every text is non-empty, and every templated text uses the same variables in every language', () => {
    for (const [key, english] of Object.entries(MESSAGES.en)) {
      for (const lang of LANGUAGES) {
        const value = (MESSAGES[lang] as Record<string, unknown>)[key];
        expect(typeof value, `${lang}.${key}`).toBe(typeof english);
        if (typeof value === 'string') {
          expect(value.trim().length, `${lang}.${key}`).toBeGreaterThan(0);
          continue;
        }
        const fn = value as (v: never) => string;
        const vars = variablesOf(english as (v: never) => string);
        expect(variablesOf(fn), `${lang}.${key}`).toEqual(vars);
        const text = fn(SAMPLE as never);
        for (const name of vars) expect(text, `${lang}.${key} shows ${name}`).toContain(String(SAMPLE[name]));
        expect(text).not.toMatch(/undefined|\?\w+\?/);
      }
    }
  });

  it('the other languages are translated, not English copies (a few words are the same everywhere)', () => {
    const sameEverywhere = new Set(['htmlTitle']);
    for (const lang of ['zh-CN', 'ms'] as const) {
      const copies = Object.keys(MESSAGES.en).filter((key) => {
        if (sameEverywhere.has(key)) return false;
        const a = (MESSAGES.en as Record<string, unknown>)[key];
        const b = (MESSAGES[lang] as Record<string, unknown>)[key];
        return typeof a === 'string' ? a === b : (a as (v: never) => string)(SAMPLE as never) === (b as (v: never) => string)(SAMPLE as never);
      });
      expect(copies, lang).toEqual([]);
    }
  });

  it('no text carries markup: the pages escape text, so tags would show up literally', () => {
    for (const lang of LANGUAGES) {
      for (const [key, value] of Object.entries(MESSAGES[lang])) {
        const text = typeof value === 'string' ? value : (value as (v: never) => string)(SAMPLE as never);
        expect(text, `${lang}.${key}`).not.toMatch(/<[a-z/]/i);
      }
    }
  });
});

describe('language selection', () => {
  it('?lang= wins over Accept-Language', () => {
    expect(pickLanguage('ms', 'zh-CN,zh;q=0.9')).toBe('ms');
    expect(pickLanguage('zh-CN', 'en')).toBe('zh-CN');
    expect(pickLanguage('en', 'ms')).toBe('en');
  });

  it('a ?lang= in another spelling of a supported language still counts', () => {
    expect(pickLanguage('zh', undefined)).toBe('zh-CN');
    expect(pickLanguage('zh-cn', undefined)).toBe('zh-CN');
    expect(pickLanguage('ms-MY', undefined)).toBe('ms');
  });

  it('an unknown ?lang= falls back to Accept-Language, then English', () => {
    expect(pickLanguage('fr', 'ms-MY')).toBe('ms');
    expect(pickLanguage('<script>', undefined)).toBe('en');
    expect(pickLanguage(undefined, undefined)).toBe('en');
    expect(pickLanguage(undefined, '')).toBe('en');
  });

  it('reads Accept-Language by quality, skipping unsupported and refused languages', () => {
    expect(pickLanguage(undefined, 'fr-FR,fr;q=0.9,ms;q=0.8,en;q=0.7')).toBe('ms');
    expect(pickLanguage(undefined, 'en;q=0.5, zh-Hans-CN;q=0.9')).toBe('zh-CN');
    expect(pickLanguage(undefined, 'zh-TW')).toBe('zh-CN');
    expect(pickLanguage(undefined, 'ms;q=0, en-US')).toBe('en');
    expect(pickLanguage(undefined, 'de, *')).toBe('en');
    expect(pickLanguage(undefined, 'ms;q=0.5, zh;q=0.5')).toBe('ms'); // equal quality: header order
  });

  it('parses malformed headers without throwing', () => {
    expect(parseAcceptLanguage(';;;,,,q=1')).toEqual([]);
    expect(parseAcceptLanguage('en;q=abc')).toEqual([]);
    expect(parseAcceptLanguage('x'.repeat(10_000))).toEqual([]);
    expect(parseAcceptLanguage('ms-MY;q=0.4, en-GB;q=0.6')).toEqual(['en-GB', 'ms-MY']);
    expect(pickLanguage(undefined, 'a,'.repeat(5000) + 'ms')).toBe('en'); // only the first 20 entries are read
  });
});
