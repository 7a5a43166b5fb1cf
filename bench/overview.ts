/**
 * The ops overview at scale: 1,000,000 callbacks with their attempts, verification sessions,
 * timeline rows, opt-outs, scam reports and exemptions, bulk-seeded with generate_series on a
 * database of its own. Measures
 *  - GET /v1/ops/overview latency (p50/p95 over ~50 requests; target p95 ≤ 200 ms), with the
 *    existing indexes only and with the indexes this module proposes, and EXPLAINs every query;
 *  - POST /v1/callbacks latency and throughput on the empty database and on the seeded one
 *    (target: no more than 20 % slower).
 * Run: npx tsx bench/overview.ts [callbacks=1000000] [overviewRequests=50] [createSeconds=5] [rounds=5]
 */
import { pathToFileURL } from 'node:url';
import { sql, type SQL } from 'drizzle-orm';
import type { TestContext } from '../test/helpers/harness.js';
import { overviewQueries, overviewWindow } from '../src/ops/overview.js';
import { bodyOf, listen, load, type BodySpec, type LoadResult } from './http.js';
import { percentile, printTable, startStack, writeResults } from './lib.js';

/**
 * The indexes migrations 0004 and 0005 add for the overview. The benchmark measures the overview
 * without them (the schema before those migrations: plain indexes on attempts.started_at and
 * callbacks.updated_at) and with them, on the same seeded database.
 */
export const OPS_INDEXES: Record<string, string> = {
  callbacks_sla_breached_idx: 'create index callbacks_sla_breached_idx on callbacks (sla_breached_at) where sla_breached_at is not null',
  verification_sessions_verified_idx:
    'create index verification_sessions_verified_idx on verification_sessions (valid_from) where verified_at is not null',
  opt_outs_created_idx: 'create index opt_outs_created_idx on opt_outs (created_at)',
  attempts_started_idx: 'create index attempts_started_idx on attempts (started_at) include (caller_number, result)',
  callbacks_updated_idx: 'create index callbacks_updated_idx on callbacks (updated_at) include (status, outcome)',
};

/** The plain indexes the two covering ones replaced. */
const PLAIN_INDEXES: Record<string, string> = {
  attempts_started_idx: 'create index attempts_started_idx on attempts (started_at)',
  callbacks_updated_idx: 'create index callbacks_updated_idx on callbacks (updated_at)',
};

const OFFICIAL = ['+12125550100', '+12125550101', '+12125550102', '+12125550103'];

