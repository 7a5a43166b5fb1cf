/** The languages of the customer pages (SPEC §7), and how a request picks one. */
export const LANGUAGES = ['en', 'zh-CN', 'ms'] as const;
export type Lang = (typeof LANGUAGES)[number];
export const DEFAULT_LANG: Lang = 'en';

export const isLang = (value: unknown): value is Lang => LANGUAGES.includes(value as Lang);

/** The name of each language in itself, for the switcher. */
export const LANGUAGE_NAMES: Readonly<Record<Lang, string>> = { en: 'English', 'zh-CN': '中文', ms: 'Bahasa Melayu' };

/** Locale for dates and numbers: British English writes 24-hour times and day-month order, as Malaysia does. */
export const DATE_LOCALES: Readonly<Record<Lang, string>> = { en: 'en-GB', 'zh-CN': 'zh-CN', ms: 'ms-MY' };

/**
 * Maps one BCP 47 tag to a supported language by its primary subtag: every Chinese variant gets
 * the simplified pages (better than English for a Chinese reader), `ms-*` Malay, `en-*` English.
 */
function matchTag(tag: string): Lang | null {
  const primary = tag.trim().toLowerCase().split('-')[0];
  if (primary === 'zh') return 'zh-CN';
  if (primary === 'ms') return 'ms';
  if (primary === 'en') return 'en';
  return null;
}

/** A BCP 47 language range without the `*` wildcard, which never selects a page language. */
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

/** Accept-Language entries by descending quality; entries with q=0 mean "not this one" and are dropped. */
export function parseAcceptLanguage(header: string): string[] {
  return header
    .split(',')
    .slice(0, 20)
    .map((part, index) => {
      const [tag = '', ...params] = part.split(';');
      const q = params.map((p) => /^\s*q\s*=(.*)$/i.exec(p)?.[1]).find((v) => v !== undefined);
      // A malformed weight makes the entry count as refused rather than as the most wanted.
      const quality = q === undefined ? 1 : /^\s*(0(\.\d{0,3})?|1(\.0{0,3})?)\s*$/.test(q) ? Number(q) : 0;
      return { tag: tag.trim(), quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter((e) => LANGUAGE_TAG.test(e.tag) && e.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index)
    .map((e) => e.tag);
}

/** `?lang=` wins, then the browser's Accept-Language, then English. */
export function pickLanguage(query: string | undefined, acceptLanguage: string | undefined): Lang {
  if (isLang(query)) return query;
  if (query) {
    const matched = matchTag(query);
    if (matched) return matched;
  }
  for (const tag of parseAcceptLanguage(acceptLanguage ?? '')) {
    const matched = matchTag(tag);
    if (matched) return matched;
  }
  return DEFAULT_LANG;
}
