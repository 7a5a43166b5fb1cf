/**
 * POST /v1/public/verify under load (SPEC §7): throughput and p50/p99 with wrong codes, next to a
 * bare Hono route answering a comparable trivial JSON body in the same run, and the median latency
 * of unknown numbers against known numbers with a wrong code (they must not be told apart).
 *
 * The load generator runs in a child process (this file, with --load-generator), so it does not
 * share the server's event loop. Requests alternate between an unknown number and a number with a
 * live session and a wrong code; each known number gets at most 4 wrong codes, so none locks and
 * every request does the same work. Rate limits run (Redis round trips included) with limits
 * raised so nothing is refused.  Run: npx tsx bench/verify.ts [seconds] [connections] [rounds]
 */
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Hono } from 'hono';
import { parsePhone } from '../src/domain/phone.js';
import { limitPhone } from '../src/http/rate-limit.js';
import { verificationHash } from '../src/services/verification-sessions.js';
import { checkCode } from '../src/verification/check.js';
import { listen } from './http.js';
import { percentile, printTable, startStack, writeResults } from './lib.js';

const KNOWN_SESSIONS = 40_000;
const WRONG_TRIES_PER_SESSION = 4;
const SESSION_CODE = '482913';
const WRONG_CODE = '000000';

/** Distinct valid New York numbers: 212-2xx-xxxx for live sessions, 646-2xx-xxxx never known. */
const knownPhone = (i: number) => `+1212${2_000_000 + i}`;
const unknownPhone = (i: number) => `+1646${2_000_000 + (i % 7_000_000)}`;

interface PhaseRequest {
  url: string;
  mode: 'bare' | 'verify';
  seconds: number;
  connections: number;
  knownOffset: number;
  unknownOffset: number;
}

interface KindStats {
  count: number;
  p50Ms: number;
  p99Ms: number;
}

interface PhaseResult {
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non200: number;
  genuineAnswers: number;
  errors: number;
  byKind: Record<string, KindStats>;
  knownUsed: number;
  unknownUsed: number;
}

// ---------------------------------------------------------------- load generator (child process)

function post(agent: http.Agent, url: URL, body: string): Promise<{ status: number; text: string; ms: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function runPhase(phase: PhaseRequest): Promise<PhaseResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: phase.connections });
  const url = new URL(phase.url);
  const latencies: Record<string, number[]> = { unknown: [], known: [], bare: [] };
  let sequence = 0;
  let known = phase.knownOffset;
  let unknown = phase.unknownOffset;
  let non200 = 0;
  let genuine = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + phase.seconds * 1000;

  const loop = async () => {
    while (performance.now() < deadline) {
      let kind: 'bare' | 'known' | 'unknown' = 'bare';
      let phone = '+12125550100';
      if (phase.mode === 'verify') {
        kind = sequence++ % 2 === 0 ? 'unknown' : 'known';
        // Each known number is used round-robin, at most WRONG_TRIES_PER_SESSION times in all.
        phone = kind === 'known' ? knownPhone(known++ % KNOWN_SESSIONS) : unknownPhone(unknown++);
      }
      try {
        const res = await post(agent, url, JSON.stringify({ phone, code: WRONG_CODE }));
        latencies[kind]!.push(res.ms);
        if (res.status !== 200) non200++;
        else if (res.text.includes('"genuine":true')) genuine++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: phase.connections }, loop));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();

  const all = [...latencies.unknown!, ...latencies.known!, ...latencies.bare!];
  const stats = (values: number[]): KindStats => ({
    count: values.length,
    p50Ms: round(percentile(values, 50)),
    p99Ms: round(percentile(values, 99)),
  });
  return {
    seconds: round(elapsed),
    requestsPerSecond: Math.round(all.length / elapsed),
    p50Ms: round(percentile(all, 50)),
    p99Ms: round(percentile(all, 99)),
    non200,
    genuineAnswers: genuine,
    errors,
    byKind: Object.fromEntries(Object.entries(latencies).filter(([, v]) => v.length > 0).map(([k, v]) => [k, stats(v)])),
    knownUsed: known - phase.knownOffset,
    unknownUsed: unknown - phase.unknownOffset,
  };
}

