import { z } from '@hono/zod-openapi';
import { CALLBACK_STATUSES } from '../domain/callback-state.js';
import { TimeZoneSchema } from '../services/settings.js';

/** RFC 3339 with an explicit offset (SPEC §3): "2026-01-15T12:00:00Z" or "...+08:00". */
export const Instant = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .openapi({ type: 'string', format: 'date-time', example: '2026-01-15T12:00:00Z' });

export const Window = z
  .object({ start: Instant, end: Instant })
  .strict()
  .refine((w) => w.end > w.start, { message: 'end must be after start', path: ['end'] })
  .openapi('Window');

export const PreferredWindows = z.array(Window).min(1).max(20);

export const PhoneFields = {
  phone: z.string().min(1).max(64).openapi({ example: '+1 212 555 0123' }),
  region: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code')
    .optional()
    .openapi({ example: 'US' }),
  timezone: TimeZoneSchema.optional().openapi({ example: 'America/New_York' }),
};

export const PhoneSchema = z
  .object({ e164: z.string(), country: z.string().nullable(), type: z.string() })
  .openapi('Phone');

export const IntervalSchema = z.object({ start: z.string(), end: z.string() }).openapi('Interval');

/** The callback as every route returns it (more fields than listed are passed through). */
export const CallbackSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(CALLBACK_STATUSES),
    version: z.number().int(),
    caseRef: z.string(),
    category: z.string(),
    round: z.number().int(),
    phone: PhoneSchema,
    timezones: z.array(z.string()),
    scheduledFor: z.string().nullable(),
    deadline: z.string(),
    priority: z.number().int(),
    attemptCount: z.number().int(),
    outcome: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .passthrough()
  .openapi('Callback');
