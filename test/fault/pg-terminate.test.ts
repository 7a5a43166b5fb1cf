import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dueJobId } from '../../src/queues/queues.js';
import { callAroundTheClock, createTestContext, type TestContext } from '../helpers/harness.js';
import { waitFor } from '../helpers/worker-process.js';

/**
 * PostgreSQL connections die mid-request (a failover, an operator's pg_terminate_backend): every
 * backend of the service's database is killed every 20 ms for 2 s while agents create callbacks
 * with Idempotency-Keys. Each first answer is a success or a 503, never a 500 or a crashed process
 * (an unhandled rejection fails this file); retrying with the same key afterwards stores each
 * callback exactly once, with one timeline row, one outbox event and its wake-up.
 */
const REQUESTS = 60;
const KILL_EVERY_MS = 20;
const KILL_FOR_MS = 2000;

let t: TestContext;
let admin: postgres.Sql;
let agent: string;
const runId = Date.now();
const notBefore = new Date(runId + 3600_000).toISOString();

const body = (i: number) => ({
  caseRef: `PG-KILL-${runId}-${i}`,
  category: 'billing',
  phone: `+1 212 555 ${String(3000 + i)}`,
  reason: 'We will explain the December invoice again',
  firstExplanation: { summary: 'Explained the late fee policy' },
  notBefore,
});
const create = (i: number) =>
  t.request('POST', '/v1/callbacks', { key: agent, body: body(i), headers: { 'idempotency-key': `pg-kill-${runId}-${i}` } });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  // Errors are logged: should a request answer 500 here, CI's output says why.
  t = await createTestContext({ DATABASE_POOL_SIZE: '10', LOG_LEVEL: 'error' });
  const adminKey = await t.key('admin');
  agent = await t.key('agent', { id: 'pg-kill-agent' });
  expect((await t.request('PUT', '/v1/policies/billing', { key: adminKey, body: { enabled: true } })).status).toBe(200);
  await callAroundTheClock(t, adminKey);
  const url = new URL(t.config.DATABASE_URL);
  url.pathname = '/postgres';
  admin = postgres(url.toString(), { max: 1, onnotice: () => {} });
});
afterAll(async () => {
  await admin?.end();
  await t?.close();
});

describe('PostgreSQL connections terminated mid-request (SPEC §6)', () => {
  it('answers 201 or 503, and a retry with the same key stores each callback once', { timeout: 90_000 }, async () => {
    const database = new URL(t.config.DATABASE_URL).pathname.slice(1);
    let killed = 0;
    const stopAt = Date.now() + KILL_FOR_MS;
    const killer = (async () => {
      while (Date.now() < stopAt) {
        const rows = await admin`select pg_terminate_backend(pid) as ok from pg_stat_activity
                                 where datname = ${database} and pid <> pg_backend_pid()`;
        killed += rows.filter((r) => r.ok).length;
        await sleep(KILL_EVERY_MS);
      }
    })();

    // Requests spread over the whole window, a few in flight at any moment.
    const first = await Promise.all(
      Array.from({ length: REQUESTS }, async (_, i) => {
        await sleep((i * KILL_FOR_MS) / REQUESTS);
        return create(i);
      }),
    );
    await killer;
    expect(killed).toBeGreaterThan(10);
    const statuses = first.map((r) => r.status);
    for (const res of first) {
      if (res.status !== 201) expect(res).toMatchObject({ status: 503, body: { code: 'service_unavailable' } });
    }
    // The fault must have hit some requests, or this test proves nothing.
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);

    const final = await Promise.all(
      first.map((res, i) =>
        waitFor(
          async () => {
            const again = await create(i);
            expect([201, 503], JSON.stringify(again.body)).toContain(again.status);
            return again.status === 201 ? again : undefined;
          },
          { timeoutMs: 20_000, intervalMs: 200, what: `request ${i} to succeed once PostgreSQL is reachable` },
        ).then((again) => {
          // A request that succeeded the first time is replayed, not created anew.
          if (res.status === 201) expect(again.body.id).toBe(res.body.id);
          return again.body as { id: string; version: number; caseRef: string };
        }),
      ),
    );

    const ids = final.map((c) => c.id);
    expect(new Set(ids).size).toBe(REQUESTS);
    const rows = await t.sql`
      select c.id, c.case_ref, c.version,
        (select count(*)::int from callback_events e where e.callback_id = c.id) as events,
        (select count(*)::int from outbox o where o.payload->>'callbackId' = c.id::text) as outbox
      from callbacks c where c.case_ref like ${`PG-KILL-${runId}-%`}`;
    expect(rows).toHaveLength(REQUESTS);
    for (const row of rows) {
      expect(ids).toContain(row.id);
      expect(row).toMatchObject({ version: 1, events: 1, outbox: 1 });
    }
    const jobs = await Promise.all(final.map((c) => t.runtime.queues.due.getJob(dueJobId(c.id, c.version))));
    expect(jobs.filter((job) => !job).length).toBe(0);
  });
});
