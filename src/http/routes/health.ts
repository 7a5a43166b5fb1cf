import { Hono } from 'hono';
import type { AppEnv } from '../context.js';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);

export function healthRouter() {
  return new Hono<AppEnv>()
    .get('/healthz', (c) => c.json({ status: 'ok' }))
    .get('/readyz', async (c) => {
      const { db, redis } = c.var.deps;
      const [postgres, redisCheck] = await Promise.allSettled([
        withTimeout(db.execute('select 1'), 2000),
        withTimeout(redis.ping(), 2000),
      ]);
      const checks = {
        postgres: postgres.status === 'fulfilled' ? 'ok' : 'down',
        redis: redisCheck.status === 'fulfilled' ? 'ok' : 'down',
      };
      const ready = checks.postgres === 'ok' && checks.redis === 'ok';
      return c.json({ status: ready ? 'ok' : 'unavailable', checks }, ready ? 200 : 503);
    });
}