const round = (n: number) => Math.round(n * 1000) / 1000;
const round3 = (n: number) => Math.round(n * 100) / 100;

function loadGeneratorMain(): void {
  process.on('message', (phase: PhaseRequest) => {
    runPhase(phase).then(
      (result) => process.send!(result),
      (err: unknown) => process.send!({ error: String(err) }),
    );
  });
}

// ---------------------------------------------------------------- server side (this process)

/**
 * CPU seconds used so far by each part of the stack, from /proc (Linux). Wall-clock latency on a
 * shared machine mostly measures the neighbours; CPU time per check says what a check costs.
 * PostgreSQL backends are told apart by the database name in their process title; Redis and
 * PostgreSQL's background processes are shared with whatever else runs on the machine.
 */
function cpuSeconds(database: string, loadGeneratorPid: number): Record<string, number> {
  const ticks = 100;
  const totals: Record<string, number> = { server: 0, loadGenerator: 0, postgresBackends: 0, postgresShared: 0, redisShared: 0 };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / ticks;
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const pid = Number(entry);
      if (pid === process.pid) totals.server! += seconds;
      else if (pid === loadGeneratorPid) totals.loadGenerator! += seconds;
      else if (title.startsWith('postgres:') && title.includes(` ${database} `)) totals.postgresBackends! += seconds;
      else if (title.startsWith('postgres:') && !title.includes(' sc_') && !title.includes(' postgres 127.')) totals.postgresShared! += seconds;
      else if (title.startsWith('redis-server 127.0.0.1:6379')) totals.redisShared! += seconds;
    } catch {
      // The process ended while we looked.
    }
  }
  return totals;
}

const cpuDelta = (before: Record<string, number>, after: Record<string, number>, requests: number) =>
  Object.fromEntries(Object.keys(after).map((k) => [k, round((((after[k] ?? 0) - (before[k] ?? 0)) * 1000) / requests)]));

type Stack = Awaited<ReturnType<typeof startStack>>;

/** Live sessions for the known numbers, written in bulk the way startAttempt leaves them (in_call, one attempt). */
async function seedSessions(t: Stack, count: number): Promise<void> {
  for (const probe of [knownPhone(0), knownPhone(count - 1), unknownPhone(0), unknownPhone(6_999_999)]) {
    const parsed = parsePhone(probe, 'US');
    if (!parsed.ok || parsed.phone.e164 !== probe) throw new Error(`bench phone ${probe} does not parse to itself`);
  }
  const hash = verificationHash(t.config.SECRET_KEY, SESSION_CODE);
  const CHUNK = 5000;
  for (let start = 0; start < count; start += CHUNK) {
    const phones = Array.from({ length: Math.min(CHUNK, count - start) }, (_, k) => knownPhone(start + k));
    await t.sql`
      with cb as (
        insert into callbacks (status, case_ref, category, round, phone_e164, phone_country, phone_type, timezones,
          timezone_source, reason, first_explanation, not_before, deadline, required_skill, created_by, attempt_count, claimed_by)
        select 'in_call', 'BENCH-' || p.phone, 'billing', 2, p.phone, 'US', 'fixed_line_or_mobile', '{America/New_York}',
          'number', 'bench', '{"summary":"bench"}'::jsonb, now(), now() + interval '48 hours', 'second_explanation', 'bench', 1, 'bench-agent'
        from json_array_elements_text(${JSON.stringify(phones)}::json) as p(phone)
        returning id, phone_e164
      ), a as (
        insert into attempts (callback_id, number, agent_id, phone_e164, started_at)
        select id, 1, 'bench-agent', phone_e164, now() from cb
        returning id, callback_id, phone_e164
      )
      insert into verification_sessions (attempt_id, callback_id, phone_e164, code_hash, valid_from, expires_at, hard_expires_at)
      select id, callback_id, phone_e164, ${hash}, now(), now() + interval '30 minutes', now() + interval '30 minutes' from a`;
  }
  await t.sql`analyze`;
}

/** In-process costs without HTTP, to say where the time goes: the check alone, and the two rate-limit calls alone. */
async function inProcess(seconds: number, concurrency: number, work: (i: number) => Promise<unknown>) {
  let i = 0;
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const started = performance.now();
        await work(i++);
        latencies.push(performance.now() - started);
      }
    }),
  );
  return { perSecond: Math.round(latencies.length / seconds), p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)) };
}

