/** Failures on a customer page are pages too, in the customer's language, never problem+json. */
import type { Context } from 'hono';
import { AppError } from '../http/errors.js';
import { isUnavailable } from '../http/unavailable.js';
import { withLang, type PagesEnv } from './context.js';
import { renderPage, type PageView } from './layout.js';
import { CsrfRefused } from './security.js';

function Message(props: { title: string; body: string; c: Context<PagesEnv>; link?: { href: string; text: string } }) {
  return (
    <>
      <h1>{props.title}</h1>
      <p>{props.body}</p>
      {props.link ? (
        <a class="button secondary" href={props.link.href}>
          {props.link.text}
        </a>
      ) : null}
    </>
  );
}

function messagePage(c: Context<PagesEnv>, title: string, body: string, status: NonNullable<PageView['status']>) {
  return renderPage(c, {
    title,
    status,
    body: <Message c={c} title={title} body={body} link={{ href: withLang('/verify', c.var.lang), text: c.var.m.navVerify }} />,
    switchPath: '/verify',
  });
}

/** The router's onError: refused forms, rate limits and outages each get their own page and status. */
export async function pageError(err: Error, c: Context<PagesEnv>) {
  const m = c.var.m;
  const logger = c.var.logger ?? c.var.deps.logger;
  if (!m) throw err; // failed before a language was chosen: leave it to the app's handler
  c.header('Cache-Control', 'no-store');
  if (err instanceof CsrfRefused) {
    // The route pattern, not the path: /o/{token} and /v/{token} carry secrets.
    logger.warn({ why: err.why, route: c.req.routePath }, 'form post refused');
    return messagePage(c, m.forbiddenTitle, m.forbiddenBody, 403);
  }
  if (err instanceof AppError && err.code === 'rate_limited') {
    const seconds = typeof err.extra.retryAfterSeconds === 'number' ? Math.max(1, Math.ceil(err.extra.retryAfterSeconds)) : 60;
    c.header('Retry-After', String(seconds));
    return messagePage(c, m.rateLimitedTitle, m.rateLimitedBody({ minutes: Math.ceil(seconds / 60) }), 429);
  }
  if ((err instanceof AppError && err.code === 'service_unavailable') || isUnavailable(err)) {
    logger.warn({ err }, 'dependency unavailable on a customer page');
    return messagePage(c, m.unavailableTitle, m.unavailableBody, 503);
  }
  logger.error({ err }, 'unhandled error on a customer page');
  return messagePage(c, m.errorTitle, m.errorBody, 500);
}
