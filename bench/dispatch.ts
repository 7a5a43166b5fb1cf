/**
 * Dispatch benchmark (issue "Dispatch"): how fast one worker process turns due callbacks into
 * `ready`, how late they are under a steady load, and how far that is from the floor (a bare
 * BullMQ worker doing the single conditional UPDATE, no rules engine, no timeline or outbox).
 *
 *   npx tsx bench/dispatch.ts
 *
 * Knobs (environment): BENCH_N (10000), BENCH_CONCURRENCY ("50,100,200"), BENCH_POOL (20),
 * BENCH_RATE (500 per s), BENCH_SECONDS (20).
 */
import { Queue, Worker } from 'bullmq';
import { bullPrefix, dueJobId, QUEUE_NAMES, workerConnection, type DueJob } from '../src/queues/queues.js';
import { startWorkers } from '../src/queues/workers.js';
import { dispatchDue } from '../src/services/dispatch.js';
import type { TestContext } from '../test/helpers/harness.js';
import { enqueueWakeups, insertScheduledCallbacks } from '../test/helpers/bulk-callbacks.js';
import { dbCounters, percentile, printTable, startStack, until, writeResults } from './lib.js';

const N = Number(process.env.BENCH_N ?? 10_000);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '50,100,200').split(',').map(Number);
const POOL = Number(process.env.BENCH_POOL ?? 20);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
/** Seeding 10,000 rows and jobs takes a few seconds: the burst is due this long after seeding starts. */
const LEAD_MS = 8000;
const TIMEOUT_MS = 10 * 60_000;

interface RunResult {
  scenario: string;
  concurrency: number;
  pool: number;
  n: number;
  /** First due time to the last `ready`. */
  durationMs: number;
  perSecond: number;
  lateP50Ms: number;
  lateP99Ms: number;
  lateMaxMs: number;
  /** PostgreSQL transactions (each autocommit statement counts as one) per dispatch. */
  pgTransactionsPerDispatch: number;
  /** CPU time of this Node process over wall time (1.0 = one core busy). */
  nodeCpu: number;
  seedLateMs: number;
}

/** When each row of `tag` became ready, relative to when it was due. */
async function readyTimes(t: TestContext, tag: string): Promise<{ due: number; ready: number }[]> {
  const rows = await t.sql`
    select extract(epoch from scheduled_for) * 1000 as due, extract(epoch from updated_at) * 1000 as ready
    from callbacks where case_ref like ${`${tag}-%`} and status = 'ready'`;
  return rows.map((r) => ({ due: Number(r.due), ready: Number(r.ready) }));
}

const countReady = async (t: TestContext, tag: string) =>
  Number((await t.sql`select count(*)::int as n from callbacks where case_ref like ${`${tag}-%`} and status = 'ready'`)[0]!.n);

/**
 * Seeds `count` callbacks due at `dueAt(i)`, starts `consume`, waits until all are ready and
 * measures. `enqueue` adds the wake-ups to whichever queue the consumer reads.
 */
async function measure(
  t: TestContext,
  options: {
    scenario: string;
    concurrency: number;
    count: number;
    dueAt: (i: number, t0: number) => number;
    enqueue: (rows: { id: string; version: number; scheduledFor: Date }[]) => Promise<void>;
    consume: () => { close(): Promise<void> };
  },
): Promise<RunResult> {
  const tag = `${options.scenario}-${options.concurrency}-${Date.now()}`;
  const t0 = Date.now() + LEAD_MS;
  const rows = await insertScheduledCallbacks(t.sql, {
    count: options.count,
    scheduledFor: (i) => new Date(options.dueAt(i, t0)),
    tag,
  });
  await options.enqueue(rows);
  const seedLateMs = Math.max(0, Date.now() - t0);
  const consumer = options.consume();

  const before = await dbCounters(t.sql);
  const cpuBefore = process.cpuUsage();
  const wallBefore = Date.now();
  const done = await until(async () => (await countReady(t, tag)) === options.count, TIMEOUT_MS, 100);
  const wallMs = Date.now() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  const after = await dbCounters(t.sql);
  await consumer.close();
  if (!done) throw new Error(`${options.scenario}: only ${await countReady(t, tag)} of ${options.count} ready after ${TIMEOUT_MS} ms`);

  const times = await readyTimes(t, tag);
  const late = times.map((x) => Math.max(0, x.ready - x.due));
  const lastReady = Math.max(...times.map((x) => x.ready));
  const firstDue = Math.min(...times.map((x) => x.due));
  const durationMs = lastReady - firstDue;
  return {
    scenario: options.scenario,
    concurrency: options.concurrency,
    pool: POOL,
    n: options.count,
    durationMs: Math.round(durationMs),
    perSecond: Math.round((options.count / durationMs) * 1000),
    lateP50Ms: Math.round(percentile(late, 50)),
    lateP99Ms: Math.round(percentile(late, 99)),
    lateMaxMs: Math.round(Math.max(...late)),
    // Includes the benchmark's own polling (a handful of statements per 100 ms).
    pgTransactionsPerDispatch: Number(((after.transactions - before.transactions) / options.count).toFixed(1)),
    nodeCpu: Number(((cpu.user + cpu.system) / 1000 / wallMs).toFixed(2)),
    seedLateMs,
  };
}

/** The whole worker process: due worker with dispatchDue, plus outbox relay, webhooks, maintenance. */
function fullWorkers(t: TestContext, concurrency: number) {
  return () => startWorkers({ ...t.runtime.deps, config: { ...t.config, WORKER_CONCURRENCY: concurrency } });
}