/** Seeds `n` callbacks in a realistic mix, relative to `now`. Returns seconds per table. */
export async function seed(t: TestContext, n: number, now: Date): Promise<Record<string, number>> {
  const timings: Record<string, number> = {};
  const step = async (name: string, run: () => Promise<unknown>) => {
    const started = performance.now();
    await run();
    timings[name] = Number(((performance.now() - started) / 1000).toFixed(1));
    console.log(`  seeded ${name} in ${timings[name]} s`);
  };
  const at = now.toISOString();
  const official = `{${OFFICIAL.join(',')}}`;

  // 1 % active (created in the last 3 days), the rest finished over 180 days. r is a stable
  // pseudo-random number per row, so the mix is the same on every run.
  await step('callbacks', () =>
    t.sql.unsafe(
      `insert into callbacks (status, version, case_ref, category, round, phone_e164, phone_country, phone_type, timezones,
         timezone_source, reason, first_explanation, not_before, deadline, priority, scheduled_for, attempt_count, outcome,
         required_skill, created_by, sla_at_risk_at, sla_breached_at, created_at, updated_at)
       select s.status::callback_status, 3, 'BENCH-' || g, 'billing', 2, '+1212' || (2000000 + g), 'US', 'fixed_line_or_mobile',
         '{America/New_York}', 'number', 'Second explanation of the invoice', '{"summary":"Explained the fee"}'::jsonb,
         c.created, c.created + interval '48 hours', (r % 10)::smallint,
         case when s.status in ('scheduled', 'ready', 'claimed', 'in_call')
           then $1::timestamptz - interval '1 hour' + ((r / 13) % (72 * 3600)) * interval '1 second' end,
         case when s.active then 0 else 1 + r % 3 end,
         case when s.status = 'completed'
           then (array['accepted','accepted','accepted','accepted','accepted','not_accepted','not_accepted','declined','escalated','wrong_number'])[1 + (r / 100) % 10] end,
         'second_explanation', 'agent:bench',
         case when c.created + interval '46 hours' < $1::timestamptz and (s.active or r % 20 = 0) then c.created + interval '46 hours' end,
         case when c.created + interval '48 hours' < $1::timestamptz and ((s.active and s.status <> 'awaiting_consent') or r % 20 = 0)
           then c.created + interval '48 hours' end,
         c.created,
         case when s.active then c.created else least($1::timestamptz, c.created + ((r / 7) % (48 * 3600)) * interval '1 second') end
       from generate_series(1, $2::int) g
       cross join lateral (select (hashint4(g) & 2147483647)::bigint as r) h
       cross join lateral (select g % 100 = 0 as active) a
       cross join lateral (select case
           when active then $1::timestamptz - (r % (72 * 3600)) * interval '1 second'
           else $1::timestamptz - interval '180 days' * (g::float8 / $2::int) end as created) c
       cross join lateral (select active, case
           when active then (array['scheduled','scheduled','scheduled','scheduled','scheduled','scheduled','ready','claimed','in_call','awaiting_consent'])[1 + (g / 100) % 10]
           when r % 100 < 75 then 'completed' when r % 100 < 83 then 'unreachable' when r % 100 < 88 then 'cancelled'
           when r % 100 < 91 then 'declined' when r % 100 < 94 then 'suppressed' when r % 100 < 97 then 'expired'
           else 'exempted' end as status) s`,
      [at, n],
    ),
  );
  await step('callback_events', () =>
    t.sql.unsafe(`insert into callback_events (callback_id, at, actor, from_status, to_status, details)
      select id, created_at, created_by, null, status, '{}'::jsonb from callbacks`),
  );
  // One to three dials per callback that was called; the last one of a completed callback connected.
  await step('attempts', () =>
    t.sql.unsafe(
      `insert into attempts (callback_id, number, phone_e164, caller_number, started_at, ended_at, result, outcome)
       select c.id, k, c.phone_e164, ($2::text[])[1 + (x % 4)], st, case when c.status = 'in_call' and k = c.attempt_count then null else st + interval '4 minutes' end,
         case
           when c.status = 'in_call' and k = c.attempt_count then null
           when c.status = 'completed' and k = c.attempt_count then 'connected'
           when x % 100 < 30 then 'connected' when x % 100 < 70 then 'no_answer' when x % 100 < 82 then 'busy'
           when x % 100 < 94 then 'voicemail' else 'failed' end,
         case when c.status = 'completed' and k = c.attempt_count then c.outcome end
       from callbacks c
       cross join lateral generate_series(1, greatest(c.attempt_count, case when c.status = 'in_call' then 1 else 0 end)) k
       cross join lateral (select (hashtext(c.case_ref || ':' || k) & 2147483647)::bigint as x) h
       cross join lateral (select least($1::timestamptz - interval '1 minute', c.created_at + k * interval '2 hours') as st) s`,
      [at, official],
    ),
  );
  await step('verification_sessions', () =>
    t.sql.unsafe(`insert into verification_sessions (attempt_id, callback_id, phone_e164, code_hash, valid_from, expires_at,
        hard_expires_at, verified_at, created_at)
      select id, callback_id, phone_e164, md5(id::text), started_at, started_at + interval '30 minutes',
        started_at + interval '30 minutes',
        case when result = 'connected' and hashtext(id::text) % 5 <> 0 then started_at + interval '1 minute' end, started_at
      from attempts`),
  );
  await step('opt_outs', () =>
    t.sql.unsafe(
      `insert into opt_outs (phone_e164, scope, source, created_by, created_at)
       select '+1213' || (2000000 + g), (array['all','all','voice','sms'])[1 + g % 4]::opt_out_scope, 'sms', 'customer',
         $1::timestamptz - interval '365 days' * (g::float8 / 50000)
       from generate_series(1, 50000) g`,
      [at],
    ),
  );
  await step('scam_reports', () =>
    t.sql.unsafe(
      `insert into scam_reports (caller_number, caller_e164, reporter_e164, description, caller_is_official, created_at)
       select c, c, '+1214' || (2000000 + g), 'They asked for my card PIN', c like '+1212555010%',
         $1::timestamptz - interval '365 days' * (g::float8 / 20000)
       from generate_series(1, 20000) g cross join lateral (select case when g % 10 = 0 then '+12125550101' else '+1646' || (2000000 + g) end as c) x`,
      [at],
    ),
  );
  // Approved for every exempted callback, rejected for 1 % of completed ones, pending on 50 active ones.
  await step('exemptions', () =>
    t.sql.unsafe(`insert into exemptions (callback_id, case_ref, status, reason, requested_by, decided_by, decided_at, created_at)
      select id, case_ref,
        case when status = 'exempted' then 'approved' when status = 'completed' then 'rejected' else 'pending' end::exemption_status,
        'Abusive on the call', 'agent:bench',
        case when status in ('exempted', 'completed') then 'ops:bench' end,
        case when status in ('exempted', 'completed') then updated_at end, updated_at - interval '1 hour'
      from callbacks
      where status = 'exempted' or (status = 'completed' and hashtext(case_ref) % 100 = 0)
        or (status = 'scheduled' and hashtext(case_ref) % 200 = 0)`),
  );
  await step('vacuum analyze', () => t.sql.unsafe('vacuum analyze'));
  return timings;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function scans(node: PlanNode, out: string[] = []): string[] {
  if (node['Relation Name']) out.push(`${node['Node Type']} on ${node['Relation Name']}${node['Index Name'] ? ` using ${node['Index Name']}` : ''}`);
  for (const child of node.Plans ?? []) scans(child, out);
  return out;
}

/** EXPLAIN ANALYZE of every overview query: what it scans, and how long it takes on its own. */
async function explainAll(t: TestContext) {
  const calling = await t.request('GET', '/v1/settings/calling', { key: await t.key('admin') });
  const queries = overviewQueries(overviewWindow(new Date(), calling.body.center.timezone)) as Record<string, SQL>;
  const plans: Record<string, { ms: number; scans: string[]; seqScans: string[] }> = {};
  for (const [name, query] of Object.entries(queries)) {
    const [row] = await t.runtime.deps.db.execute<{ 'QUERY PLAN': [{ Plan: PlanNode; 'Execution Time': number }] }>(
      sql`explain (analyze, buffers, format json) ${query}`,
    );
    const plan = row!['QUERY PLAN'][0];
    const found = scans(plan.Plan);
    plans[name] = { ms: Number(plan['Execution Time'].toFixed(2)), scans: found, seqScans: found.filter((s) => s.startsWith('Seq Scan')) };
  }
  return plans;
}

async function measureOverview(url: string, key: string, requests: number) {
  const times: number[] = [];
  for (let i = 0; i < requests + 5; i++) {
    const started = performance.now();
    const res = await fetch(`${url}/v1/ops/overview`, { headers: { authorization: `Bearer ${key}` } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`overview answered ${res.status}`);
    if (i >= 5) times.push(performance.now() - started); // the first five warm the caches and the plan cache
  }
  const round = (v: number) => Number(v.toFixed(1));
  return { requests, p50Ms: round(percentile(times, 50)), p95Ms: round(percentile(times, 95)), maxMs: round(Math.max(...times)) };
}

/** Sequential latency (one client) and throughput (10 clients) of POST /v1/callbacks. */
async function measureCreate(url: string, agentKey: string, tag: string, seconds: number) {
  const body = (prefix: string): BodySpec => ['create', `${prefix}-${tag}`];
  const headers = { authorization: `Bearer ${agentKey}` };
  await load({ url: `${url}/v1/callbacks`, headers, body: body(`warm-${tag}`), seconds: 2, connections: 10 });
  const latencies: number[] = [];
  const make = body(`seq-${tag}`);
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    const res = await fetch(`${url}/v1/callbacks`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(bodyOf(make, i)) });
    await res.arrayBuffer();
    if (res.status !== 201) throw new Error(`create answered ${res.status}`);
    latencies.push(performance.now() - started);
  }
  const throughput: LoadResult = await load({ url: `${url}/v1/callbacks`, headers, body: body(`load-${tag}`), seconds, connections: 10 });
  const round = (v: number) => Number(v.toFixed(1));
  return {
    sequential: { requests: 200, p50Ms: round(percentile(latencies, 50)), p95Ms: round(percentile(latencies, 95)) },
    concurrent10: throughput,
  };
}

