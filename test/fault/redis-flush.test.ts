import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dueJobId } from '../../src/queues/queues.js';
import { startWorkers, type Workers } from '../../src/queues/workers.js';
import { callAroundTheClock, createTestContext, type TestContext } from '../helpers/harness.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/worker-process.js';

/**
 * SPEC §6: if Redis loses its data, every scheduled callback still fires, at most 60 s late, and
 * nothing is dispatched twice. PostgreSQL keeps the truth; the maintenance tick re-adds lost
 * wake-ups (reconcileWakeups) and the worker re-upserts the lost job schedulers.
 */
const COUNT = 50;
const MAX_LATENESS_MS = 60_000;

let redis: RedisServer;
let t: TestContext;
let workers: Workers;
let agent: string;
let phoneSeq = 0;

interface Created {
  id: string;
  version: number;
  scheduledFor: string;
}

/** COUNT callbacks through the API, due 3–5 s from now. */
async function createBurst(tag: string): Promise<Created[]> {
  const base = Date.now();
  const created: Created[] = [];
  for (let i = 0; i < COUNT; i++) {
    const res = await t.request('POST', '/v1/callbacks', {
      key: agent,
      body: {
        caseRef: `${tag}-${i}-${base}`,
        category: 'billing',
        phone: `+1 212 555 ${String(3000 + ++phoneSeq).slice(-4)}`,
        reason: 'We will explain the December invoice again',
        firstExplanation: { summary: 'Explained the late fee policy' },
        notBefore: new Date(base + 3000 + Math.round((2000 * i) / COUNT)).toISOString(),
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    created.push(res.body);
  }
  return created;
}

/** Waits until each callback is ready, then checks it became ready once, on time, with one event. */
async function expectAllReadyOnce(created: Created[]): Promise<number> {
  const ids = created.map((c) => c.id);
  const lastDue = Math.max(...created.map((c) => Date.parse(c.scheduledFor)));
  await waitFor(
    async () => {
      const [row] = await t.sql`select count(*)::int as n from callbacks where id in ${t.sql(ids)} and status = 'ready'`;
      return row!.n === COUNT;
    },
    {
      timeoutMs: lastDue + MAX_LATENESS_MS - Date.now(),
      intervalMs: 250,
      what: `all ${COUNT} callbacks to be ready`,
      describe: async () => JSON.stringify(await t.sql`select status, count(*)::int from callbacks where id in ${t.sql(ids)} group by 1`),
    },
  );

  const events = await t.sql`
    select callback_id, at from callback_events
    where callback_id in ${t.sql(ids)} and from_status = 'scheduled' and to_status = 'ready'`;
  const outbox = await t.sql`
    select payload->>'callbackId' as id from outbox where event = 'callback.ready' and payload->>'callbackId' in ${t.sql(ids)}`;
  let maxLateMs = 0;
  for (const c of created) {
    const mine = events.filter((e) => e.callback_id === c.id);
    expect(mine, `ready events of ${c.id}`).toHaveLength(1);
    expect(outbox.filter((o) => o.id === c.id), `callback.ready rows of ${c.id}`).toHaveLength(1);
    const lateMs = Date.parse(mine[0]!.at) - Date.parse(c.scheduledFor);
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThanOrEqual(MAX_LATENESS_MS);
    maxLateMs = Math.max(maxLateMs, lateMs);
  }
  return maxLateMs;
}

beforeAll(async () => {
  redis = await startRedisServer();
  t = await createTestContext({
    REDIS_URL: redis.url,
    MAINTENANCE_INTERVAL_MS: '1000',
    OUTBOX_INTERVAL_MS: '500',
    JOB_LOCK_MS: '2000',
    STALLED_INTERVAL_MS: '1000',
  });
  const admin = await t.key('admin');
  agent = await t.key('agent', { id: 'flush-agent' });
  expect((await t.request('PUT', '/v1/policies/billing', { key: admin, body: { enabled: true } })).status).toBe(200);
  await callAroundTheClock(t, admin);
  workers = startWorkers(t.runtime.deps);
});
afterAll(async () => {
  await workers?.close();
  await t?.close();
  await redis?.stop();
});

describe('Redis loses its data (SPEC §6)', () => {
  it('FLUSHALL before the due time: every callback is still dispatched once, within 60 s', { timeout: 75_000 }, async () => {
    const created = await createBurst('flush');
    const first = created[0]!;
    expect(await t.runtime.queues.due.getJob(dueJobId(first.id, first.version))).toBeTruthy();

    await redis.flushAll();
    expect(await t.runtime.queues.due.getJob(dueJobId(first.id, first.version))).toBeUndefined();

    const maxLateMs = await expectAllReadyOnce(created);
    console.info(`redis-flush (FLUSHALL): ${COUNT} callbacks ready once each, worst lateness ${maxLateMs} ms`);
  });

  it('a Redis restart without persistence: every callback is still dispatched once, within 60 s', { timeout: 75_000 }, async () => {
    const created = await createBurst('restart');
    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await redis.start();

    const maxLateMs = await expectAllReadyOnce(created);
    console.info(`redis-flush (restart): ${COUNT} callbacks ready once each, worst lateness ${maxLateMs} ms`);
  });
});