async function fullBurst(concurrency: number): Promise<RunResult> {
  const t = await startStack({ DATABASE_POOL_SIZE: String(POOL) });
  try {
    return await measure(t, {
      scenario: 'burst',
      concurrency,
      count: N,
      dueAt: (_i, t0) => t0,
      enqueue: (rows) => enqueueWakeups(t.runtime.queues, rows),
      consume: fullWorkers(t, concurrency),
    });
  } finally {
    await t.close();
  }
}

async function steadyLoad(concurrency: number): Promise<RunResult> {
  const t = await startStack({ DATABASE_POOL_SIZE: String(POOL) });
  try {
    const count = RATE * SECONDS;
    return await measure(t, {
      scenario: `steady ${RATE}/s`,
      concurrency,
      count,
      dueAt: (i, t0) => t0 + Math.floor((i * 1000) / RATE),
      enqueue: (rows) => enqueueWakeups(t.runtime.queues, rows),
      consume: fullWorkers(t, concurrency),
    });
  } finally {
    await t.close();
  }
}

/**
 * The due worker alone (dispatchDue, no outbox relay or maintenance beside it): separates the cost
 * of a dispatch from the cost of the other work a worker process does at the same time.
 */
async function dueOnlyBurst(concurrency: number): Promise<RunResult> {
  const t = await startStack({ DATABASE_POOL_SIZE: String(POOL) });
  try {
    return await measure(t, {
      scenario: 'due worker only',
      concurrency,
      count: N,
      dueAt: (_i, t0) => t0,
      enqueue: (rows) => enqueueWakeups(t.runtime.queues, rows),
      consume: () => bareWorker(t, bullPrefix(t.config.QUEUE_PREFIX), concurrency, (job) => dispatchDue(t.runtime.deps, job, new Date())),
    });
  } finally {
    await t.close();
  }
}

function bareWorker(t: TestContext, prefix: string, concurrency: number, process: (job: DueJob) => Promise<unknown>) {
  const connection = workerConnection(t.config.REDIS_URL);
  const worker = new Worker<DueJob>(QUEUE_NAMES.due, (job) => process(job.data), { connection, prefix, concurrency });
  return {
    close: async () => {
      await worker.close();
      connection.disconnect();
    },
  };
}

/** The floor: the same jobs, a bare BullMQ worker, one conditional UPDATE each. */
async function floorBurst(concurrency: number): Promise<RunResult> {
  const t = await startStack({ DATABASE_POOL_SIZE: String(POOL) });
  const prefix = bullPrefix(`${t.config.QUEUE_PREFIX}-floor`);
  const queue = new Queue<DueJob>(QUEUE_NAMES.due, { connection: t.runtime.redis, prefix });
  try {
    return await measure(t, {
      scenario: 'floor',
      concurrency,
      count: N,
      dueAt: (_i, t0) => t0,
      enqueue: async (rows) => {
        for (let i = 0; i < rows.length; i += 1000) {
          await queue.addBulk(
            rows.slice(i, i + 1000).map((r) => ({
              name: 'due',
              data: { callbackId: r.id, version: r.version },
              opts: { jobId: dueJobId(r.id, r.version), delay: Math.max(0, r.scheduledFor.getTime() - Date.now()), removeOnComplete: 1000 },
            })),
          );
        }
      },
      consume: () =>
        bareWorker(t, prefix, concurrency, async (job) => {
          await t.sql`
            update callbacks set status = 'ready', version = version + 1, updated_at = clock_timestamp()
            where id = ${job.callbackId} and version = ${job.version} and status = 'scheduled'`;
        }),
    });
  } finally {
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    await t.close();
  }
}

async function main() {
  const results: RunResult[] = [];
  const report = (r: RunResult) => {
    results.push(r);
    console.log(`${r.scenario} c=${r.concurrency}: ${r.perSecond}/s, lateness p99 ${r.lateP99Ms} ms`);
  };

  for (const c of CONCURRENCIES) report(await fullBurst(c));
  const best = results.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  // Steady load and the comparisons run at the concurrency that did best in the burst.
  report(await dueOnlyBurst(best.concurrency));
  report(await floorBurst(best.concurrency));
  report(await steadyLoad(best.concurrency));

  const floor = results.find((r) => r.scenario === 'floor')!;
  const dueOnly = results.find((r) => r.scenario === 'due worker only')!;
  const steady = results.find((r) => r.scenario.startsWith('steady'))!;
  const summary = {
    bestConcurrency: best.concurrency,
    dispatchesPerSecond: best.perSecond,
    dueWorkerOnlyPerSecond: dueOnly.perSecond,
    floorPerSecond: floor.perSecond,
    ratioToFloor: Number((best.perSecond / floor.perSecond).toFixed(2)),
    steadyLatenessP50Ms: steady.lateP50Ms,
    steadyLatenessP99Ms: steady.lateP99Ms,
    targets: { perSecond: 1000, latenessP99Ms: 1000 },
    met: { perSecond: best.perSecond >= 1000, latenessP99: steady.lateP99Ms <= 1000 },
  };
  console.log();
  printTable(results.map(({ pool: _pool, seedLateMs: _seed, ...r }) => r));
  console.log();
  console.log(JSON.stringify(summary, null, 2));
  const path = writeResults('dispatch', {
    at: new Date().toISOString(),
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    settings: { n: N, concurrencies: CONCURRENCIES, pool: POOL, rate: RATE, seconds: SECONDS },
    results,
    summary,
  });
  console.log(`written ${path}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
