import { OpenAPIHono, createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './context.js';
import { AppError, fieldErrors, invalidField, problemResponses } from './errors.js';
import { refuseBody, requireRole } from './middleware.js';
import type { Role } from '../services/api-keys.js';

/** The path of the first string holding a NUL character (PostgreSQL cannot store one in text), or null. */
function nulCharacterPath(value: unknown, path: string[] = []): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path.join('.') || '(body)' : null;
  if (typeof value !== 'object' || value === null || value instanceof Date) return null;
  for (const [key, item] of Object.entries(value)) {
    const found = nulCharacterPath(item, [...path, key]);
    if (found !== null) return found;
  }
  return null;
}

/**
 * Every router shares one validation hook: a failed schema is a 422 with field paths, and so is a
 * NUL character in any string, which would otherwise fail in the database as a 500.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new AppError('validation_failed', 'the request does not match the schema', {
          errors: fieldErrors(result.error.issues),
        });
      }
      const nul = nulCharacterPath(result.data);
      if (nul !== null) {
        throw invalidField(nul, 'must not contain a NUL character');
      }
    },
  });
}

export const ALL_STAFF: Role[] = ['agent', 'ops', 'admin'];

/**
 * A staff route: the role check runs before validation, the roles are recorded in the OpenAPI
 * document (`x-roles`) so one test can check every route's protection, and 401/403 are documented.
 * A POST without a body schema refuses a body (`refuseBody`).
 */
export function staffRoute<R extends Omit<RouteConfig, 'middleware' | 'security'>>(roles: Role[], route: R) {
  const middleware: MiddlewareHandler<AppEnv>[] = [requireRole(...roles)];
  if (route.method === 'post' && route.request?.body === undefined) middleware.push(refuseBody);
  return createRoute({
    ...route,
    middleware,
    security: [{ Bearer: [] }],
    'x-roles': roles,
    responses: { ...problemResponses(401, 403, 422), ...route.responses },
  });
}

export const jsonBody = <T>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

export const jsonResponse = <T>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
