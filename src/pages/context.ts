import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../http/context.js';
import { messagesFor, pickLanguage, type Lang, type Messages } from '../i18n/index.js';

export interface PagesEnv {
  Variables: AppEnv['Variables'] & {
    lang: Lang;
    m: Messages;
    /** Set once per request by `csrfToken()` or the guard that checked it. */
    csrfToken?: string;
  };
}

/** SPEC §7: `?lang=` first, then Accept-Language, then English; caches must key on both. */
export const selectLanguage = createMiddleware<PagesEnv>(async (c, next) => {
  const lang = pickLanguage(c.req.query('lang'), c.req.header('accept-language'));
  c.set('lang', lang);
  c.set('m', messagesFor(lang));
  await next();
  c.header('Content-Language', lang);
  c.header('Vary', 'Accept-Language', { append: true });
});

/** A page path that keeps the chosen language, e.g. for form actions and links. */
export const withLang = (path: string, lang: Lang) => `${path}?lang=${encodeURIComponent(lang)}`;
