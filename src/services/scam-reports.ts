/**
 * SPEC §7: customers ask whether a number is one the company calls from, and report calls they
 * believe were scams. A report whose caller number is one of ours points at spoofing, which needs
 * other action than an unknown number: the report says which.
 */
import type { Database, Executor } from '../db/client.js';
import { outbox, scamReports } from '../db/schema/index.js';
import { parsePhone } from '../domain/phone.js';
import { invalidField } from '../http/errors.js';
import { loadSetting } from './settings.js';

/** The official number matching `number` (any common format), or null. */
export async function findOfficialNumber(
  db: Executor,
  number: string,
  region: string,
): Promise<{ number: string; label: string } | null> {
  const parsed = parsePhone(number, region);
  if (!parsed.ok) return null;
  const { numbers } = await loadSetting(db, 'official_numbers');
  return numbers.find((n) => n.number === parsed.phone.e164) ?? null;
}

export interface ScamReportInput {
  /** As the customer saw it: kept raw, since spoofed caller IDs need not be valid numbers. */
  callerNumber: string;
  ownNumber?: string | undefined;
  description: string;
}

/** Stores the report and, in the same transaction, the outbox event `scam_report.created`. */
export async function createScamReport(db: Database, input: ScamReportInput, region: string, now: Date): Promise<{ id: string }> {
  const caller = parsePhone(input.callerNumber, region);
  const callerE164 = caller.ok ? caller.phone.e164 : null;
  let reporterE164: string | null = null;
  if (input.ownNumber !== undefined) {
    const own = parsePhone(input.ownNumber, region);
    if (!own.ok) {
      throw invalidField('ownNumber', 'not a valid phone number');
    }
    reporterE164 = own.phone.e164;
  }
  return db.transaction(async (tx) => {
    const official = callerE164 === null ? null : await findOfficialNumber(tx, callerE164, region);
    const [row] = await tx
      .insert(scamReports)
      .values({
        callerNumber: input.callerNumber,
        callerE164,
        reporterE164,
        description: input.description,
        callerIsOfficial: official !== null,
        createdAt: now,
      })
      .returning({ id: scamReports.id });
    // The reporter's own number stays in the database: webhook receivers get what they need to act.
    await tx.insert(outbox).values({
      event: 'scam_report.created',
      payload: {
        reportId: row!.id,
        callerNumber: input.callerNumber,
        callerE164,
        callerIsOfficial: official !== null,
        officialLabel: official?.label ?? null,
        description: input.description,
        createdAt: now.toISOString(),
      },
    });
    return { id: row!.id };
  });
}
