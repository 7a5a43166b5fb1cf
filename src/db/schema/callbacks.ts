import { sql } from 'drizzle-orm';
import {
  bigserial,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { CALLBACK_STATUSES, ACTIVE_STATUSES } from '../../domain/callback-state.js';
import { agents } from './staff.js';

export const callbackStatusEnum = pgEnum('callback_status', CALLBACK_STATUSES);

const activeList = sql.raw(ACTIVE_STATUSES.map((s) => `'${s}'`).join(', '));

export const callbacks = pgTable(
  'callbacks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    status: callbackStatusEnum('status').notNull(),
    /** Bumped on every change; a wake-up job carries the version it was made for. */
    version: integer('version').notNull().default(1),
    caseRef: text('case_ref').notNull(),
    category: text('category').notNull(),
    round: smallint('round').notNull(),
    phoneE164: text('phone_e164').notNull(),
    phoneCountry: text('phone_country'),
    phoneType: text('phone_type').notNull(),
    timezones: text('timezones').array().notNull(),
    timezoneSource: text('timezone_source').notNull(),
    customerTier: text('customer_tier'),
    customerLanguage: text('customer_language'),
    reason: text('reason').notNull(),
    firstExplanation: jsonb('first_explanation').$type<{ summary: string; agentId?: string | null }>().notNull(),
    preferredWindows: jsonb('preferred_windows').$type<{ start: string; end: string }[] | null>(),
    notBefore: timestamp('not_before', { withTimezone: true }).notNull(),
    deadline: timestamp('deadline', { withTimezone: true }).notNull(),
    priority: smallint('priority').notNull().default(5),
    /** The next time it may be dispatched; null once terminal. */
    scheduledFor: timestamp('scheduled_for', { withTimezone: true }),
    attemptCount: integer('attempt_count').notNull().default(0),
    outcome: text('outcome'),
    requiredSkill: text('required_skill').notNull(),
    createdBy: text('created_by').notNull(),
    claimedBy: text('claimed_by').references(() => agents.id),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
    slaAtRiskAt: timestamp('sla_at_risk_at', { withTimezone: true }),
    slaBreachedAt: timestamp('sla_breached_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // At most one active callback per case: the database enforces it, not a read-then-write.
    uniqueIndex('callbacks_active_case_uq').on(t.caseRef).where(sql`${t.status} in (${activeList})`),
    index('callbacks_status_due_idx').on(t.status, t.scheduledFor),
    index('callbacks_phone_idx').on(t.phoneE164),
    index('callbacks_created_idx').on(t.createdAt.desc(), t.id.desc()),
    index('callbacks_case_idx').on(t.caseRef),
    // Migration 0005 rebuilds this one with INCLUDE (status, outcome) for the ops overview.
    index('callbacks_updated_idx').on(t.updatedAt),
    index('callbacks_sla_breached_idx').on(t.slaBreachedAt).where(sql`${t.slaBreachedAt} is not null`),
    // Claiming takes the best ready callback: priority, then due time.
    index('callbacks_ready_idx').on(t.priority.desc(), t.scheduledFor).where(sql`${t.status} = 'ready'`),
    index('callbacks_deadline_idx').on(t.deadline).where(sql`${t.status} in (${activeList})`),
  ],
);

export const attempts = pgTable(
  'attempts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    callbackId: uuid('callback_id')
      .notNull()
      .references(() => callbacks.id),
    number: integer('number').notNull(),
    agentId: text('agent_id').references(() => agents.id),
    /** Denormalized so frequency caps per number are one indexed range scan. */
    phoneE164: text('phone_e164').notNull(),
    callerNumber: text('caller_number'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    result: text('result'),
    outcome: text('outcome'),
    notes: text('notes'),
  },
  (t) => [
    uniqueIndex('attempts_callback_number_uq').on(t.callbackId, t.number),
    index('attempts_phone_started_idx').on(t.phoneE164, t.startedAt),
    // Migration 0005 rebuilds this one with INCLUDE (caller_number, result) for the ops overview.
    index('attempts_started_idx').on(t.startedAt),
  ],
);

/** Append-only: a trigger in the migration refuses UPDATE and DELETE. */
export const callbackEvents = pgTable(
  'callback_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    callbackId: uuid('callback_id')
      .notNull()
      .references(() => callbacks.id),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    actor: text('actor').notNull(),
    fromStatus: callbackStatusEnum('from_status'),
    toStatus: callbackStatusEnum('to_status').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('callback_events_callback_idx').on(t.callbackId, t.id)],
);

export const exemptionStatusEnum = pgEnum('exemption_status', ['pending', 'approved', 'rejected']);

export const exemptions = pgTable(
  'exemptions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    callbackId: uuid('callback_id')
      .notNull()
      .references(() => callbacks.id),
    caseRef: text('case_ref').notNull(),
    status: exemptionStatusEnum('status').notNull().default('pending'),
    reason: text('reason').notNull(),
    requestedBy: text('requested_by').notNull(),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    note: text('note'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('exemptions_case_idx').on(t.caseRef, t.status),
    uniqueIndex('exemptions_pending_callback_uq').on(t.callbackId).where(sql`${t.status} = 'pending'`),
  ],
);
