import { eq } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { policies } from '../db/schema/index.js';
import { readCache } from '../db/read-cache.js';
import { DEFAULT_CATEGORY, effectivePolicy, type Policy, type PolicyOverrides } from '../domain/policy.js';

type PolicyRow = typeof policies.$inferSelect;

const orUndefined = <T>(v: T | null) => (v === null ? undefined : v);

function overridesOf(row: PolicyRow): PolicyOverrides {
  return {
    maxRounds: orUndefined(row.maxRounds),
    requiredSkill: orUndefined(row.requiredSkill),
    customerTiers: row.customerTiersSet ? row.customerTiers : undefined,
    consent: orUndefined(row.consent),
    deadlineHours: orUndefined(row.deadlineHours),
    maxAttempts: orUndefined(row.maxAttempts),
    retryDelaysMinutes: orUndefined(row.retryDelaysMinutes),
  };
}

function defaultsFrom(rows: PolicyRow[]): Policy {
  const row = rows.find((r) => r.category === DEFAULT_CATEGORY);
  if (!row) throw new Error('the default policy row is missing: migrations not applied?');
  return {
    category: DEFAULT_CATEGORY,
    enabled: false,
    maxRounds: row.maxRounds!,
    requiredSkill: row.requiredSkill!,
    customerTiers: row.customerTiers,
    consent: row.consent!,
    deadlineHours: row.deadlineHours!,
    maxAttempts: row.maxAttempts!,
    retryDelaysMinutes: row.retryDelaysMinutes!,
  };
}

const cache = readCache<Policy & { configured: boolean }>(2000);

/** The effective policy of a category (unconfigured categories get the default fields, disabled). */
export function loadPolicy(db: Executor, category: string): Promise<Policy & { configured: boolean }> {
  return cache.get(db, category, () => readPolicy(db, category));
}

async function readPolicy(db: Executor, category: string): Promise<Policy & { configured: boolean }> {
  const rows = await db
    .select()
    .from(policies)
    .where(eq(policies.category, category))
    .union(db.select().from(policies).where(eq(policies.category, DEFAULT_CATEGORY)));
  const own = rows.find((r) => r.category === category);
  return {
    ...effectivePolicy(category, defaultsFrom(rows), own ? { enabled: own.enabled, overrides: overridesOf(own) } : null),
    configured: own !== undefined,
  };
}

export async function listPolicies(db: Executor): Promise<Policy[]> {
  const rows = await db.select().from(policies).orderBy(policies.category);
  const defaults = defaultsFrom(rows);
  return rows.map((r) => effectivePolicy(r.category, defaults, { enabled: r.enabled, overrides: overridesOf(r) }));
}

/** Replaces a category's own fields: those omitted fall back to the default policy. */
export async function savePolicy(
  db: Executor,
  category: string,
  input: { enabled?: boolean } & PolicyOverrides,
): Promise<Policy & { configured: boolean }> {
  const isDefault = category === DEFAULT_CATEGORY;
  const values = {
    enabled: input.enabled ?? false,
    maxRounds: input.maxRounds ?? null,
    requiredSkill: input.requiredSkill ?? null,
    customerTiers: input.customerTiers ?? null,
    customerTiersSet: isDefault || input.customerTiers !== undefined,
    consent: input.consent ?? null,
    deadlineHours: input.deadlineHours ?? null,
    maxAttempts: input.maxAttempts ?? null,
    retryDelaysMinutes: input.retryDelaysMinutes ?? null,
    updatedAt: new Date(),
  };
  if (isDefault) {
    // The default row must stay complete: omitted fields keep their current values.
    const current = await readPolicy(db, DEFAULT_CATEGORY);
    Object.assign(values, {
      enabled: false,
      maxRounds: input.maxRounds ?? current.maxRounds,
      requiredSkill: input.requiredSkill ?? current.requiredSkill,
      customerTiers: input.customerTiers !== undefined ? input.customerTiers : current.customerTiers,
      consent: input.consent ?? current.consent,
      deadlineHours: input.deadlineHours ?? current.deadlineHours,
      maxAttempts: input.maxAttempts ?? current.maxAttempts,
      retryDelaysMinutes: input.retryDelaysMinutes ?? current.retryDelaysMinutes,
    });
  }
  await db
    .insert(policies)
    .values({ category, ...values })
    .onConflictDoUpdate({ target: policies.category, set: values });
  // Every category may follow the default policy, so a write evicts them all.
  cache.evict(db);
  return readPolicy(db, category);
}
