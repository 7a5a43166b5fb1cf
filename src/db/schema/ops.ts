import { boolean, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Last known state of each alert rule, so an alert fires when it starts, not on every check. */
export const alertStates = pgTable('alert_states', {
  key: text('key').primaryKey(),
  firing: boolean('firing').notNull(),
  details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  changedAt: timestamp('changed_at', { withTimezone: true }).notNull().defaultNow(),
});