interface Stack {
  t: TestContext;
  url: string;
  ops: string;
  agent: string;
  close(): Promise<void>;
}

async function prepare(): Promise<Stack> {
  const t = await startStack({ DATABASE_POOL_SIZE: '20' });
  const admin = await t.key('admin');
  const ops = await t.key('ops');
  const agent = await t.key('agent', { id: 'bench-agent' });
  await t.request('PUT', '/v1/policies/billing', { key: admin, body: { enabled: true } });
  const numbers = { numbers: OFFICIAL.map((number, i) => ({ number, label: `Line ${i + 1}` })) };
  await t.request('PUT', '/v1/settings/official-numbers', { key: admin, body: numbers });
  await createIndexes(t);
  const server = await listen(t.app.fetch);
  return {
    t,
    url: server.url,
    ops,
    agent,
    close: async () => {
      await server.close();
      await t.close();
    },
  };
}

/** The state the migrations create. */
async function createIndexes(t: TestContext) {
  for (const [name, ddl] of Object.entries(OPS_INDEXES)) {
    await t.sql.unsafe(`drop index if exists ${name}`);
    await t.sql.unsafe(ddl);
  }
  await t.sql.unsafe('analyze');
}

/** The state before migrations 0004 and 0005. */
async function dropIndexes(t: TestContext) {
  for (const name of Object.keys(OPS_INDEXES)) await t.sql.unsafe(`drop index if exists ${name}`);
  for (const ddl of Object.values(PLAIN_INDEXES)) await t.sql.unsafe(ddl);
}

