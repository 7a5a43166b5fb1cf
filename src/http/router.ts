import { OpenAPIHono, createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { AppEnv } from './context.js';
import { AppError, fieldErrors, problemResponses } from './errors.js';
import { requireRole } from './middleware.js';
import type { Role } from '../services/api-keys.js';

/** Every router shares one validation hook: a failed schema is a 422 with field paths. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new AppError('validation_failed', 'the request does not match the schema', {
          errors: fieldErrors(result.error.issues),
        });
      }
    },
  });
}

export const ALL_STAFF: Role[] = ['agent', 'ops', 'admin'];

/**
 * A staff route: the role check runs before validation, the roles are recorded in the OpenAPI
 * document (`x-roles`) so one test can check every route's protection, and 401/403 are documented.
 */
export function staffRoute<R extends Omit<RouteConfig, 'middleware' | 'security'>>(roles: Role[], route: R) {
  return createRoute({
    ...route,
    middleware: [requireRole(...roles)] as const,
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
