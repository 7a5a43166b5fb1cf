import { pgEnum, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const optOutScopeEnum = pgEnum('opt_out_scope', ['all', 'voice', 'sms']);

export const optOuts = pgTable('opt_outs', {
  phoneE164: text('phone_e164').primaryKey(),
  scope: optOutScopeEnum('scope').notNull(),
  source: text('source').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