type CreateFigures = Awaited<ReturnType<typeof measureCreate>>;

const median = (values: number[]) => percentile(values, 50);

/**
 * Each figure over the rounds, as the median and as the best round. The machine is shared (two
 * cores, other test suites running), so a round can be slowed by something else entirely: the
 * best round is what the code can do, the median what this run saw.
 */
function summarize(runs: CreateFigures[]) {
  const seqP50 = runs.map((r) => r.sequential.p50Ms);
  const seqP95 = runs.map((r) => r.sequential.p95Ms);
  const rps = runs.map((r) => r.concurrent10.requestsPerSecond);
  return {
    rounds: runs.length,
    median: { sequentialP50Ms: median(seqP50), sequentialP95Ms: median(seqP95), requestsPerSecond: median(rps) },
    best: { sequentialP50Ms: Math.min(...seqP50), sequentialP95Ms: Math.min(...seqP95), requestsPerSecond: Math.max(...rps) },
    runs,
  };
}

export async function benchOverview(callbacks = 1_000_000, overviewRequests = 50, createSeconds = 5, rounds = 5) {
  // Two databases side by side: create-callback is measured on both in alternation, so a busy
  // moment on the machine hits both sides rather than one.
  const empty = await prepare();
  const seeded = await prepare();
  try {
    console.log(`seeding ${callbacks.toLocaleString('en-US')} callbacks...`);
    await dropIndexes(seeded.t);
    const started = performance.now();
    const seedSeconds = await seed(seeded.t, callbacks, new Date());
    const totalSeedSeconds = Number(((performance.now() - started) / 1000).toFixed(1));
    const [counts] = await seeded.t.sql`select (select count(*) from callbacks)::int as callbacks, (select count(*) from attempts)::int as attempts,
      (select count(*) from verification_sessions)::int as verification_sessions, (select count(*) from callback_events)::int as callback_events,
      (select count(*) from opt_outs)::int as opt_outs, (select count(*) from scam_reports)::int as scam_reports,
      (select count(*) from exemptions)::int as exemptions,
      (select count(*) from callbacks where status in ('awaiting_consent', 'scheduled', 'ready', 'claimed', 'in_call'))::int as active_callbacks,
      (select count(*) from attempts where started_at > now() - interval '7 days')::int as attempts_last_7d`;

    console.log('overview without the ops indexes...');
    const plansWithout = await explainAll(seeded.t);
    const overviewWithout = await measureOverview(seeded.url, seeded.ops, overviewRequests);
    console.log('overview with the ops indexes...');
    await createIndexes(seeded.t);
    const plansWith = await explainAll(seeded.t);
    const overviewWith = await measureOverview(seeded.url, seeded.ops, overviewRequests);
    const overviewEmpty = await measureOverview(empty.url, empty.ops, overviewRequests);

    const emptyRuns: CreateFigures[] = [];
    const seededRuns: CreateFigures[] = [];
    for (let round = 1; round <= rounds; round++) {
      console.log(`create-callback, round ${round} of ${rounds}...`);
      // Alternate which side goes first, so neither always runs right after the other's load.
      const empty1 = () => measureCreate(empty.url, empty.agent, `empty${round}`, createSeconds);
      const seeded1 = () => measureCreate(seeded.url, seeded.agent, `seeded${round}`, createSeconds);
      if (round % 2) {
        emptyRuns.push(await empty1());
        seededRuns.push(await seeded1());
      } else {
        seededRuns.push(await seeded1());
        emptyRuns.push(await empty1());
      }
    }
    const createEmpty = summarize(emptyRuns);
    const createSeeded = summarize(seededRuns);
    const slowdown = (base: number, value: number) => Number((value / base - 1).toFixed(3));
    const slowdowns = (of: 'median' | 'best') => ({
      sequentialP50: slowdown(createEmpty[of].sequentialP50Ms, createSeeded[of].sequentialP50Ms),
      sequentialP95: slowdown(createEmpty[of].sequentialP95Ms, createSeeded[of].sequentialP95Ms),
      throughput: slowdown(createSeeded[of].requestsPerSecond, createEmpty[of].requestsPerSecond),
    });

    const results = {
      callbacks,
      counts,
      seedSeconds: { total: totalSeedSeconds, ...seedSeconds },
      opsIndexes: OPS_INDEXES,
      overview: {
        targetP95Ms: 200,
        emptyDatabase: overviewEmpty,
        withoutOpsIndexes: { ...overviewWithout, plans: plansWithout },
        withOpsIndexes: { ...overviewWith, plans: plansWith },
      },
      createCallback: {
        targetMaxSlowdown: 0.2,
        emptyDatabase: createEmpty,
        seededDatabase: createSeeded,
        slowdown: { median: slowdowns('median'), best: slowdowns('best') },
      },
    };
    const path = writeResults('overview', results);
    printTable([
      { measure: 'overview p95 ms, empty db', value: overviewEmpty.p95Ms },
      { measure: 'overview p95 ms, without ops indexes', value: overviewWithout.p95Ms },
      { measure: 'overview p95 ms, with ops indexes (migrations)', value: overviewWith.p95Ms },
      ...(['median', 'best'] as const).flatMap((of) => [
        { measure: `create p50 ms (${of}), empty → seeded`, value: `${createEmpty[of].sequentialP50Ms} → ${createSeeded[of].sequentialP50Ms}` },
        { measure: `create p95 ms (${of}), empty → seeded`, value: `${createEmpty[of].sequentialP95Ms} → ${createSeeded[of].sequentialP95Ms}` },
        {
          measure: `create req/s, 10 clients (${of}), empty → seeded`,
          value: `${createEmpty[of].requestsPerSecond} → ${createSeeded[of].requestsPerSecond}`,
        },
      ]),
    ]);
    for (const [name, plan] of Object.entries(plansWith)) {
      if (plan.seqScans.length > 0) console.log(`  ${name}: ${plan.seqScans.join(', ')} (${plan.ms} ms)`);
    }
    console.log(`results: ${path}`);
    return results;
  } finally {
    await seeded.close();
    await empty.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [n, requests, seconds, rounds] = process.argv.slice(2).map(Number);
  await benchOverview(n || undefined, requests || undefined, seconds || undefined, rounds || undefined);
  process.exit(0);
}
