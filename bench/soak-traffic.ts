/**
 * The soak's load generator, forked by bench/soak.ts so it never shares the service's event loop
 * or heap. An open model: each independent route (create, preview, claim, verify, opt-out) starts
 * its requests on a fixed schedule whatever earlier requests are doing, so a slow service shows as
 * latency, never as a lower rate; latency counts from the scheduled start (as wrk2 does), so a
 * late generator can only make the figures worse, not hide anything.
 *
 * A claim that returns a callback starts an agent loop: the agent dials (start attempt), talks,
 * records the result. Those follow-ups come from the claims, not from the schedule. Claims go
 * round-robin over the agents whether or not an agent is still in a call (the service lets an agent
 * hold several claims), so the claim rate stays fixed however slow the loops get. The codes the
 * attempts return feed the verify route: half of its checks are customers checking a live call
 * with the right code (must be genuine), the rest unknown numbers (must not be).
 */
import http from 'node:http';
import { percentile, runSchedule, send, type Answer } from './client.js';

export const SCHEDULED_ROUTES = ['create', 'preview', 'claim', 'verify', 'optOut'] as const;
export type ScheduledRoute = (typeof SCHEDULED_ROUTES)[number];
export type Route = ScheduledRoute | 'attempt' | 'result';
const ROUTES: Route[] = ['create', 'preview', 'claim', 'attempt', 'result', 'verify', 'optOut'];

export interface TrafficPlan {
  url: string;
  seconds: number;
  warmUpSeconds: number;
  windowSeconds: number;
  ratePerSecond: Record<ScheduledRoute, number>;
  /** Agent key that creates callbacks, previews and registers opt-outs (the agent desktop). */
  deskKey: string;
  /** Agents that claim and call. */
  agentKeys: string[];
  run: string;
}

export interface RouteStats {
  count: number;
  errors: number;
  statuses: Record<string, number>;
  scheduledPerSecond: number | null;
  achievedPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface TrafficResult {
  seconds: number;
  routes: Record<Route, RouteStats>;
  windows: { fromSecond: number; requests: number; errors: number; p50Ms: number; p99Ms: number }[];
  errorSamples: string[];
  /** How late the generator started requests after their scheduled time. */
  generatorLagP99Ms: number;
  /** Requests still without an answer 30 s after the schedule ended (counted as errors). */
  unfinished: number;
  /** Exceptions in the generator itself, e.g. an answer without the fields it needs (counted as errors). */
  generatorErrors: number;
  genuineChecks: number;
  callbacksSuppressedByOptOuts: number;
}

/** Every 8th created callback's number is later opted out; those alone may see `opted_out` conflicts. */
const OPT_OUT_EVERY = 8;
const createdPhone = (i: number) => `+1212${2_000_000 + (i % 1_000_000)}`;
const isOptOutBound = (e164: string) => (Number(e164.slice(5)) - 2_000_000) % OPT_OUT_EVERY === 0;
const previewPhone = (i: number) => `+1646${2_000_000 + (i % 1_000_000)}`;
const unknownPhone = (i: number) => `+1646${3_000_000 + (i % 1_000_000)}`;
const freshOptOutPhone = (i: number) => `+1917${2_000_000 + (i % 1_000_000)}`;

/** What agents record, by weight. */
const RESULTS: [number, { result: string; outcome?: string }][] = [
  [45, { result: 'connected', outcome: 'accepted' }],
  [15, { result: 'connected', outcome: 'not_accepted' }],
  [5, { result: 'connected', outcome: 'declined' }],
  [5, { result: 'connected', outcome: 'escalated' }],
  [15, { result: 'no_answer' }],
  [5, { result: 'busy' }],
  [5, { result: 'voicemail' }],
  [5, { result: 'wrong_number' }],
];
const RESULT_WEIGHT = RESULTS.reduce((sum, [w]) => sum + w, 0);
function pickResult() {
  let r = Math.random() * RESULT_WEIGHT;
  for (const [w, body] of RESULTS) if ((r -= w) < 0) return body;
  return RESULTS[0]![1];
}

const RING_MS = 100;
const talkMs = () => 200 + Math.random() * 800;
const CONNECTIONS = 64;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number) => Math.round(n * 10) / 10;

