import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import type { Redis } from 'ioredis';
import { createApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startRuntime, type Runtime } from '../../src/runtime.js';
import { createApiKey, type Role } from '../../src/services/api-keys.js';
import { agents } from '../../src/db/schema/index.js';

const PG_BASE = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestContext {
  config: Config;
  runtime: Runtime;
  app: ReturnType<typeof createApp>;
  /** Fixes the service's clock (null: real time). */
  setNow(date: Date | null): void;
  request(method: string, path: string, options?: { body?: unknown; key?: string; headers?: Record<string, string> }): Promise<TestResponse>;
  key(role: Role, agent?: { id?: string; skills?: string[]; displayName?: string }): Promise<string>;
  sql: postgres.Sql;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests assert on the shape
  body: any;
}

/** Removes what a test left in Redis under its prefix (queues of its own, rate-limit counters). */
async function deleteKeys(redis: Redis, patterns: string[]): Promise<void> {
  for (const match of patterns) {
    const stream = redis.scanStream({ match, count: 1000 });
    for await (const keys of stream as AsyncIterable<string[]>) if (keys.length > 0) await redis.unlink(...keys);
  }
}

/** A service on its own database and Redis prefix, so test files never see each other's data. */
export async function createTestContext(overrides: Record<string, string> = {}): Promise<TestContext> {
  const id = randomBytes(5).toString('hex');
  const dbUrl = new URL(PG_BASE);
  dbUrl.pathname = `/sc_test_${id}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: dbUrl.toString(),
    DATABASE_POOL_SIZE: '5',
    REDIS_URL,
    QUEUE_PREFIX: `sctest-${id}`,
    LOG_LEVEL: 'silent',
    SECRET_KEY: 'test-secret-key-test-secret-key-0123456789',
    // Test receivers listen on 127.0.0.1; the SSRF guard's own tests turn it back on.
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    ...overrides,
  });
  const runtime = await startRuntime(config, createLogger(config.LOG_LEVEL));
  let fixedNow: Date | null = null;
  runtime.deps.now = () => fixedNow ?? new Date();
  const app = createApp(runtime.deps);
  const sql = runtime.database.sql;

  return {
    config,
    runtime,
    app,
    sql,
    setNow: (date) => {
      fixedNow = date;
    },
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.key) headers.authorization = `Bearer ${options.key}`;
      let body: string | undefined;
      if (options.body !== undefined) {
        body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await app.request(path, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, headers: res.headers, body: parsed };
    },
    async key(role, agent) {
      let agentId: string | null = null;
      if (role === 'agent') {
        agentId = agent?.id ?? `agent-${randomBytes(4).toString('hex')}`;
        await runtime.deps.db
          .insert(agents)
          .values({ id: agentId, displayName: agent?.displayName ?? 'Test Agent', skills: agent?.skills ?? ['second_explanation'] })
          .onConflictDoNothing();
      }
      return (await createApiKey(runtime.deps.db, { role, name: `test ${role}`, agentId })).key;
    },
    async close() {
      await Promise.all(runtime.queues.all().map((q) => q.obliterate({ force: true }).catch(() => {})));
      await deleteKeys(runtime.redis, [`{${config.QUEUE_PREFIX}}*`, `${config.QUEUE_PREFIX}:*`]).catch(() => {});
      await runtime.close();
      const admin = postgres(PG_BASE, { max: 1, onnotice: () => {} });
      await admin`drop database if exists ${admin(dbUrl.pathname.slice(1))} with (force)`;
      await admin.end();
    },
  };
}

export const ALL_DAY = [{ days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' }];

/**
 * Calling permitted around the clock (tests on the real clock run at any hour) for these
 * countries and by default, with a center open 24/7 in UTC and generous caps.
 */
export async function callAroundTheClock(t: TestContext, adminKey: string, countries: string[] = ['US']): Promise<void> {
  const res = await t.request('PUT', '/v1/settings/calling', {
    key: adminKey,
    body: {
      legalHours: { default: ALL_DAY, byCountry: Object.fromEntries(countries.map((c) => [c, ALL_DAY])) },
      center: { timezone: 'UTC', hours: ALL_DAY, closedDates: [] },
      caps: { perDay: 100, perWeek: 500 },
    },
  });
  if (res.status !== 200) throw new Error(`could not set calling settings: ${res.status} ${JSON.stringify(res.body)}`);
}
