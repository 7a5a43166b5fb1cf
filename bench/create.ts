/**
 * Create-callback throughput and latency next to the floor: a bare Hono route doing the same single
 * INSERT plus queue.add on the same database and Redis, in the same run. Then the preview (calling
 * rules engine) throughput.  Run: npx tsx bench/create.ts [seconds]
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Hono } from 'hono';
import { Queue } from 'bullmq';
import { callbacks } from '../src/db/schema/index.js';
import { bullPrefix } from '../src/queues/queues.js';
import { listen, load, type LoadResult } from './http.js';
import { printTable, startStack, writeResults } from './lib.js';

const phoneOf = (i: number) => `+1 212 555 ${String(i % 10_000).padStart(4, '0')}`;

export async function benchCreate(seconds = 10) {
  const t = await startStack({ DATABASE_POOL_SIZE: '20' });
  const admin = await t.key('admin');
  const agent = await t.key('agent', { id: 'bench-agent' });
  await t.request('PUT', '/v1/policies/billing', { key: admin, body: { enabled: true } });
  const run = randomUUID().slice(0, 8);

  // The floor: what the bare libraries need for the same write (one row, one delayed job).
  const floorQueue = new Queue('floor', { connection: t.runtime.redis, prefix: bullPrefix(t.config.QUEUE_PREFIX) });
  const { db } = t.runtime.deps;
  const floor = new Hono().post('/floor', async (c) => {
    const body = await c.req.json<{ caseRef: string; phone: string; reason: string }>();
    const id = randomUUID();
    const now = new Date();
    await floorQueue.add('due', { callbackId: id, version: 1 }, { jobId: `floor-${id}`, delay: 3600_000 });
    await db.insert(callbacks).values({
      id,
      status: 'scheduled',
      caseRef: body.caseRef,
      category: 'billing',
      round: 2,
      phoneE164: body.phone,
      phoneType: 'fixed_line_or_mobile',
      timezones: ['America/New_York'],
      timezoneSource: 'number',
      reason: body.reason,
      firstExplanation: { summary: 's' },
      notBefore: now,
      deadline: new Date(now.getTime() + 48 * 3600_000),
      scheduledFor: new Date(now.getTime() + 3600_000),
      requiredSkill: 'second_explanation',
      createdBy: 'bench',
    });
    return c.json({ id }, 201);
  });

  const createBody = (prefix: string) => (i: number) => ({
    caseRef: `${prefix}-${run}-${i}`,
    category: 'billing',
    phone: phoneOf(i),
    reason: 'We will explain the invoice again',
    firstExplanation: { summary: 'Explained the fee' },
  });
  const auth = { authorization: `Bearer ${agent}` };

  const floorServer = await listen(floor.fetch);
  const appServer = await listen(t.app.fetch);
  const results: Record<string, LoadResult> = {};
  try {
    // Warm both up, then measure; the order alternates nothing: same machine, same run, back to back.
    await load({ url: `${floorServer.url}/floor`, body: createBody('warm-floor'), seconds: 2 });
    await load({ url: `${appServer.url}/v1/callbacks`, headers: auth, body: createBody('warm-app'), seconds: 2 });
    results.floor = await load({ url: `${floorServer.url}/floor`, body: (i) => ({ ...createBody('floor')(i), phone: '+12125550000' }), seconds });
    results.create = await load({ url: `${appServer.url}/v1/callbacks`, headers: auth, body: createBody('create'), seconds });
    results.preview = await load({
      url: `${appServer.url}/v1/schedule/preview`,
      headers: auth,
      body: (i) => ({ phone: phoneOf(i), category: 'billing' }),
      seconds,
    });
  } finally {
    await appServer.close();
    await floorServer.close();
    await floorQueue.obliterate({ force: true });
    await floorQueue.close();
    await t.close();
  }
  const ratio = results.create!.requestsPerSecond / results.floor!.requestsPerSecond;
  return { seconds, connections: 50, results, createToFloorRatio: Number(ratio.toFixed(3)) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = await benchCreate(Number(process.argv[2] ?? 10));
  printTable(
    Object.entries(out.results).map(([name, r]) => ({
      benchmark: name,
      'req/s': Math.round(r.requestsPerSecond),
      'p50 ms': r.p50Ms,
      'p99 ms': r.p99Ms,
      non2xx: r.non2xx,
      errors: r.errors,
    })),
  );
  console.log(`create / floor = ${out.createToFloorRatio}`);
  console.log(writeResults('create', out));
}
