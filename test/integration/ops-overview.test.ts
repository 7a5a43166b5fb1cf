import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/harness.js';
import { OverviewSchema } from '../../src/ops/overview.js';

/**
 * A known mix of callbacks (created through the API, then placed in time with SQL) and of
 * attempts, verification sessions, opt-outs, scam reports and exemptions inserted with chosen
 * timestamps; every figure of the overview is checked against it.
 */

let t: TestContext;
let admin: string;
let ops: string;
let agent: string;

const H = 3600_000;
const MIN = 60_000;
const D = 24 * H;
// A half-hour offset: local days do not start on a UTC hour.
const TZ = 'Asia/Kolkata';
// Half past the current real hour: rows the API writes with the real clock fall inside "the last
// 24 h", and every chosen time lands in a known hourly bucket.
const NOW = new Date(Math.floor(Date.now() / H) * H + 30 * MIN);
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);
/** The SQL client of the harness takes timestamps as text. */
const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;

const N1 = '+12125550100';
const N2 = '+12125550101';
const N3 = '+12125550199';
const ids: Record<string, string> = {};

async function createCallback(name: string) {
  const res = await t.request('POST', '/v1/callbacks', {
    key: agent,
    body: {
      caseRef: `OPS-${name}`,
      category: 'billing',
      phone: '+1 212 555 0123',
      reason: 'We will explain the invoice again',
      firstExplanation: { summary: 'Explained the late fee' },
      deadline: at(7 * D).toISOString(),
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  ids[name] = res.body.id;
}

interface Placement {
  status: string;
  scheduledFor?: Date | null;
  deadline?: Date;
  updatedAt?: Date;
  slaBreachedAt?: Date | null;
  outcome?: string | null;
}

async function place(name: string, p: Placement) {
  await t.sql`update callbacks set status = ${p.status}, scheduled_for = ${iso(p.scheduledFor)},
    deadline = ${iso(p.deadline ?? at(7 * D))}, updated_at = ${iso(p.updatedAt ?? NOW)},
    sla_breached_at = ${iso(p.slaBreachedAt)}, outcome = ${p.outcome ?? null}
    where id = ${ids[name]!}`;
}

let attemptNumber = 0;
async function attempt(callerNumber: string | null, startedAt: Date, result: string | null, verified = false) {
  const [row] = await t.sql`insert into attempts (callback_id, number, phone_e164, caller_number, started_at, ended_at, result)
    values (${ids.C!}, ${++attemptNumber}, '+12125550123', ${callerNumber}, ${iso(startedAt)}, ${result ? iso(startedAt) : null}, ${result})
    returning id`;
  await t.sql`insert into verification_sessions (attempt_id, callback_id, phone_e164, code_hash, valid_from, expires_at, hard_expires_at, verified_at)
    values (${row!.id}, ${ids.C!}, '+12125550123', 'hash', ${iso(startedAt)}, ${iso(new Date(startedAt.getTime() + 30 * MIN))},
      ${iso(new Date(startedAt.getTime() + 30 * MIN))}, ${verified ? iso(new Date(startedAt.getTime() + MIN)) : null})`;
  return startedAt;
}

const attemptTimes: { at: Date; connected: boolean; verified: boolean }[] = [];
async function recorded(callerNumber: string | null, offset: number, result: string | null, verified = false) {
  const when = await attempt(callerNumber, at(offset), result, verified);
  attemptTimes.push({ at: when, connected: result === 'connected', verified });
}

beforeAll(async () => {
  t = await createTestContext();
  t.setNow(NOW);
  admin = await t.key('admin');
  ops = await t.key('ops');
  agent = await t.key('agent', { id: 'olivia' });
  expect((await t.request('PUT', '/v1/policies/billing', { key: admin, body: { enabled: true } })).status).toBe(200);
  const calling = (await t.request('GET', '/v1/settings/calling', { key: admin })).body;
  calling.center.timezone = TZ;
  expect((await t.request('PUT', '/v1/settings/calling', { key: admin, body: calling })).status).toBe(200);
  const numbers = { numbers: [{ number: N1, label: 'Main line' }, { number: N2, label: 'Backup line' }] };
  expect((await t.request('PUT', '/v1/settings/official-numbers', { key: admin, body: numbers })).status).toBe(200);

  for (const name of 'ABCDEFGHIJKL') await createCallback(name);
  await place('A', { status: 'scheduled', scheduledFor: at(30 * MIN), deadline: at(90 * MIN) });
  await place('B', { status: 'scheduled', scheduledFor: at(-10 * MIN), deadline: at(3 * H) });
  await place('C', { status: 'scheduled', scheduledFor: at(2 * H), deadline: at(10 * H) });
  await place('D', { status: 'ready', scheduledFor: at(-5 * MIN), deadline: at(-30 * MIN), slaBreachedAt: at(-20 * MIN) });
  await place('E', { status: 'claimed', scheduledFor: at(-4 * H), deadline: at(-3 * H), slaBreachedAt: at(-170 * MIN) });
  await place('F', { status: 'in_call', scheduledFor: at(-15 * MIN), deadline: at(60 * MIN) });
  // Awaiting consent has promised nothing yet: its deadline is the offer's expiry, not an SLA.
  await place('G', { status: 'awaiting_consent', deadline: at(60 * MIN) });
  await place('H', { status: 'completed', outcome: 'accepted', updatedAt: at(-2 * H) });
  await place('I', { status: 'completed', outcome: 'not_accepted', updatedAt: at(-3 * D), slaBreachedAt: at(-3 * D - H) });
  await place('J', { status: 'cancelled', updatedAt: at(-8 * D) });
  await place('K', { status: 'exempted', updatedAt: at(-H) });
  await place('L', { status: 'unreachable', updatedAt: at(-5 * D) });

  // Last 24 h.
  await recorded(N1, -10 * MIN, null);
  await recorded(null, -30 * MIN, 'no_answer');
  await recorded(N1, -H, 'connected', true);
  await recorded(N1, -2 * H, 'connected');
  await recorded(N1, -3 * H, 'no_answer', true); // verified from the texted code, though the call was not answered
  await recorded(N2, -5 * H, 'busy');
  await recorded(N2, -23 * H, 'connected', true);
  // Earlier in the 7 days.
  await recorded(N1, -2 * D, 'connected', true);
  await recorded(N1, -3 * D, 'voicemail');
  await recorded(N3, -6 * D, 'connected');
  // Outside every period.
  await attempt(N1, at(-8 * D), 'connected', true);

  for (const [phone, when] of [['+12125550001', at(-H)], ['+12125550002', at(-3 * D)], ['+12125550003', at(-30 * D)]] as const) {
    await t.sql`insert into opt_outs (phone_e164, scope, source, created_by, created_at) values (${phone}, 'all', 'test', 'test', ${iso(when)})`;
  }
  for (const [caller, official, when] of [[N1, true, at(-2 * H)], ['+12125559999', false, at(-2 * D)], [N1, true, at(-10 * D)]] as const) {
    await t.sql`insert into scam_reports (caller_number, caller_e164, description, caller_is_official, created_at)
      values (${caller}, ${caller}, 'they asked for my PIN', ${official}, ${iso(when)})`;
  }
  const exemption = async (cb: string, status: string, createdAt: Date, decidedAt: Date | null) =>
    t.sql`insert into exemptions (callback_id, case_ref, status, reason, requested_by, decided_at, created_at)
      values (${ids[cb]!}, ${`OPS-${cb}`}, ${status}, ${`abusive on call ${cb}`}, 'agent:olivia', ${iso(decidedAt)}, ${iso(createdAt)})`;
  await exemption('A', 'pending', at(-40 * MIN), null);
  await exemption('F', 'pending', at(-2 * H), null);
  await exemption('K', 'approved', at(-2 * D), at(-D));
  await exemption('I', 'approved', at(-10 * D), at(-9 * D));
  await exemption('H', 'rejected', at(-3 * D), at(-2 * D));
});
afterAll(() => t.close());

const overview = async () => {
  const res = await t.request('GET', '/v1/ops/overview', { key: ops });
  expect(res.status).toBe(200);
  return OverviewSchema.parse(res.body);
};

describe('GET /v1/ops/overview', () => {
  it('is for ops and admin only', async () => {
    expect((await t.request('GET', '/v1/ops/overview')).status).toBe(401);
    expect((await t.request('GET', '/v1/ops/overview', { key: agent })).status).toBe(403);
    expect((await t.request('GET', '/v1/ops/overview', { key: admin })).status).toBe(200);
  });

  it('counts callbacks by state: active now, terminal by when they got there', async () => {
    const o = await overview();
    expect(o.generatedAt).toBe(NOW.toISOString());
    expect(o.timezone).toBe(TZ);
    expect(o.callbacks.active).toEqual({ awaiting_consent: 1, scheduled: 3, ready: 1, claimed: 1, in_call: 1, total: 7 });
    expect(o.callbacks.finishedLast24h).toEqual({
      completed: 1,
      cancelled: 0,
      declined: 0,
      suppressed: 0,
      unreachable: 0,
      exempted: 1,
      expired: 0,
    });
    expect(o.callbacks.finishedLast7d).toEqual({
      completed: 2,
      cancelled: 0,
      declined: 0,
      suppressed: 0,
      unreachable: 1,
      exempted: 1,
      expired: 0,
    });
    expect(o.callbacks.outcomesLast24h).toEqual({ accepted: 1 });
    expect(o.callbacks.outcomesLast7d).toEqual({ accepted: 1, not_accepted: 1 });
    expect(o.callbacks.dueNextHour).toBe(2);
  });

  it('lists SLA risk and breaches', async () => {
    const o = await overview();
    const ref = (name: string, status: string, deadline: Date, scheduledFor: Date | null) => ({
      id: ids[name],
      caseRef: `OPS-${name}`,
      status,
      deadline: deadline.toISOString(),
      scheduledFor: scheduledFor?.toISOString() ?? null,
    });
    expect(o.sla.atRisk).toEqual({
      count: 2,
      items: [ref('F', 'in_call', at(60 * MIN), at(-15 * MIN)), ref('A', 'scheduled', at(90 * MIN), at(30 * MIN))],
    });
    expect(o.sla.breached).toEqual({
      activeCount: 2,
      items: [ref('E', 'claimed', at(-3 * H), at(-4 * H)), ref('D', 'ready', at(-30 * MIN), at(-5 * MIN))],
      last24h: 2,
      last7d: 3,
    });
  });

  it('computes attempts and answer rates, overall and per caller number', async () => {
    const o = await overview();
    expect(o.attempts.last24h).toEqual({ attempts: 7, withResult: 6, connected: 3, answerRate: 0.5 });
    expect(o.attempts.last7d).toEqual({ attempts: 10, withResult: 9, connected: 5, answerRate: 5 / 9 });
    const summary = o.attempts.byCallerNumber.map(({ daily: _daily, ...rest }) => rest);
    expect(summary).toEqual([
      {
        callerNumber: N1,
        label: 'Main line',
        official: true,
        last24h: { attempts: 4, withResult: 3, connected: 2, answerRate: 2 / 3 },
        last7d: { attempts: 6, withResult: 5, connected: 3, answerRate: 0.6 },
      },
      {
        callerNumber: N2,
        label: 'Backup line',
        official: true,
        last24h: { attempts: 2, withResult: 2, connected: 1, answerRate: 0.5 },
        last7d: { attempts: 2, withResult: 2, connected: 1, answerRate: 0.5 },
      },
      {
        callerNumber: N3,
        label: null,
        official: false,
        last24h: { attempts: 0, withResult: 0, connected: 0, answerRate: null },
        last7d: { attempts: 1, withResult: 1, connected: 1, answerRate: 1 },
      },
      {
        callerNumber: null,
        label: null,
        official: false,
        last24h: { attempts: 1, withResult: 1, connected: 0, answerRate: 0 },
        last7d: { attempts: 1, withResult: 1, connected: 0, answerRate: 0 },
      },
    ]);
  });

  it('gives each caller number its daily answer rate in the center time zone', async () => {
    const o = await overview();
    const n3 = o.attempts.byCallerNumber.find((c) => c.callerNumber === N3)!;
    const day = (offset: number) => DateTime.fromJSDate(at(offset), { zone: TZ }).toISODate();
    expect(n3.daily).toHaveLength(7);
    expect(n3.daily.map((d) => d.date)).toEqual(o.series.daily.map((d) => d.date));
    expect(n3.daily.filter((d) => d.withResult > 0)).toEqual([{ date: day(-6 * D), withResult: 1, connected: 1, answerRate: 1 }]);
    expect(n3.daily.filter((d) => d.withResult === 0).every((d) => d.answerRate === null)).toBe(true);
  });

  it('computes the verification rate as verified sessions per connected attempt', async () => {
    const o = await overview();
    expect(o.verification).toEqual({
      last24h: { connected: 3, verified: 3, rate: 1 },
      last7d: { connected: 5, verified: 4, rate: 0.8 },
    });
  });

  it('counts opt-outs, scam reports and exemptions separately', async () => {
    const o = await overview();
    expect(o.optOuts).toEqual({ total: 3, last24h: 1, last7d: 2 });
    expect(o.scamReports).toEqual({ last24h: 1, last7d: 2, officialNumberLast7d: 1 });
    const { pendingItems, ...counts } = o.exemptions;
    expect(counts).toEqual({ pending: 2, approved: 2, rejected: 1, approvedLast7d: 1 });
    expect(pendingItems.map((e) => [e.callbackId, e.caseRef, e.reason, e.createdAt])).toEqual([
      [ids.F, 'OPS-F', 'abusive on call F', at(-2 * H).toISOString()],
      [ids.A, 'OPS-A', 'abusive on call A', at(-40 * MIN).toISOString()],
    ]);
  });

  it('gives hourly series for 24 h and daily series for 7 days', async () => {
    const o = await overview();
    const hourStart = new Date(Math.floor(NOW.getTime() / H) * H);
    expect(o.series.hourly).toHaveLength(24);
    expect(o.series.hourly[0]!.start).toBe(new Date(hourStart.getTime() - 23 * H).toISOString());
    expect(o.series.hourly[23]!.start).toBe(hourStart.toISOString());
    const nonZero = o.series.hourly.flatMap((p, i) => (p.attempts > 0 ? [[i, p.attempts, p.connected, p.verified]] : []));
    expect(nonZero).toEqual([
      [0, 1, 1, 1], // N2 connected and verified 23 h ago
      [18, 1, 0, 0], // busy 5 h ago
      [20, 1, 0, 1], // no answer 3 h ago, verified from the texted code
      [21, 1, 1, 0], // connected 2 h ago
      [22, 1, 1, 1], // connected and verified 1 h ago
      [23, 2, 0, 0], // in progress 10 min ago, no answer 30 min ago
    ]);

    const today = DateTime.fromJSDate(NOW, { zone: TZ }).startOf('day');
    const dates = Array.from({ length: 7 }, (_, i) => today.minus({ days: 6 - i }).toISODate());
    expect(o.series.daily.map((d) => d.date)).toEqual(dates);
    const expected = new Map(dates.map((d) => [d, { attempts: 0, connected: 0, verified: 0 }]));
    for (const a of attemptTimes) {
      const bucket = expected.get(DateTime.fromJSDate(a.at, { zone: TZ }).toISODate()!);
      if (!bucket) continue;
      bucket.attempts++;
      if (a.connected) bucket.connected++;
      if (a.verified) bucket.verified++;
    }
    expect(o.series.daily).toEqual(dates.map((date) => ({ date, ...expected.get(date)! })));
    // The seven calendar days start after now − 7 d, so the 6-day-old attempt is in them.
    expect(o.series.daily.reduce((s, d) => s + d.attempts, 0)).toBe(10);
  });

  it('answers zeros and nulls on an empty period rather than failing', async () => {
    t.setNow(at(30 * D));
    try {
      const o = await overview();
      expect(o.attempts.last7d).toEqual({ attempts: 0, withResult: 0, connected: 0, answerRate: null });
      expect(o.verification.last7d).toEqual({ connected: 0, verified: 0, rate: null });
      expect(o.series.hourly.every((p) => p.attempts === 0)).toBe(true);
      expect(o.attempts.byCallerNumber).toEqual([]);
    } finally {
      t.setNow(NOW);
    }
  });
});
