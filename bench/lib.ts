import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type postgres from 'postgres';
export { percentile } from './client.js';
import { callAroundTheClock, createTestContext, type TestContext } from '../test/helpers/harness.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

/**
 * The service stack on a database and queue prefix of its own (the test harness does exactly that),
 * with calling permitted around the clock so a benchmark measures dispatch, not the calendar.
 */
export async function startStack(overrides: Record<string, string> = {}): Promise<TestContext> {
  const t = await createTestContext({ LOG_LEVEL: 'silent', ...overrides });
  const admin = await t.key('admin');
  await callAroundTheClock(t, admin);
  return t;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `done` holds or `timeoutMs` passes; returns whether it held. */
export async function until(done: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await done()) return true;
    await sleep(intervalMs);
  }
  return done();
}

/** Statement and row counters of the current database, to express work per dispatch. */
export async function dbCounters(sql: postgres.Sql): Promise<{ transactions: number; rowsReturned: number; rowsFetched: number }> {
  // pg_stat_database lags by up to the stats flush interval; force a fresh snapshot.
  await sql`select pg_stat_clear_snapshot()`;
  const [row] = await sql`
    select xact_commit + xact_rollback as transactions, tup_returned, tup_fetched
    from pg_stat_database where datname = current_database()`;
  return { transactions: Number(row!.transactions), rowsReturned: Number(row!.tup_returned), rowsFetched: Number(row!.tup_fetched) };
}

/** Writes `bench/results/<name>-<YYYY-MM-DD>.json` and returns its path. */
export function writeResults(name: string, data: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = `${RESULTS_DIR}${name}-${new Date().toISOString().slice(0, 10)}.json`;
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

/** A plain aligned table for the terminal. */
export function printTable(rows: Record<string, string | number>[]): void {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const cell = (v: string | number | undefined) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : (v ?? ''));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padStart(widths[i]!)).join('  ');
  console.log(line(columns));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(columns.map((c) => cell(r[c]))));
}
