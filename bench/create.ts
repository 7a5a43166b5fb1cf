/**
 * Create-callback throughput and latency next to the floor: a bare Hono route doing the same single
 * INSERT plus queue.add on the same database and Redis, in the same run: first as fast as 50
 * connections go, then both at one fixed arrival rate (half the floor's maximum), where latency is
 * the request's own rather than the wait behind 49 others. Then the preview (calling rules engine)
 * over HTTP, in process, and the engine alone.  Run: npx tsx bench/create.ts [seconds]
 *
 * Both routes share one pool of BENCH_POOL (4) PostgreSQL connections: on this 2-core machine a
 * few busy connections beat many idle ones (create 825/s at 4, 640/s at 10 or 20).
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Hono } from 'hono';
import { Queue } from 'bullmq';
import { callbacks } from '../src/db/schema/index.js';
import { bullPrefix } from '../src/queues/queues.js';
import { customerPhone } from '../src/services/customer-phone.js';
import { previewSchedule } from '../src/services/preview.js';
import { buildCallingRules, findSlot } from '../src/services/scheduling.js';
import { loadSetting } from '../src/services/settings.js';
import type { TestContext } from '../test/helpers/harness.js';
import { bodyOf, listen, load, type LoadOptions, type LoadResult } from './http.js';
import { percentile, printTable, startStack, writeResults } from './lib.js';

const POOL = Number(process.env.BENCH_POOL ?? 4);

export async function benchCreate(seconds = 10) {
  const t = await startStack({ DATABASE_POOL_SIZE: String(POOL) });
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

  const auth = { authorization: `Bearer ${agent}` };
  const floorServer = await listen(floor.fetch);
  const appServer = await listen(t.app.fetch);
  const floorLoad = (tag: string, more: Partial<LoadOptions>) =>
    load({ url: `${floorServer.url}/floor`, body: ['create', `${tag}-${run}`], seconds, ...more });
  const createLoad = (tag: string, more: Partial<LoadOptions>) =>
    load({ url: `${appServer.url}/v1/callbacks`, headers: auth, body: ['create', `${tag}-${run}`], seconds, ...more });
  const results: Record<string, LoadResult> = {};
  let fixedRate = 0;
  try {
    // Warm both up, then measure back to back: same machine, same run.
    await floorLoad('warm-floor', { seconds: 2 });
    await createLoad('warm-app', { seconds: 2 });
    results.floor = await floorLoad('floor', {});
    results.create = await createLoad('create', {});
    // At saturation, 50 connections wait on each other (latency ≈ 50 / throughput); the latency of
    // a request itself shows at a fixed arrival rate both can sustain: half the floor's maximum.
    fixedRate = Math.max(10, Math.round(results.floor.requestsPerSecond / 20) * 10);
    results.floorAtRate = await floorLoad('floor-rate', { rate: fixedRate });
    results.createAtRate = await createLoad('create-rate', { rate: fixedRate });
    results.preview = await load({ url: `${appServer.url}/v1/schedule/preview`, headers: auth, body: ['preview'], seconds });
  } finally {
    await appServer.close();
    await floorServer.close();
    await floorQueue.obliterate({ force: true });
    await floorQueue.close();
  }
  const inProcess = await previewInProcess(t, seconds).finally(() => t.close());
  const ratio = results.create!.requestsPerSecond / results.floor!.requestsPerSecond;
  return { seconds, connections: 50, pool: POOL, fixedRate, results, inProcess, createToFloorRatio: Number(ratio.toFixed(3)) };
}

/**
 * The preview without HTTP: `previewSchedule` (phone, policy, the number's recent attempts, rules)
 * from 50 concurrent callers, then the rules engine alone (phone, rules, slot) on settings read once.
 */
async function previewInProcess(t: TestContext, seconds: number) {
  const { db, config } = t.runtime.deps;
  const input = (i: number) => bodyOf(['preview'], i) as { phone: string; category: string };
  const latencies: number[] = [];
  let n = 0;
  const until = performance.now() + seconds * 1000;
  const caller = async () => {
    while (performance.now() < until) {
      const started = performance.now();
      await previewSchedule(db, input(n++), config.DEFAULT_REGION, new Date());
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: 50 }, caller));
  const service = { perSecond: Math.round(latencies.length / seconds), p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };

  const settings = await loadSetting(db, 'calling');
  const engineUntil = performance.now() + (seconds / 2) * 1000;
  let m = 0;
  for (; performance.now() < engineUntil; m++) {
    const now = new Date();
    const { phone, zones } = customerPhone(input(m), config.DEFAULT_REGION);
    const rules = buildCallingRules(settings, { phone, zones, notBefore: now, preferredWindows: null }, []);
    findSlot(rules, now, new Date(now.getTime() + 48 * 3600_000), { intervals: 10 });
  }
  return { service, engine: { perSecond: Math.round(m / (seconds / 2)) } };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = await benchCreate(Number(process.argv[2] ?? 10));
  printTable(
    Object.entries(out.results).map(([name, r]) => ({
      benchmark: name.replace('AtRate', ` @${out.fixedRate}/s`),
      'req/s': Math.round(r.requestsPerSecond),
      'p50 ms': r.p50Ms,
      'p99 ms': r.p99Ms,
      non2xx: r.non2xx,
      errors: r.errors,
    })),
  );
  console.log(`create / floor = ${out.createToFloorRatio}`);
  const { service, engine } = out.inProcess;
  console.log(`preview in process: ${service.perSecond}/s (p50 ${service.p50Ms.toFixed(1)} ms, p99 ${service.p99Ms.toFixed(1)} ms); rules engine alone: ${engine.perSecond}/s`);
  console.log(writeResults('create', out));
}
