import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/harness.js';
import { dueJobId } from '../../src/queues/queues.js';
import { dispatchDue } from '../../src/services/dispatch.js';
import { runMaintenance } from '../../src/services/maintenance.js';

let t: TestContext;
let admin: string;
let seq = 0;
let phoneSeq = 0;

// Winter: New York is UTC-5. NOW is Friday 10:00 in New York.
const NOW = new Date('2027-01-15T15:00:00Z');
const at = (iso: string) => new Date(iso);
const minutes = (d: Date, n: number) => new Date(d.getTime() + n * 60_000);
const isoOf = (pgTimestamp: unknown) => (pgTimestamp === null ? null : new Date(String(pgTimestamp)).toISOString());

const maintain = (now: Date, options?: { batchSize?: number }) => runMaintenance(t.runtime.deps, now, options);

async function category(name: string, extra: Record<string, unknown> = {}) {
  const res = await t.request('PUT', `/v1/policies/${name}`, { key: admin, body: { enabled: true, requiredSkill: name, ...extra } });
  expect(res.status).toBe(200);
  return name;
}

async function createCallback(key: string, cat: string, overrides: Record<string, unknown> = {}) {
  const res = await t.request('POST', '/v1/callbacks', {
    key,
    body: {
      caseRef: `MT-${++seq}-${Date.now()}`,
      category: cat,
      phone: `+1 212 555 01${String(phoneSeq++).padStart(2, '0')}`,
      reason: 'We will explain the December invoice again',
      firstExplanation: { summary: 'Explained the late fee policy' },
      ...overrides,
    },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; version: number; status: string };
}

async function readyCallback(key: string, cat: string, now: Date, overrides: Record<string, unknown> = {}) {
  t.setNow(now);
  const created = await createCallback(key, cat, overrides);
  expect(await dispatchDue(t.runtime.deps, { callbackId: created.id, version: created.version }, now)).toBe('ready');
  return created;
}

async function row(id: string) {
  const [r] = await t.sql`select status, version, claimed_by, scheduled_for, lease_expires_at, sla_at_risk_at, sla_breached_at
                          from callbacks where id = ${id}`;
  return r!;
}

const eventsOf = async (id: string, event: string) =>
  t.sql`select payload from outbox where event = ${event} and payload->>'callbackId' = ${id}`;

beforeAll(async () => {
  t = await createTestContext();
  admin = await t.key('admin');
});
afterAll(() => t.close());
beforeEach(() => t.setNow(NOW));

describe('runMaintenance', () => {
  it('returns a count per step', async () => {
    const counts = await maintain(NOW);
    expect(Object.keys(counts).sort()).toEqual([
      'abandonedCalls', 'alertsFired', 'alertsResolved', 'closedReadyWindows', 'expiredLeases', 'expiredOffers', 'reconciledWakeups', 'requeuedSms', 'slaAtRisk', 'slaBreached',
    ]);
    expect(Object.values(counts).every((n) => Number.isInteger(n) && n >= 0)).toBe(true);
  });
});

describe('calls without a result', () => {
  it('counts an attempt with no result after IN_CALL_TIMEOUT_MINUTES as failed and retries the callback', async () => {
    const cat = await category('mt_abandoned');
    const agent = await t.key('agent', { id: 'forgetful', skills: [cat] });
    const created = await readyCallback(agent, cat, NOW);
    expect((await t.request('POST', '/v1/agents/me/claim', { key: agent })).status).toBe(200);
    const started = await t.request('POST', `/v1/callbacks/${created.id}/attempts`, { key: agent, body: {} });
    expect(started.status).toBe(201);

    const timeout = t.config.IN_CALL_TIMEOUT_MINUTES;
    expect((await maintain(minutes(NOW, timeout - 1))).abandonedCalls).toBe(0);
    expect((await row(created.id)).status).toBe('in_call');

    expect((await maintain(minutes(NOW, timeout + 1))).abandonedCalls).toBe(1);
    expect((await row(created.id)).status).toBe('scheduled');
    const [attempt] = await t.sql`select result, notes, ended_at from attempts where id = ${started.body.attempt.id}`;
    expect(attempt).toMatchObject({ result: 'failed', notes: 'no result recorded by the agent' });
    expect(isoOf(attempt!.ended_at)).toBe(minutes(NOW, timeout + 1).toISOString());
    // A late result from the agent is refused: the attempt is closed.
    const late = await t.request('POST', `/v1/attempts/${started.body.attempt.id}/result`, { key: agent, body: { result: 'no_answer' } });
    expect(late.body.code).toBe('invalid_state');
    expect((await maintain(minutes(NOW, timeout + 2))).abandonedCalls).toBe(0);
  });
});

describe('lease expiry (SPEC §5)', () => {
  it('returns a claimed callback to ready once its lease has run out, and only then', async () => {
    const cat = await category('mt_lease');
    const agent = await t.key('agent', { id: 'lease-holder', skills: [cat] });
    const other = await t.key('agent', { skills: [cat] });
    const created = await readyCallback(agent, cat, NOW);
    const claimed = await t.request('POST', '/v1/agents/me/claim', { key: agent });
    expect(claimed.body).toMatchObject({ id: created.id, leaseExpiresAt: minutes(NOW, 10).toISOString() });

    await maintain(minutes(NOW, 9));
    expect(await row(created.id)).toMatchObject({ status: 'claimed', claimed_by: 'lease-holder' });

    const counts = await maintain(minutes(NOW, 10));
    expect(counts.expiredLeases).toBeGreaterThanOrEqual(1);
    expect(await row(created.id)).toMatchObject({ status: 'ready', claimed_by: null, lease_expires_at: null });
    const [event] = await t.sql`select actor, from_status, to_status, details from callback_events
                                where callback_id = ${created.id} order by id desc limit 1`;
    expect(event).toMatchObject({ actor: 'system:maintenance', from_status: 'claimed', to_status: 'ready', details: { reason: 'lease_expired', claimedBy: 'lease-holder' } });

    t.setNow(minutes(NOW, 11));
    expect((await t.request('POST', '/v1/agents/me/claim', { key: other })).body.id).toBe(created.id);
    // The first agent no longer holds it.
    expect((await t.request('POST', `/v1/callbacks/${created.id}/attempts`, { key: agent })).status).toBe(403);
  });
});

describe('ready windows (SPEC §5)', () => {
  it('returns an unclaimed ready callback to scheduled when its window closes, with a new wake-up', async () => {
    const cat = await category('mt_window');
    const agent = await t.key('agent', { skills: [cat] });
    const created = await readyCallback(agent, cat, at('2027-01-16T01:50:00Z')); // 20:50 in New York

    await maintain(at('2027-01-16T01:59:00Z'));
    expect((await row(created.id)).status).toBe('ready');

    const counts = await maintain(at('2027-01-16T02:00:00Z')); // 21:00: legal hours are over
    expect(counts.closedReadyWindows).toBeGreaterThanOrEqual(1);
    const after = await row(created.id);
    expect(after.status).toBe('scheduled');
    expect(isoOf(after.scheduled_for)).toBe('2027-01-16T13:00:00.000Z');
    const job = await t.runtime.queues.due.getJob(dueJobId(created.id, after.version));
    expect(job?.opts.delay).toBe(11 * 3600_000);
  });
});

describe('SLA events (SPEC §5)', () => {
  it('writes callback.sla_at_risk and callback.sla_breached exactly once, however often and concurrently it runs', async () => {
    const cat = await category('mt_sla');
    const agent = await t.key('agent', { skills: [cat] });
    const deadline = minutes(NOW, 180);
    const created = await createCallback(agent, cat, { deadline: deadline.toISOString(), notBefore: minutes(NOW, 150).toISOString() });
    const before = await row(created.id);

    await maintain(minutes(NOW, 59)); // 2 h 01 min left
    expect(await eventsOf(created.id, 'callback.sla_at_risk')).toHaveLength(0);

    const riskAt = minutes(NOW, 61); // 1 h 59 min left
    await maintain(riskAt);
    await Promise.all([maintain(riskAt), maintain(minutes(riskAt, 1)), maintain(minutes(riskAt, 2))]);
    await maintain(minutes(riskAt, 3));
    const atRisk = await eventsOf(created.id, 'callback.sla_at_risk');
    expect(atRisk).toHaveLength(1);
    expect(atRisk[0]!.payload).toMatchObject({ callbackId: created.id, deadline: deadline.toISOString(), msToDeadline: 119 * 60_000 });
    const marked = await row(created.id);
    expect(isoOf(marked.sla_at_risk_at)).toBe(riskAt.toISOString());
    // No status change and no new version: the pending wake-up stays valid.
    expect(marked).toMatchObject({ status: 'scheduled', version: before.version, sla_breached_at: null });
    expect(await t.runtime.queues.due.getJob(dueJobId(created.id, before.version))).toBeTruthy();

    // Concurrent runs at several instants: whichever commits first marks it, so the mark time varies.
    await Promise.all([maintain(deadline), maintain(deadline), maintain(minutes(deadline, 1)), maintain(minutes(deadline, 2))]);
    await maintain(minutes(deadline, 5));
    expect(await eventsOf(created.id, 'callback.sla_breached')).toHaveLength(1);
    expect(await eventsOf(created.id, 'callback.sla_at_risk')).toHaveLength(1);
    const breachedAt = Date.parse(isoOf((await row(created.id)).sla_breached_at)!);
    expect(breachedAt >= deadline.getTime() && breachedAt <= minutes(deadline, 2).getTime()).toBe(true);
    expect((await row(created.id)).status).toBe('scheduled'); // a breached callback is still called
  });

  it('marks every callback in reach across several small batches, each once', async () => {
    const cat = await category('mt_sla_batch');
    const agent = await t.key('agent', { skills: [cat] });
    const deadline = at('2027-01-20T15:00:00Z');
    const ids = [];
    for (let i = 0; i < 7; i++) ids.push((await createCallback(agent, cat, { deadline: deadline.toISOString() })).id);
    const riskAt = minutes(deadline, -60);
    await Promise.all([maintain(riskAt, { batchSize: 2 }), maintain(riskAt, { batchSize: 3 })]);
    const events = await t.sql`select payload->>'callbackId' as id from outbox
                               where event = 'callback.sla_at_risk' and payload->>'callbackId' in ${t.sql(ids)}`;
    expect(events.map((e) => e.id).sort()).toEqual([...ids].sort());
  });

  it('raises nothing for finished callbacks, nor for offers still awaiting consent', async () => {
    const cat = await category('mt_sla_none', { consent: 'required' });
    const agent = await t.key('agent', { skills: [cat] });
    const deadline = minutes(NOW, 60);
    const offer = await createCallback(agent, cat, { deadline: deadline.toISOString() });
    expect(offer.status).toBe('awaiting_consent');
    const cancelled = await createCallback(agent, await category('mt_sla_cancelled'), { deadline: deadline.toISOString() });
    await t.request('POST', `/v1/callbacks/${cancelled.id}/cancel`, { key: agent, body: { reason: 'customer called in' } });
    await maintain(minutes(deadline, 1));
    for (const id of [offer.id, cancelled.id]) {
      expect(await t.sql`select 1 from outbox where event like 'callback.sla_%' and payload->>'callbackId' = ${id}`).toHaveLength(0);
    }
  });
});

describe('lost wake-ups (SPEC §6)', () => {
  it('restores the wake-up of a due scheduled callback whose job is gone', async () => {
    const cat = await category('mt_wakeup');
    const agent = await t.key('agent', { skills: [cat] });
    const created = await createCallback(agent, cat, { notBefore: minutes(NOW, 30).toISOString() });
    await t.runtime.queues.due.remove(dueJobId(created.id, created.version));
    expect(await t.runtime.queues.due.getJob(dueJobId(created.id, created.version))).toBeUndefined();
    const counts = await maintain(minutes(NOW, 29.5));
    expect(counts.reconciledWakeups).toBeGreaterThanOrEqual(1);
    expect(await t.runtime.queues.due.getJob(dueJobId(created.id, created.version))).toBeTruthy();
  });
});
