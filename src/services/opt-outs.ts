import { eq, sql } from 'drizzle-orm';
import type { Database, Executor } from '../db/client.js';
import { optOuts, outbox } from '../db/schema/index.js';
import { suppressActiveCallbacks } from './callbacks.js';

export type OptOutScope = 'all' | 'voice' | 'sms';

export const toOptOutResponse = (row: typeof optOuts.$inferSelect) => ({
  phone: row.phoneE164,
  scope: row.scope,
  source: row.source,
  createdBy: row.createdBy,
  createdAt: row.createdAt.toISOString(),
});

/**
 * Registers (or widens) an opt-out and, in the same transaction, suppresses every active callback
 * of the number unless only texts were refused: no due job can dispatch them afterwards.
 */
export async function registerOptOut(
  db: Executor,
  input: { e164: string; scope: OptOutScope; source: string; actor: string; now: Date },
) {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(optOuts)
      .values({ phoneE164: input.e164, scope: input.scope, source: input.source, createdBy: input.actor })
      .onConflictDoUpdate({
        target: optOuts.phoneE164,
        // A second opt-out never narrows the first: any two different scopes together mean `all`.
        set: {
          scope: sql`case when ${optOuts.scope} = ${input.scope}::opt_out_scope then ${optOuts.scope} else 'all'::opt_out_scope end`,
          source: input.source,
          createdBy: input.actor,
        },
      })
      .returning();
    const suppressed = row!.scope === 'sms' ? [] : await suppressActiveCallbacks(tx, input.e164, input.actor, input.now);
    await tx.insert(outbox).values({
      event: 'opt_out.created',
      payload: { phone: input.e164, scope: row!.scope, source: input.source, suppressedCallbacks: suppressed },
    });
    return { optOut: toOptOutResponse(row!), suppressedCallbacks: suppressed };
  });
}

export async function findOptOut(db: Database, e164: string) {
  const [row] = await db.select().from(optOuts).where(eq(optOuts.phoneE164, e164));
  return row ? toOptOutResponse(row) : null;
}

export async function liftOptOut(db: Database, e164: string): Promise<boolean> {
  const rows = await db.delete(optOuts).where(eq(optOuts.phoneE164, e164)).returning({ phone: optOuts.phoneE164 });
  return rows.length > 0;
}
