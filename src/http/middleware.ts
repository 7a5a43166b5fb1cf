import { createMiddleware } from 'hono/factory';
import type { AppDeps, AppEnv } from './context.js';
import { AppError } from './errors.js';
import { findPrincipal, type Role } from '../services/api-keys.js';

/** Hands the dependencies to every handler through the typed context. */
export const injectDeps = (deps: AppDeps) =>
  createMiddleware<AppEnv>(async (c, next) => {
    c.set('deps', deps);
    await next();
  });

/** Paths that carry a customer's secret token: the token never reaches the logs. */
const TOKEN_PATHS = /^(\/v|\/o|\/v1\/public\/offers)\/[^/]+/;
export const loggablePath = (path: string) => path.replace(TOKEN_PATHS, '$1/:token');

/** One structured line per request, carrying the request id; never the body, headers or tokens. */
export const requestLogger = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  const logger = c.var.deps.logger.child({ requestId: c.var.requestId });
  c.set('logger', logger);
  await next();
  logger.info(
    {
      method: c.req.method,
      path: loggablePath(c.req.path),
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    },
    'request',
  );
});

const JSON_MEDIA = /^application\/([\w.-]+\+)?json$/i;

/** Bodies of the JSON API must say they are JSON; anything else is 415 rather than a silent `{}`. */
export const requireJsonBody = createMiddleware<AppEnv>(async (c, next) => {
  const method = c.req.method;
  if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
    // Headers first: touching `raw.body` makes @hono/node-server build a full Request object.
    const length = c.req.header('content-length');
    const hasBody =
      length !== undefined ? Number(length) > 0 : c.req.header('transfer-encoding') !== undefined || c.req.raw.body !== null;
    const mediaType = (c.req.header('content-type') ?? '').split(';')[0]!.trim();
    if (hasBody && !JSON_MEDIA.test(mediaType)) {
      throw new AppError('unsupported_media_type', `expected application/json, got ${mediaType || 'no content type'}`);
    }
  }
  await next();
});

/**
 * Operations that take no body (claim, release): an empty body or `{}` passes; anything else is
 * refused rather than ignored, so a client that thinks it is sending options learns it is not.
 */
export const refuseBody = createMiddleware<AppEnv>(async (c, next) => {
  const text = c.req.header('content-length') === '0' ? '' : await c.req.text();
  if (text.trim() !== '') {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new AppError('malformed_json', 'the body is not valid JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).length > 0) {
      const message = 'this operation takes no body: send none, or {}';
      throw new AppError('validation_failed', message, { errors: [{ path: '(body)', message }] });
    }
  }
  await next();
});

/** Staff authentication and role check (SPEC §10): no or bad key 401, wrong role 403. */
export const requireRole = (...roles: Role[]) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const principal = match ? await findPrincipal(c.var.deps.db, match[1]!) : null;
    if (!principal) throw new AppError('unauthorized', 'a valid API key is required (Authorization: Bearer <key>)');
    if (!roles.includes(principal.role)) {
      throw new AppError('forbidden', `this operation needs role ${roles.join(' or ')}`);
    }
    c.set('principal', principal);
    await next();
  });
