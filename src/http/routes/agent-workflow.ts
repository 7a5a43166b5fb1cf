import { z } from '@hono/zod-openapi';
import { CallbackSchema } from '../schemas.js';
import {
  ATTEMPT_RESULTS,
  CONNECTED_OUTCOMES,
  claimNext,
  recordResult,
  releaseClaim,
  startAttempt,
} from '../../services/agent-workflow.js';
import { problemResponses } from '../errors.js';
import { createRouter, jsonBody, jsonResponse, staffRoute } from '../router.js';

const AttemptStarted = z
  .object({
    attempt: z.object({ id: z.uuid(), number: z.number().int(), startedAt: z.string() }),
    verification: z.object({
      code: z.string().regex(/^\d{6}$/).openapi({ description: 'State this code on the call; it is not stored' }),
      expiresAt: z.string(),
      link: z.string().nullable().openapi({ description: 'Only when SMS_ALLOW_LINKS is on' }),
    }),
    callback: CallbackSchema,
  })
  .openapi('AttemptStarted');

const AttemptSchema = z
  .object({
    id: z.uuid(),
    callbackId: z.uuid(),
    number: z.number().int(),
    agentId: z.string().nullable(),
    callerNumber: z.string().nullable(),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
    result: z.enum(ATTEMPT_RESULTS).nullable(),
    outcome: z.string().nullable(),
    notes: z.string().nullable(),
  })
  .openapi('Attempt');

const ResultBody = z
  .object({
    result: z.enum(ATTEMPT_RESULTS),
    outcome: z.enum(CONNECTED_OUTCOMES).optional(),
    notes: z.string().trim().max(2000).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.result === 'connected' && !b.outcome) {
      ctx.addIssue({ code: 'custom', path: ['outcome'], message: 'required when result is connected' });
    }
    if (b.result !== 'connected' && b.outcome) {
      ctx.addIssue({ code: 'custom', path: ['outcome'], message: 'only allowed when result is connected' });
    }
  });

const IdParam = z.object({ id: z.uuid() });

export function agentWorkflowRouter() {
  return createRouter()
    .openapi(
      staffRoute(['agent'], {
        method: 'post',
        path: '/agents/me/claim',
        tags: ['agent workflow'],
        summary: 'Claim the best ready callback that needs one of my skills (priority, then due time)',
        responses: {
          200: jsonResponse(CallbackSchema, 'The claimed callback, leased to me'),
          204: { description: 'Nothing to claim' },
        },
      }),
      async (c) => {
        const { deps, principal } = c.var;
        const claimed = await claimNext(deps, principal, deps.now());
        return claimed ? c.json(claimed, 200) : c.body(null, 204);
      },
    )
    .openapi(
      staffRoute(['agent'], {
        method: 'post',
        path: '/callbacks/{id}/release',
        tags: ['agent workflow'],
        summary: 'Give a claimed callback back to the ready queue',
        request: { params: IdParam },
        responses: { 200: jsonResponse(CallbackSchema, 'The callback, ready again'), ...problemResponses(404, 409) },
      }),
      async (c) => {
        const { deps, principal } = c.var;
        return c.json(await releaseClaim(deps, principal, c.req.valid('param').id, deps.now()), 200);
      },
    )
    .openapi(
      staffRoute(['agent'], {
        method: 'post',
        path: '/callbacks/{id}/attempts',
        tags: ['agent workflow'],
        summary: 'Start an attempt on my claimed callback; opens the verification session',
        description:
          '409 `not_permitted_now` (with `nextPermittedAt`) when calling is not permitted at this instant; ' +
          '409 `invalid_state` with `reason: "opted_out"` when the number has opted out (the callback is then suppressed).',
        request: {
          params: IdParam,
          // Every field is optional, so a POST without a body is accepted.
          body: {
            required: false,
            content: {
              'application/json': {
                schema: z
                  .object({
                    callerNumber: z
                      .string()
                      .min(1)
                      .max(64)
                      .optional()
                      .openapi({ description: 'One of the official numbers the agent calls from' }),
                  })
                  .strict(),
              },
            },
          },
        },
        responses: { 201: jsonResponse(AttemptStarted, 'The attempt and its verification code'), ...problemResponses(404, 409, 503) },
      }),
      async (c) => {
        const { deps, principal } = c.var;
        const started = await startAttempt(deps, principal, c.req.valid('param').id, c.req.valid('json'), deps.now());
        return c.json(started, 201);
      },
    )
    .openapi(
      staffRoute(['agent'], {
        method: 'post',
        path: '/attempts/{id}/result',
        tags: ['agent workflow'],
        summary: 'Record the result of my attempt; moves the callback on (SPEC §5)',
        request: { params: IdParam, body: jsonBody(ResultBody) },
        responses: {
          200: jsonResponse(
            z.object({ attempt: AttemptSchema, callback: CallbackSchema, exemption: z.object({ id: z.uuid() }).passthrough().nullable() }),
            'The attempt, the callback after it, and the exemption opened for an abusive customer',
          ),
          ...problemResponses(404, 409, 503),
        },
      }),
      async (c) => {
        const { deps, principal } = c.var;
        return c.json(await recordResult(deps, principal, c.req.valid('param').id, c.req.valid('json'), deps.now()), 200);
      },
    );
}
