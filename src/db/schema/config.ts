import { boolean, integer, jsonb, pgEnum, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const consentEnum = pgEnum('consent', ['none', 'required']);

/**
 * Policy per complaint category. Null fields are not set for that category and take the
 * `default` policy's value at read time, so a change to the default reaches every category
 * that did not override it. The `default` row (seeded by a migration) has every field set.
 */
export const policies = pgTable('policies', {
  category: text('category').primaryKey(),
  enabled: boolean('enabled').notNull().default(false),
  maxRounds: integer('max_rounds'),
  requiredSkill: text('required_skill'),
  customerTiers: text('customer_tiers').array(),
  /** customerTiers is legitimately null ("all tiers"), so whether it is set is tracked apart. */
  customerTiersSet: boolean('customer_tiers_set').notNull().default(false),
  consent: consentEnum('consent'),
  deadlineHours: integer('deadline_hours'),
  maxAttempts: integer('max_attempts'),
  retryDelaysMinutes: integer('retry_delays_minutes').array(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Admin-editable documents (calling rules, official numbers), validated by their zod schemas on write. */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
