/**
 * Protection of the customer pages: strict security headers, no caching, and forms that only our
 * own pages can post (an Origin / Sec-Fetch-Site check AND a double-submit token).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import type { PagesEnv } from './context.js';

/** The form field that carries the token; the cookie holds the same value. */
export const CSRF_FIELD = 'csrf';
const COOKIE_SECURE = '__Host-sc_csrf';
const COOKIE_PLAIN = 'sc_csrf';
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Nothing but our own stylesheet and forms: no script runs on these pages at all. */
export const pageSecurityHeaders = () =>
  secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
    referrerPolicy: 'no-referrer',
    xFrameOptions: 'DENY',
    crossOriginResourcePolicy: 'same-origin',
    crossOriginOpenerPolicy: 'same-origin',
    permissionsPolicy: { camera: [], microphone: [], geolocation: [], payment: [] },
  });

/** Results carry codes, names and case references: no browser or proxy may keep them. */
export const noStore = createMiddleware<PagesEnv>(async (c, next) => {
  await next();
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');
});

/**
 * Whether the browser talks to us over https. Behind a TLS-terminating proxy the request URL
 * says http, so X-Forwarded-Proto counts, but only when TRUST_PROXY says a proxy sets it.
 */
export function isHttps(c: Context<PagesEnv>): boolean {
  if (new URL(c.req.url).protocol === 'https:') return true;
  if (!c.var.deps.config.TRUST_PROXY) return false;
  return (c.req.header('x-forwarded-proto') ?? '').split(',')[0]!.trim().toLowerCase() === 'https';
}

/** `__Host-` (https only) pins the cookie to this exact host and path /, so a sibling subdomain cannot plant one. */
const cookieName = (c: Context<PagesEnv>) => (isHttps(c) ? COOKIE_SECURE : COOKIE_PLAIN);

/** The page's token: the one the browser already holds, or a new one set as a cookie now. */
export function csrfToken(c: Context<PagesEnv>): string {
  const existing = c.get('csrfToken');
  if (existing) return existing;
  const name = cookieName(c);
  const fromCookie = getCookie(c, name);
  const token = fromCookie && TOKEN_PATTERN.test(fromCookie) ? fromCookie : randomBytes(32).toString('base64url');
  if (token !== fromCookie) {
    setCookie(c, name, token, { path: '/', httpOnly: true, sameSite: 'Strict', secure: isHttps(c) });
  }
  c.set('csrfToken', token);
  return token;
}

const sameToken = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Our own origins: the public address and the one the request came in on (tests, a direct port). */
function isOwnOrigin(origin: string, c: Context<PagesEnv>): boolean {
  return origin === new URL(c.req.url).origin || origin === new URL(c.var.deps.config.PUBLIC_BASE_URL).origin;
}

const originCheck = csrf({ origin: isOwnOrigin });

/** Thrown when a form post fails either check; the pages render it as a friendly 403. */
export class CsrfRefused extends Error {
  constructor(readonly why: 'origin' | 'token') {
    super(`cross-site form post refused (${why})`);
  }
}

/**
 * Every unsafe request to a page must pass both checks: the browser says it comes from our origin
 * (hono/csrf: Sec-Fetch-Site same-origin or a matching Origin), and the form carries the token
 * that matches our SameSite=Strict, HttpOnly cookie. Any body that is not a form has no token
 * and is refused too.
 */
export const csrfGuard = createMiddleware<PagesEnv>(async (c, next) => {
  if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
  try {
    await originCheck(c, async () => {});
  } catch (err) {
    if (err instanceof HTTPException && err.status === 403) throw new CsrfRefused('origin');
    throw err;
  }
  const cookie = getCookie(c, cookieName(c));
  const type = c.req.header('content-type') ?? '';
  const form = /^application\/x-www-form-urlencoded\b|^multipart\/form-data\b/i.test(type) ? await c.req.parseBody() : {};
  const field = form[CSRF_FIELD];
  if (!cookie || typeof field !== 'string' || !TOKEN_PATTERN.test(cookie) || !sameToken(cookie, field)) {
    throw new CsrfRefused('token');
  }
  c.set('csrfToken', cookie);
  await next();
});
