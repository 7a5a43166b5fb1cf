import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from '@hono/zod-openapi';

/** The closed set of error codes clients may rely on (SPEC §10), each with its HTTP status. */
export const ERROR_CODES = {
  malformed_json: 400,
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  duplicate_active_callback: 409,
  invalid_state: 409,
  not_permitted_now: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  not_eligible: 422,
  opted_out: 422,
  round_limit_reached: 422,
  exempted: 422,
  no_slot_before_deadline: 422,
  idempotency_key_reused: 422,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FieldError {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly status: ContentfulStatusCode;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: { errors?: FieldError[] } & Record<string, unknown> = {},
  ) {
    super(message);
    this.status = ERROR_CODES[code];
  }
}

const TITLES: Partial<Record<ErrorCode, string>> = {
  validation_failed: 'The request is not valid',
  malformed_json: 'The body is not valid JSON',
  unauthorized: 'Authentication required',
  forbidden: 'Not allowed for this role',
  route_not_found: 'No such route',
  payload_too_large: 'The body is too large',
  unsupported_media_type: 'Unsupported media type',
  internal_error: 'Internal error',
  service_unavailable: 'A dependency is unavailable; retry later',
};

const titleOf = (code: ErrorCode) =>
  TITLES[code] ?? code.charAt(0).toUpperCase() + code.slice(1).replaceAll('_', ' ');

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })),
    instance: z.string().optional(),
  })
  .passthrough()
  .openapi('Problem');

export function problemBody(error: AppError, requestId?: string) {
  return {
    type: `https://secondcall.dev/problems/${error.code.replaceAll('_', '-')}`,
    title: titleOf(error.code),
    status: error.status,
    detail: error.message,
    code: error.code,
    ...error.extra,
    errors: error.extra.errors ?? [],
    ...(requestId ? { instance: `urn:request:${requestId}` } : {}),
  };
}

export function problem(c: Context, error: AppError): Response {
  const requestId = c.get('requestId') as string | undefined;
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  const retryAfter = error.extra.retryAfterSeconds;
  if (typeof retryAfter === 'number') headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfter)));
  return c.body(JSON.stringify(problemBody(error, requestId)), error.status, headers);
}

/** 422 for one field of the request: `invalidField('deadline', 'must be in the future')`. */
export const invalidField = (path: string, message: string) =>
  new AppError('validation_failed', `${path}: ${message}`, { errors: [{ path, message }] });

/** zod issues → `[{path, message}]` with dotted paths such as `preferredWindows.0.end`. */
export function fieldErrors(issues: readonly { path: PropertyKey[]; message: string }[]): FieldError[] {
  return issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));
}

/** OpenAPI response entries for the problems a route can return. */
export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: 'Problem', content: { 'application/problem+json': { schema: ProblemSchema } } },
    ]),
  );
}
