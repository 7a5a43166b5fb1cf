/**
 * The customer web pages (SPEC §7, §8), server-rendered, working without JavaScript. Mounted at
 * '/', so every middleware here names its paths: a bare `use('*')` would also run on the API.
 */
import { Hono } from 'hono';
import { selectLanguage, type PagesEnv } from './context.js';
import { pageError } from './errors.js';
import { STYLESHEET_PATH } from './layout.js';
import { csrfGuard, noStore, pageSecurityHeaders } from './security.js';
import { PAGES_CSS } from './styles.js';
import { offerPages } from './offer.js';
import { optOutPages } from './opt-out.js';
import { reportPages } from './report.js';
import { verifyPages } from './verify.js';

const PAGE_PATHS = ['/verify/*', '/v/*', '/o/*', '/opt-out/*', '/report/*'];

export function pagesRouter() {
  const app = new Hono<PagesEnv>();

  app.get(STYLESHEET_PATH, (c) =>
    c.body(PAGES_CSS, 200, {
      'content-type': 'text/css; charset=utf-8',
      'cache-control': 'public, max-age=3600',
      'x-content-type-options': 'nosniff',
    }),
  );

  const security = pageSecurityHeaders();
  for (const path of PAGE_PATHS) app.use(path, selectLanguage, security, noStore, csrfGuard);

  app.route('/', verifyPages());
  app.route('/', reportPages());
  app.route('/', offerPages());
  app.route('/', optOutPages());
  app.onError(pageError);
  return app;
}
