import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { attempts, callbacks } from './callbacks.js';

/** SPEC §7: the proof, tied to one attempt, that a call is genuine. Code and token stored only as keyed hashes. */
export const verificationSessions = pgTable(
  'verification_sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    attemptId: uuid('attempt_id')
      .notNull()
      .unique()
      .references(() => attempts.id),
    callbackId: uuid('callback_id')
      .notNull()
      .references(() => callbacks.id),
    phoneE164: text('phone_e164').notNull(),
    codeHash: text('code_hash').notNull(),
    tokenHash: text('token_hash').unique(),
    validFrom: timestamp('valid_from', { withTimezone: true }).notNull(),
    /** Moves to attempt end + 10 min when the attempt ends; never past hardExpiresAt. */
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    hardExpiresAt: timestamp('hard_expires_at', { withTimezone: true }).notNull(),
    failedChecks: integer('failed_checks').notNull().default(0),
    lockedAt: timestamp('locked_at', { withTimezone: true }),
    verifiedAt: timestamp('verified_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('verification_sessions_phone_idx').on(t.phoneE164, t.expiresAt),
    index('verification_sessions_verified_idx').on(t.validFrom).where(sql`${t.verifiedAt} is not null`),
  ],
);
