import type postgres from 'postgres';
import { wakeupJobOptions, type DueJob, type Queues } from '../../src/queues/queues.js';

/**
 * Thousands of scheduled callbacks, inserted with one SQL statement per chunk instead of through
 * the API, for fault tests and benchmarks. Each row has its own case and phone number (so no
 * frequency cap or opt-out is shared) and the creation event the API would have written.
 */
export async function insertScheduledCallbacks(
  sql: postgres.Sql,
  options: { count: number; scheduledFor: Date | ((i: number) => Date); tag: string },
): Promise<{ id: string; version: number; scheduledFor: Date }[]> {
  const at = typeof options.scheduledFor === 'function' ? options.scheduledFor : () => options.scheduledFor as Date;
  const rows: { id: string; version: number; scheduledFor: Date }[] = [];
  const CHUNK = 2000;
  for (let start = 0; start < options.count; start += CHUNK) {
    const n = Math.min(CHUNK, options.count - start);
    // Lists travel as JSON: the client does not look up array types (see src/db/client.ts).
    const times = Array.from({ length: n }, (_, k) => at(start + k).toISOString());
    const inserted = await sql.begin(async (tx) => {
      const created = await tx`
        insert into callbacks (status, case_ref, category, round, phone_e164, phone_country, phone_type,
          timezones, timezone_source, reason, first_explanation, not_before, deadline, scheduled_for,
          required_skill, created_by)
        select 'scheduled', ${options.tag} || '-' || (${start}::int + t.i), 'billing', 2,
          '+1212' || lpad((${start}::int + t.i)::text, 7, '0'), 'US', 'fixed_line_or_mobile',
          '{America/New_York}', 'number', 'bulk', '{"summary":"bulk"}'::jsonb,
          t.at, t.at + interval '48 hours', t.at, 'second_explanation', 'bulk'
        from (select x::timestamptz as at, i from json_array_elements_text(${JSON.stringify(times)}::json) with ordinality as j(x, i)) t
        returning id, version, scheduled_for`;
      await tx`
        insert into callback_events (callback_id, actor, from_status, to_status, details)
        select id::uuid, 'bulk', null, 'scheduled', '{}'::jsonb
        from json_array_elements_text(${JSON.stringify(created.map((r) => r.id as string))}::json) as id`;
      return created;
    });
    for (const r of inserted) rows.push({ id: r.id, version: r.version, scheduledFor: new Date(r.scheduled_for) });
  }
  return rows;
}

/** Adds the wake-ups as the API would (deterministic ids, delay to the due time), in bulk. */
export async function enqueueWakeups(
  queues: Queues,
  rows: { id: string; version: number; scheduledFor: Date }[],
  now = new Date(),
): Promise<void> {
  const CHUNK = 1000;
  for (let start = 0; start < rows.length; start += CHUNK) {
    await queues.due.addBulk(
      rows.slice(start, start + CHUNK).map((r) => ({
        name: 'due',
        data: { callbackId: r.id, version: r.version } satisfies DueJob,
        opts: wakeupJobOptions(r, now),
      })),
    );
  }
}