export async function benchVerify(seconds = 10, connections = 32, roundCount = 3) {
  const loadAverageAtStart = loadavg().map(round3);
  const t = await startStack({
    DATABASE_POOL_SIZE: '20',
    RATE_LIMIT_IP_PER_MINUTE: '1000000000',
    RATE_LIMIT_PHONE_PER_HOUR: '1000000000',
  });
  await t.key('agent', { id: 'bench-agent', displayName: 'Bench Agent' });
  await seedSessions(t, KNOWN_SESSIONS);

  const bare = new Hono().post('/bare', async (c) => {
    const body = await c.req.json<{ phone: string; code: string }>();
    return c.json({ genuine: body.code === SESSION_CODE && body.phone === '' }, 200);
  });
  const bareServer = await listen(bare.fetch);
  const appServer = await listen(t.app.fetch);
  const child = fork(fileURLToPath(import.meta.url), ['--load-generator'], { execArgv: ['--import', 'tsx'] });
  const phase = (request: Omit<PhaseRequest, 'connections'>) =>
    new Promise<PhaseResult>((resolve, reject) => {
      child.once('message', (m: PhaseResult | { error: string }) => ('error' in m ? reject(new Error(m.error)) : resolve(m)));
      child.send({ connections, ...request });
    });

  let knownOffset = 0;
  let unknownOffset = 0;
  const verifyPhase = async (secs: number) => {
    const result = await phase({ url: `${appServer.url}/v1/public/verify`, mode: 'verify', seconds: secs, knownOffset, unknownOffset });
    knownOffset += result.knownUsed;
    unknownOffset += result.unknownUsed;
    if (knownOffset > KNOWN_SESSIONS * WRONG_TRIES_PER_SESSION) throw new Error('known sessions used up: raise KNOWN_SESSIONS');
    return result;
  };

  // The machine is shared (2 cores, PostgreSQL and Redis included): bare and verify phases
  // alternate for several rounds, and the round with the highest verify throughput is reported.
  const rounds: {
    bare: PhaseResult;
    verify: PhaseResult;
    loadAverage: number[];
    cpuMsPerRequest: Record<string, number>;
    bareCpuMsPerRequest: Record<string, number>;
  }[] = [];
  const database = new URL(t.config.DATABASE_URL).pathname.slice(1);
  const direct: Record<string, { perSecond: number; p50Ms: number; p99Ms: number }> = {};
  try {
    await phase({ url: `${bareServer.url}/bare`, mode: 'bare', seconds: 2, knownOffset: 0, unknownOffset: 0 });
    await verifyPhase(3);
    for (let round = 0; round < roundCount; round++) {
      const bareBefore = cpuSeconds(database, child.pid!);
      const bareResult = await phase({ url: `${bareServer.url}/bare`, mode: 'bare', seconds, knownOffset: 0, unknownOffset: 0 });
      const bareCpu = cpuDelta(bareBefore, cpuSeconds(database, child.pid!), bareResult.byKind.bare!.count);
      const before = cpuSeconds(database, child.pid!);
      const verifyResult = await verifyPhase(seconds);
      const after = cpuSeconds(database, child.pid!);
      const requests = verifyResult.byKind.known!.count + verifyResult.byKind.unknown!.count;
      rounds.push({ bare: bareResult, verify: verifyResult, loadAverage: loadavg().map(round3), cpuMsPerRequest: cpuDelta(before, after, requests), bareCpuMsPerRequest: bareCpu });
    }

    const deps = t.runtime.deps;
    direct.checkCodeUnknown = await inProcess(3, connections, (i) =>
      checkCode(deps, { phone: unknownPhone(unknownOffset + i), code: WRONG_CODE }, new Date()),
    );
    unknownOffset += 1_000_000;
    direct.rateLimits = await inProcess(3, connections, (i) =>
      Promise.all([limitPhone(deps, { scope: 'bench' }, unknownPhone(i)), limitPhone(deps, { scope: 'bench-2' }, unknownPhone(i))]),
    );
  } finally {
    child.kill();
    await appServer.close();
    await bareServer.close();
    await t.close();
  }

  const best = rounds.reduce((a, b) => (b.verify.requestsPerSecond > a.verify.requestsPerSecond ? b : a));
  const results = { bare: best.bare, verify: best.verify };
  const cpuMsPerRequest = { verify: best.cpuMsPerRequest, bare: best.bareCpuMsPerRequest };
  const known = results.verify!.byKind.known!;
  const unknown = results.verify!.byKind.unknown!;
  const medianGap = Math.abs(known.p50Ms - unknown.p50Ms) / Math.min(known.p50Ms, unknown.p50Ms);
  return {
    seconds,
    connections,
    knownSessions: KNOWN_SESSIONS,
    cpus: cpus().length,
    loadAverageAtStart,
    results,
    rounds: rounds.map((r) => ({
      bareRequestsPerSecond: r.bare.requestsPerSecond,
      verifyRequestsPerSecond: r.verify.requestsPerSecond,
      verifyP50Ms: r.verify.p50Ms,
      verifyP99Ms: r.verify.p99Ms,
      unknownP50Ms: r.verify.byKind.unknown!.p50Ms,
      knownP50Ms: r.verify.byKind.known!.p50Ms,
      loadAverage: r.loadAverage,
      cpuMsPerCheck: r.cpuMsPerRequest,
      bareCpuMsPerRequest: r.bareCpuMsPerRequest,
    })),
    direct,
    cpuMsPerRequest,
    verifyToBareRatio: round(results.verify!.requestsPerSecond / results.bare!.requestsPerSecond),
    unknownVsKnownMedianGap: round(medianGap),
    targets: {
      checksPerSecond: { target: 5000, measured: results.verify!.requestsPerSecond, met: results.verify!.requestsPerSecond >= 5000 },
      p99Ms: { target: 20, measured: results.verify!.p99Ms, met: results.verify!.p99Ms <= 20 },
      medianGap: { target: 0.1, measured: round(medianGap), met: medianGap <= 0.1 },
    },
  };
}

