import { createHmac } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { createMiddleware } from 'hono/factory';
import type { Config } from '../config.js';
import { apiKeys } from '../db/schema/index.js';
import type { AppEnv } from '../http/context.js';
import { AppError } from '../http/errors.js';
import { findPrincipal, type Principal, type Role } from '../services/api-keys.js';

/**
 * Browser login for the ops pages (SPEC §10: "browser pages for ops use the same keys").
 *
 * The cookie holds a signed session `<api key id>.<expiry>`, not the key itself: a key is a
 * long-lived credential for the whole API, and a cookie can end up in places a key should not
 * (a browser profile, a crash dump). The session is checked against api_keys on every request,
 * so revoking the key ends its sessions at once; the expiry bounds a stolen cookie.
 */

export const OPS_ROLES: Role[] = ['ops', 'admin'];
export const SESSION_TTL_SECONDS = 12 * 3600;
const COOKIE_NAME = 'sc_ops_session';

/** A key of its own for cookie signatures, derived from SECRET_KEY so it never equals another use of it. */
const cookieSecret = (config: Config) => createHmac('sha256', config.SECRET_KEY).update('ops-session-cookie/v1').digest();

/** Over https the cookie is Secure and `__Host-` prefixed (no Domain, Path=/), so no sibling host can set it. */
const isSecure = (config: Config) => new URL(config.PUBLIC_BASE_URL).protocol === 'https:';
const prefixOf = (config: Config) => (isSecure(config) ? ('host' as const) : undefined);

export async function startSession(c: Context<AppEnv>, principal: Principal): Promise<void> {
  const { config, now } = c.var.deps;
  const expires = Math.floor(now().getTime() / 1000) + SESSION_TTL_SECONDS;
  await setSignedCookie(c, COOKIE_NAME, `${principal.keyId}.${expires}`, cookieSecret(config), {
    path: '/',
    httpOnly: true,
    sameSite: 'Strict',
    secure: isSecure(config),
    maxAge: SESSION_TTL_SECONDS,
    prefix: prefixOf(config),
  });
}

export function endSession(c: Context<AppEnv>): void {
  const { config } = c.var.deps;
  deleteCookie(c, COOKIE_NAME, { path: '/', secure: isSecure(config), prefix: prefixOf(config) });
}

/** The principal of a valid, unexpired session whose key is still live; null otherwise. */
export async function sessionPrincipal(c: Context<AppEnv>): Promise<Principal | null> {
  const { config, db, now } = c.var.deps;
  const value = await getSignedCookie(c, cookieSecret(config), COOKIE_NAME, prefixOf(config));
  if (!value) return null;
  const [keyId, expires] = value.split('.');
  if (!keyId || !/^[0-9a-f-]{36}$/.test(keyId) || !(Number(expires) * 1000 > now().getTime())) return null;
  const [row] = await db
    .select({ keyId: apiKeys.id, role: apiKeys.role, agentId: apiKeys.agentId })
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)));
  return row ?? null;
}

/** Origins a browser form of ours may be posted from: this request's own, and the public one. */
function allowedOrigin(origin: string, c: Context<AppEnv>): boolean {
  return origin === new URL(c.req.url).origin || origin === new URL(c.var.deps.config.PUBLIC_BASE_URL).origin;
}

const formCsrf = csrf({ origin: allowedOrigin });

/**
 * hono/csrf on the login and logout forms (Sec-Fetch-Site or Origin must be ours). Its refusal is
 * an HTTPException, which the app would report as a 400; here it becomes the 403 it is.
 */
export const csrfProtection = createMiddleware<AppEnv>(async (c, next) => {
  try {
    await formCsrf(c, async () => {});
  } catch {
    throw new AppError('forbidden', 'cross-site form submission refused');
  }
  await next();
});

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cookie-authenticated requests that change something (bull-board's retry, clean, pause...) are
 * sent as JSON by fetch, which hono/csrf does not look at: they must come from our own pages.
 * SameSite=Strict already keeps the cookie off cross-site requests; this is the second lock.
 */
function sameOriginRequest(c: Context<AppEnv>): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin';
  const origin = c.req.header('origin');
  return origin !== undefined && allowedOrigin(origin, c);
}

const wantsHtml = (c: Context) => c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html');

/**
 * The ops pages accept the session cookie or `Authorization: Bearer <key>`, for role ops or
 * admin. A browser without a session is sent to the login form; anything else gets a problem.
 */
export const requireOpsSession = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header('authorization');
  let principal: Principal | null;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    principal = match ? await findPrincipal(c.var.deps.db, match[1]!) : null;
  } else {
    principal = await sessionPrincipal(c);
    if (principal && !SAFE_METHODS.has(c.req.method) && !sameOriginRequest(c)) {
      throw new AppError('forbidden', 'cross-site request refused');
    }
  }
  if (!principal) {
    if (header === undefined && wantsHtml(c)) {
      return c.redirect(`/ops/login?next=${encodeURIComponent(c.req.path)}`, 303);
    }
    throw new AppError('unauthorized', 'log in at /ops/login, or send Authorization: Bearer <ops or admin key>');
  }
  if (!OPS_ROLES.includes(principal.role)) throw new AppError('forbidden', 'the ops pages need role ops or admin');
  c.set('principal', principal);
  await next();
});

/** Where to go after logging in: only one of our own ops paths, never another site. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/ops(\/[\w\-./%]*)?$/.test(next) && !next.includes('//') ? next : '/ops';
}
