import { z } from '@hono/zod-openapi';
import { ALL_STAFF, createRouter, jsonBody, jsonResponse, staffRoute } from '../router.js';
import { Instant, IntervalSchema, PhoneFields, PhoneSchema, PreferredWindows } from '../schemas.js';
import { previewSchedule } from '../../services/preview.js';

const PreviewRequest = z
  .object({
    ...PhoneFields,
    category: z.string().min(1).max(64),
    notBefore: Instant.optional(),
    deadline: Instant.optional(),
    preferredWindows: PreferredWindows.optional(),
  })
  .strict()
  .openapi('PreviewRequest');

const PreviewResponse = z
  .object({
    phone: PhoneSchema,
    timezones: z.array(z.string()),
    earliest: z.string().nullable(),
    intervals: z.array(IntervalSchema),
    deadline: z.string(),
    withinDeadline: z.boolean(),
  })
  .openapi('Preview');

const iso = (ms: number) => new Date(ms).toISOString();

export function previewRouter() {
  return createRouter().openapi(
    staffRoute(ALL_STAFF, {
      method: 'post',
      path: '/schedule/preview',
      tags: ['callbacks'],
      summary: 'Preview honest callback times for a number',
      request: { body: jsonBody(PreviewRequest) },
      responses: { 200: jsonResponse(PreviewResponse, 'The earliest permitted time and the next intervals') },
    }),
    async (c) => {
      const { db, config, now } = c.var.deps;
      const body = c.req.valid('json');
      const preferredWindows = body.preferredWindows?.map((w) => ({ start: w.start.getTime(), end: w.end.getTime() }));
      const preview = await previewSchedule(db, { ...body, preferredWindows }, config.DEFAULT_REGION, now());
      return c.json(
        {
          ...preview,
          earliest: preview.earliest?.toISOString() ?? null,
          intervals: preview.intervals.map((i) => ({ start: iso(i.start), end: iso(i.end) })),
          deadline: preview.deadline.toISOString(),
        },
        200,
      );
    },
  );
}
