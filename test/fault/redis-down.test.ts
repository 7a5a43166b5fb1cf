import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dueJobId } from '../../src/queues/queues.js';
import { callAroundTheClock, createTestContext, type TestContext } from '../helpers/harness.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/worker-process.js';

/**
 * Redis is down while PostgreSQL is up: creating a callback must fail fast with 503 and store
 * nothing (a callback without its wake-up would never fire), and the service recovers by itself.
 */
let redis: RedisServer;
let t: TestContext;
let admin: string;
let agent: string;
let seq = 0;


const body = () => ({
  caseRef: `REDIS-DOWN-${++seq}-${Date.now()}`,
  category: 'billing',
  phone: `+1 212 555 ${String(2000 + seq).slice(-4)}`,
  reason: 'We will explain the December invoice again',
  firstExplanation: { summary: 'Explained the late fee policy' },
  notBefore: new Date(Date.now() + 3600_000).toISOString(),
});

async function counts(): Promise<Record<string, number>> {
  const [row] = await t.sql`select
    (select count(*)::int from callbacks) as callbacks,
    (select count(*)::int from callback_events) as events,
    (select count(*)::int from outbox) as outbox,
    (select count(*)::int from idempotency_keys) as idempotency`;
  return { ...row };
}

beforeAll(async () => {
  redis = await startRedisServer();
  t = await createTestContext({ REDIS_URL: redis.url });
  admin = await t.key('admin');
  agent = await t.key('agent', { id: 'redis-down-agent' });
  expect((await t.request('PUT', '/v1/policies/billing', { key: admin, body: { enabled: true } })).status).toBe(200);
  await callAroundTheClock(t, admin);
});
afterAll(async () => {
  await t?.close();
  await redis?.stop();
});

describe('Redis down (SPEC §6, §9)', () => {
  it('answers 503 fast, stores nothing, reports not ready, and recovers when Redis is back', { timeout: 60_000 }, async () => {
    expect((await t.request('POST', '/v1/callbacks', { key: agent, body: body() })).status).toBe(201);
    expect((await t.request('GET', '/readyz')).status).toBe(200);

    await redis.stop();
    const before = await counts();

    const variants: Record<string, string>[] = [{}, { 'idempotency-key': `down-${Date.now()}` }];
    for (const headers of variants) {
      const started = Date.now();
      const res = await t.request('POST', '/v1/callbacks', { key: agent, body: body(), headers });
      expect(Date.now() - started).toBeLessThan(3000);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body).toMatchObject({ status: 503, code: 'service_unavailable' });
    }
    expect(await counts()).toEqual(before);

    const started = Date.now();
    const ready = await t.request('GET', '/readyz');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(ready).toMatchObject({ status: 503, body: { checks: { postgres: 'ok', redis: 'down' } } });

    await redis.start();
    // ioredis reconnects with a backoff of its own: poll, bounded.
    const created = await waitFor(
      async () => {
        const res = await t.request('POST', '/v1/callbacks', { key: agent, body: body() });
        if (res.status !== 201) expect(res.status).toBe(503);
        return res.status === 201 ? res.body : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'POST /v1/callbacks to succeed again' },
    );
    expect(created).toMatchObject({ status: 'scheduled' });
    expect(await t.runtime.queues.due.getJob(dueJobId(created.id, created.version))).toBeTruthy();
    expect((await t.request('GET', '/readyz')).status).toBe(200);
    const after = await counts();
    expect(after.callbacks).toBe((before.callbacks ?? 0) + 1);
  });
});