export async function runTraffic(plan: TrafficPlan): Promise<TrafficResult> {
  // A bounded pool, as clients behind a few app servers have: when the service falls behind,
  // requests wait for a socket (the wait counts, latency runs from the scheduled start) instead of
  // opening hundreds of connections at once and overflowing the server's accept queue.
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const base = new URL(plan.url);
  const start = performance.now();
  const endMs = plan.seconds * 1000;
  const warmUpMs = plan.warmUpSeconds * 1000;

  const latencies = Object.fromEntries(ROUTES.map((r) => [r, [] as number[]])) as Record<Route, number[]>;
  const counts = Object.fromEntries(ROUTES.map((r) => [r, { count: 0, errors: 0, statuses: {} as Record<string, number> }])) as Record<
    Route,
    { count: number; errors: number; statuses: Record<string, number> }
  >;
  const answeredInTime = Object.fromEntries(ROUTES.map((r) => [r, 0])) as Record<Route, number>;
  const windows: { latencies: number[]; errors: number }[] = [];
  const errorSamples: string[] = [];
  const lags: number[] = [];
  let pending = 0;
  let generatorErrors = 0;
  let genuineChecks = 0;
  let suppressed = 0;

  /**
   * Sends one request planned for `at` (ms since start) and records it; `check` returns why an
   * answer is wrong, or null. Network failures and timeouts are errors too.
   */
  async function call(route: Route, at: number, method: string, path: string, key: string | null, body: unknown, check: (a: Answer) => string | null) {
    pending++;
    lags.push(performance.now() - start - at);
    let answer: Answer | null = null;
    let error: string | null;
    try {
      answer = await send(agent, new URL(path, base), method, key ? { authorization: `Bearer ${key}` } : {}, body);
      error = check(answer);
      if (error) error = `${route} ${answer.status}: ${error} ${JSON.stringify(answer.body).slice(0, 200)}`;
    } catch (err) {
      error = `${route}: ${String(err)} after ${Math.round(performance.now() - start - at)} ms`;
    }
    pending--;
    const ms = performance.now() - start - at;
    const c = counts[route];
    c.count++;
    const status = answer ? String(answer.status) : 'network';
    c.statuses[status] = (c.statuses[status] ?? 0) + 1;
    const w = (windows[Math.floor(at / (plan.windowSeconds * 1000))] ??= { latencies: [], errors: 0 });
    w.latencies.push(ms);
    if (error) {
      c.errors++;
      w.errors++;
      if (errorSamples.length < 20) errorSamples.push(error);
    }
    if (at >= warmUpMs) latencies[route].push(ms);
    if (at >= warmUpMs && at + ms <= endMs) answeredInTime[route]++;
    return error ? null : answer;
  }

  const expectStatus = (...ok: number[]) => (a: Answer) => (ok.includes(a.status) ? null : `expected ${ok.join(' or ')}`);

  const optOutTargets: string[] = [];
  const liveCodes: { phone: string; code: string }[] = [];

  async function agentLoop(key: string, claimed: { id: string; phone: { e164: string } }) {
    const phone = claimed.phone.e164;
    await sleep(RING_MS);
    const started = await call('attempt', performance.now() - start, 'POST', `/v1/callbacks/${claimed.id}/attempts`, key, {}, (a) => {
      if (a.status === 201) return null;
      // An opt-out may land between the claim and the dial (suppressed, or changed under the read).
      if (a.status === 409 && isOptOutBound(phone) && ['invalid_state', 'conflict'].includes(a.body?.code)) return null;
      return `expected 201 (409 only for a number being opted out; this is ${phone}, callback ${claimed.id})`;
    });
    if (started?.status !== 201) return;
    if (!isOptOutBound(phone)) liveCodes.push({ phone, code: started.body.verification.code as string });
    await sleep(talkMs());
    const attemptId = started.body.attempt.id as string;
    await call('result', performance.now() - start, 'POST', `/v1/attempts/${attemptId}/result`, key, pickResult(), expectStatus(200));
  }

  const arrive: Record<ScheduledRoute, (i: number, at: number) => Promise<unknown>> = {
    create: async (i, at) => {
      const phone = createdPhone(i);
      const body = {
        caseRef: `soak-${plan.run}-${i}`,
        category: 'billing',
        phone,
        reason: 'We will explain the invoice again',
        firstExplanation: { summary: 'Explained the fee' },
      };
      const a = await call('create', at, 'POST', '/v1/callbacks', plan.deskKey, body, expectStatus(201));
      if (a && isOptOutBound(phone)) optOutTargets.push(phone);
    },
    preview: (i, at) =>
      call('preview', at, 'POST', '/v1/schedule/preview', plan.deskKey, { phone: previewPhone(i), category: 'billing' }, expectStatus(200)),
    claim: async (i, at) => {
      const key = plan.agentKeys[i % plan.agentKeys.length]!;
      const a = await call('claim', at, 'POST', '/v1/agents/me/claim', key, undefined, expectStatus(200, 204));
      if (a?.status === 200) await agentLoop(key, a.body);
    },
    verify: async (i, at) => {
      const live = i % 2 === 0 ? liveCodes.shift() : undefined;
      const body = live ?? { phone: unknownPhone(i), code: String(100_000 + (i % 900_000)) };
      if (live) genuineChecks++;
      await call('verify', at, 'POST', '/v1/public/verify', null, body, (a) =>
        a.status !== 200 ? 'expected 200' : a.body?.genuine !== Boolean(live) ? `expected genuine: ${Boolean(live)}` : null,
      );
    },
    optOut: async (i, at) => {
      // The newest created number, so some of its callbacks are still waiting to be claimed.
      const phone = optOutTargets.pop() ?? freshOptOutPhone(i);
      const a = await call('optOut', at, 'POST', '/v1/opt-outs', plan.deskKey, { phone, scope: 'all' }, expectStatus(201));
      suppressed += (a?.body?.suppressedCallbacks as unknown[] | undefined)?.length ?? 0;
    },
  };

  // The schedule: arrival n of a route is due at n / rate seconds.
  await runSchedule(start, plan.seconds, plan.ratePerSecond, (route, n, at) =>
    arrive[route](n, at).catch((err: unknown) => {
      generatorErrors++;
      if (errorSamples.length < 20) errorSamples.push(`${route}: generator error ${String(err)}`);
    }),
  );
  agent.destroy();

  const seconds = plan.seconds;
  const measuredSeconds = Math.max(1, seconds - plan.warmUpSeconds);
  const routes = Object.fromEntries(
    ROUTES.map((route) => {
      const values = latencies[route];
      const rate = (SCHEDULED_ROUTES as readonly string[]).includes(route) ? plan.ratePerSecond[route as ScheduledRoute] : null;
      const stats: RouteStats = {
        ...counts[route],
        scheduledPerSecond: rate,
        // Answers received between the warm-up and the end of the schedule: below the scheduled
        // rate when the service falls behind (the rest arrive while the run drains).
        achievedPerSecond: round(answeredInTime[route] / measuredSeconds),
        p50Ms: round(percentile(values, 50)),
        p95Ms: round(percentile(values, 95)),
        p99Ms: round(percentile(values, 99)),
        maxMs: round(values.length ? Math.max(...values) : Number.NaN),
      };
      return [route, stats];
    }),
  ) as Record<Route, RouteStats>;
  return {
    seconds,
    routes,
    windows: Array.from(windows, (w = { latencies: [], errors: 0 }, i) => ({
      fromSecond: i * plan.windowSeconds,
      requests: w.latencies.length,
      errors: w.errors,
      p50Ms: round(percentile(w.latencies, 50)),
      p99Ms: round(percentile(w.latencies, 99)),
    })),
    errorSamples,
    generatorLagP99Ms: round(percentile(lags, 99)),
    unfinished: pending,
    generatorErrors,
    genuineChecks,
    callbacksSuppressedByOptOuts: suppressed,
  };
}

/** Child-process entry: says it is ready (loaded), then takes one plan and answers with one result. */
export function trafficChildMain(): void {
  process.once('message', (plan: TrafficPlan) => {
    runTraffic(plan).then(
      (result) => process.send!(result),
      (err: unknown) => process.send!({ error: String(err) }),
    );
  });
  process.send!('ready');
}

if (process.argv.includes('--soak-traffic')) trafficChildMain();