if (process.argv.includes('--load-generator')) {
  loadGeneratorMain();
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = await benchVerify(Number(process.argv[2] ?? 10), Number(process.argv[3] ?? 32), Number(process.argv[4] ?? 3));
  const row = (name: string, r: { requestsPerSecond?: number; count?: number; p50Ms: number; p99Ms: number }, extra = {}) => ({
    benchmark: name,
    'req/s': r.requestsPerSecond ?? '',
    requests: r.count ?? '',
    'p50 ms': r.p50Ms,
    'p99 ms': r.p99Ms,
    ...extra,
  });
  console.log(`load average at start ${out.loadAverageAtStart.join(' ')} on ${out.cpus} CPUs; rounds (req/s bare → verify):`);
  for (const r of out.rounds) console.log(`  ${r.bareRequestsPerSecond} → ${r.verifyRequestsPerSecond}, load ${r.loadAverage.join(' ')}`);
  console.log('best round:');
  printTable([
    row('bare Hono JSON route', out.results.bare!),
    row('POST /v1/public/verify (all)', out.results.verify!),
    row('  unknown number', out.results.verify!.byKind.unknown!),
    row('  known number, wrong code', out.results.verify!.byKind.known!),
  ]);
  console.log(`non-200: ${out.results.verify!.non200}, genuine answers: ${out.results.verify!.genuineAnswers}, errors: ${out.results.verify!.errors}`);
  console.log(`verify / bare = ${out.verifyToBareRatio}; unknown vs known median gap = ${(out.unknownVsKnownMedianGap * 100).toFixed(1)}%`);
  console.log('CPU ms per request in the best round (Redis and PostgreSQL background are shared with other users of the machine):');
  printTable(
    Object.entries(out.cpuMsPerRequest).map(([name, r]) => ({
      route: name,
      ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.toFixed(3)])),
    })),
  );
  printTable(Object.entries(out.direct).map(([name, r]) => ({ 'in process (no HTTP)': name, 'per s': r.perSecond, 'p50 ms': r.p50Ms, 'p99 ms': r.p99Ms })));
  console.log(writeResults('verify', out));
  process.exit(0);
}
