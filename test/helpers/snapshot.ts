/** What a request left behind: for tests that a refused request changed nothing. */
import type postgres from 'postgres';
import type { TestContext } from './harness.js';

/**
 * Every table's row count and a digest of its rows: equal before and after a request means the
 * request changed nothing in the database (no row written, updated or removed).
 */
export async function tableSnapshot(sql: postgres.Sql): Promise<Record<string, string>> {
  const tables = await sql<{ name: string }[]>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`;
  const rows = await sql.unsafe<{ name: string; rows: number; digest: string }[]>(
    tables
      .map(
        ({ name }) =>
          `select '${name}' as name, count(*)::int as rows, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from "${name}" t`,
      )
      .join(' union all '),
  );
  return Object.fromEntries(rows.map((r) => [r.name, `${r.rows} rows, ${r.digest}`]));
}

/** Jobs of every queue in every state: an SMS, a wake-up or a webhook queued shows up here. */
export async function queuedJobs(t: TestContext): Promise<Record<string, number>> {
  const counts = await Promise.all(
    t.runtime.queues.all().map(async (queue) => {
      const byState = await queue.getJobCounts();
      return [queue.name, Object.values(byState).reduce((sum, n) => sum + n, 0)] as const;
    }),
  );
  return Object.fromEntries(counts);
}
