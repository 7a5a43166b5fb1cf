import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { callbacks } from './callbacks.js';

export const optOutScopeEnum = pgEnum('opt_out_scope', ['all', 'voice', 'sms']);

export const optOuts = pgTable(
  'opt_outs',
  {
    phoneE164: text('phone_e164').primaryKey(),
    scope: optOutScopeEnum('scope').notNull(),
    source: text('source').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('opt_outs_created_idx').on(t.createdAt)],
);

/** An opt-out asked for on the web page, waiting for the code we texted to that number. */
export const optOutRequests = pgTable(
  'opt_out_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    phoneE164: text('phone_e164').notNull(),
    scope: optOutScopeEnum('scope').notNull().default('all'),
    codeHash: text('code_hash').notNull(),
    failedChecks: integer('failed_checks').notNull().default(0),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    confirmedAt: timestamp('confirmed_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('opt_out_requests_phone_idx').on(t.phoneE164, t.createdAt)],
);

/** SPEC §8: the question "do you want the callback?" for policies with consent required. */
export const consentOffers = pgTable(
  'consent_offers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    callbackId: uuid('callback_id')
      .notNull()
      .references(() => callbacks.id),
    phoneE164: text('phone_e164').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    answer: text('answer'),
    answeredVia: text('answered_via'),
    chosenSlot: timestamp('chosen_slot', { withTimezone: true }),
    answeredAt: timestamp('answered_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('consent_offers_callback_uq').on(t.callbackId),
    index('consent_offers_open_idx').on(t.phoneE164).where(sql`${t.answeredAt} is null`),
  ],
);

export const scamReports = pgTable(
  'scam_reports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    callerNumber: text('caller_number').notNull(),
    /** Normalized when the caller number parses; the raw text is kept either way. */
    callerE164: text('caller_e164'),
    reporterE164: text('reporter_e164'),
    description: text('description').notNull(),
    /** Whether the reported number is one of ours: a spoofed official number needs other action. */
    callerIsOfficial: boolean('caller_is_official').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('scam_reports_created_idx').on(t.createdAt)],
);

/** Every SMS in or out (SPEC §8): to, text, status, provider id. */
export const smsMessages = pgTable(
  'sms_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    direction: text('direction').notNull(),
    toE164: text('to_e164').notNull(),
    fromE164: text('from_e164'),
    body: text('body').notNull(),
    purpose: text('purpose').notNull(),
    status: text('status').notNull(),
    provider: text('provider').notNull(),
    providerId: text('provider_id'),
    error: text('error'),
    callbackId: uuid('callback_id').references(() => callbacks.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('sms_messages_to_idx').on(t.toE164, t.createdAt),
    uniqueIndex('sms_messages_provider_id_uq').on(t.provider, t.providerId),
  ],
);
