/**
 * Scale: how the create rate and Redis memory per scheduled callback change from 10,000 to
 * 1,000,000 scheduled callbacks. Uses a redis-server of its own so the memory figure is exact.
 * Run: npx tsx bench/scale.ts [maxCallbacks] [seconds]
 */
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { enqueueWakeups, insertScheduledCallbacks } from '../test/helpers/bulk-callbacks.js';
import { listen, load } from './http.js';
import { printTable, startStack, writeResults } from './lib.js';

async function usedMemory(url: string): Promise<number> {
  const client = new Redis(url);
  try {
    await client.call('MEMORY', 'PURGE').catch(() => {});
    const info = await client.info('memory');
    return Number(/used_memory:(\d+)/.exec(info)![1]);
  } finally {
    client.disconnect();
  }
}

export async function benchScale(max = 1_000_000, seconds = 5) {
  const redis = await startRedisServer();
  const t = await startStack({ REDIS_URL: redis.url, DATABASE_POOL_SIZE: '20' });
  const admin = await t.key('admin');
  const agent = await t.key('agent', { id: 'bench-agent' });
  await t.request('PUT', '/v1/policies/billing', { key: admin, body: { enabled: true } });
  const server = await listen(t.app.fetch);
  const levels = [10_000, 100_000, 1_000_000].filter((n) => n <= max);
  const baseline = await usedMemory(redis.url);
  const rows: Record<string, number>[] = [];
  let seeded = 0;
  try {
    for (const level of levels) {
      // Far in the future, so nothing fires during the run; as many distinct numbers as callbacks.
      const due = new Date(Date.now() + 30 * 24 * 3600_000);
      const started = performance.now();
      const created = await insertScheduledCallbacks(t.sql, { count: level - seeded, scheduledFor: due, tag: `scale${level}` });
      await enqueueWakeups(t.runtime.queues, created);
      const seedSeconds = (performance.now() - started) / 1000;
      seeded = level;
      const memory = await usedMemory(redis.url);
      const result = await load({
        url: `${server.url}/v1/callbacks`,
        headers: { authorization: `Bearer ${agent}` },
        body: ['create', `scale-create-${level}`, '213'],
        seconds,
      });
      seeded += result.total;
      rows.push({
        scheduled: level,
        'seed s': Number(seedSeconds.toFixed(1)),
        'redis bytes/callback': Math.round((memory - baseline) / level),
        'create req/s': Math.round(result.requestsPerSecond),
        'create p99 ms': result.p99Ms,
        non2xx: result.non2xx,
      });
    }
  } finally {
    await server.close();
    await t.close();
    await redis.stop();
  }
  return { levels: rows };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = await benchScale(Number(process.argv[2] ?? 1_000_000), Number(process.argv[3] ?? 5));
  printTable(out.levels);
  console.log(writeResults('scale', out));
}
