import { z } from '@hono/zod-openapi';
import { ALL_STAFF, createRouter, jsonBody, jsonResponse, staffRoute } from '../router.js';
import { Instant, IntervalSchema, PhoneFields, PhoneSchema, PreferredWindows } from '../schemas.js';
import { customerPhone } from '../../services/customer-phone.js';
import { loadPolicy } from '../../services/policies.js';
import { callingRulesFor, findSlot } from '../../services/scheduling.js';

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
      const { db, config, now: clock } = c.var.deps;
      const body = c.req.valid('json');
      const now = clock();
      const { phone, zones } = customerPhone(body, config.DEFAULT_REGION);
      const preferredWindows = body.preferredWindows?.map((w) => ({ start: w.start.getTime(), end: w.end.getTime() })) ?? null;
      const [policy, rules] = await Promise.all([
        loadPolicy(db, body.category),
        callingRulesFor(db, { phone, zones, notBefore: body.notBefore ?? now, preferredWindows }, now),
      ]);
      const deadline = body.deadline ?? new Date(now.getTime() + policy.deadlineHours * 3600_000);
      const slot = findSlot(rules, now, deadline, { intervals: 10 });
      return c.json(
        {
          phone,
          timezones: zones,
          earliest: slot.earliest?.toISOString() ?? null,
          intervals: slot.intervals.map((i) => ({ start: iso(i.start), end: iso(i.end) })),
          deadline: deadline.toISOString(),
          withinDeadline: slot.withinDeadline,
        },
        200,
      );
    },
  );
}
