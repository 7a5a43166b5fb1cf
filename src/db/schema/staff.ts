import { sql } from 'drizzle-orm';
import { index, pgEnum, pgTable, text, timestamp, uuid, boolean } from 'drizzle-orm/pg-core';

export const roleEnum = pgEnum('role', ['agent', 'ops', 'admin']);

export const agents = pgTable('agents', {
  id: text('id').primaryKey(),
  displayName: text('display_name').notNull(),
  skills: text('skills').array().notNull().default(sql`'{}'::text[]`),
  active: boolean('active').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    role: roleEnum('role').notNull(),
    agentId: text('agent_id').references(() => agents.id),
    /** SHA-256 of the key: keys are 256 random bits, so a fast hash is enough. */
    keyHash: text('key_hash').notNull().unique(),
    /** The first characters of the key, to tell keys apart in listings. */
    keyPrefix: text('key_prefix').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('api_keys_agent_idx').on(t.agentId)],
);
