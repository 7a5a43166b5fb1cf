import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/harness.js';
import { dueJobId } from '../../src/queues/queues.js';

let t: TestContext;
let admin: string;
let agent: string;
let seq = 0;

const NOW = new Date('2027-01-15T11:00:00Z');
const caseRef = () => `CASE-${++seq}-${Date.now()}`;

function body(overrides: Record<string, unknown> = {}) {
  return {
    caseRef: caseRef(),
    category: 'billing',
    phone: '+1 212 555 0123',
    reason: 'We will explain the December invoice again',
    firstExplanation: { summary: 'Explained the late fee policy' },
    notBefore: '2027-01-15T12:00:00Z',
    ...overrides,
  };
}

const countCallbacks = async () => Number((await t.sql`select count(*)::int as n from callbacks`)[0]!.n);

beforeAll(async () => {
  t = await createTestContext();
  admin = await t.key('admin');
  agent = await t.key('agent', { id: 'alice' });
  const res = await t.request('PUT', '/v1/policies/billing', { key: admin, body: { enabled: true } });
  expect(res.status).toBe(200);
});
afterAll(() => t.close());
beforeEach(() => t.setNow(NOW));

describe('honest scheduling (SPEC §3–§4 examples)', () => {
  it('calls New York at 08:00 local and Hawaii at 08:00 local on a winter day', async () => {
    const ny = await t.request('POST', '/v1/callbacks', { key: agent, body: body({ phone: '+1 212 555 0123' }) });
    expect(ny.status).toBe(201);
    expect(ny.body).toMatchObject({ status: 'scheduled', scheduledFor: '2027-01-15T13:00:00.000Z', timezones: ['America/New_York'], round: 2 });
    const hi = await t.request('POST', '/v1/callbacks', { key: agent, body: body({ phone: '+1 808 555 0123' }) });
    expect(hi.status).toBe(201);
    expect(hi.body).toMatchObject({ scheduledFor: '2027-01-15T18:00:00.000Z', timezones: ['Pacific/Honolulu'] });
  });

  it('enqueues a delayed wake-up job for the permitted time, keyed by id and version', async () => {
    const res = await t.request('POST', '/v1/callbacks', { key: agent, body: body() });
    const job = await t.runtime.queues.due.getJob(dueJobId(res.body.id, res.body.version));
    expect(job?.data).toEqual({ callbackId: res.body.id, version: res.body.version });
    expect(job?.opts.delay).toBe(2 * 3600_000); // 11:00 → 13:00
    expect(await job?.isDelayed()).toBe(true);
  });

  it('calls a number with several candidate zones only inside their intersection', async () => {
    // +1 208 maps to America/Boise (UTC-7) and America/Los_Angeles (UTC-8).
    const res = await t.request('POST', '/v1/schedule/preview', {
      key: agent,
      body: { phone: '+1 208 555 0100', category: 'billing', notBefore: '2027-01-15T12:00:00Z' },
    });
    expect(res.status).toBe(200);
    expect(res.body.timezones.sort()).toEqual(['America/Boise', 'America/Los_Angeles']);
    expect(res.body.earliest).toBe('2027-01-15T16:00:00.000Z'); // 08:00 in Los Angeles
    expect(res.body.intervals[0]).toEqual({ start: '2027-01-15T16:00:00.000Z', end: '2027-01-16T04:00:00.000Z' }); // 21:00 in Boise
  });

  it('computes the window on the day New York springs forward', async () => {
    t.setNow(new Date('2027-03-14T04:00:00Z'));
    const res = await t.request('POST', '/v1/schedule/preview', {
      key: agent,
      body: { phone: '+1 212 555 0123', category: 'billing', timezone: 'America/New_York' },
    });
    expect(res.status).toBe(200);
    // 08:00 EDT (UTC-4) to 21:00 EDT: 13 real hours although the day is 23 hours long.
    expect(res.body.intervals[0]).toEqual({ start: '2027-03-14T12:00:00.000Z', end: '2027-03-15T01:00:00.000Z' });
  });

  it('an explicit time zone wins over the number', async () => {
    const res = await t.request('POST', '/v1/schedule/preview', {
      key: agent,
      body: { phone: '+1 212 555 0123', category: 'billing', timezone: 'Asia/Kuala_Lumpur', notBefore: '2027-01-15T14:00:00Z' },
    });
    expect(res.body.timezones).toEqual(['Asia/Kuala_Lumpur']);
    expect(res.body.earliest).toBe('2027-01-16T00:00:00.000Z'); // 22:00 in Kuala Lumpur (UTC+8) is too late: 08:00 next day
  });

  it('refuses a deadline no permitted time meets, with the earliest time, and stores nothing', async () => {
    const before = await countCallbacks();
    const res = await t.request('POST', '/v1/callbacks', {
      key: agent,
      body: body({ phone: '+1 808 555 0199', deadline: '2027-01-15T17:00:00Z' }),
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ code: 'no_slot_before_deadline', earliest: '2027-01-15T18:00:00.000Z' });
    expect(await countCallbacks()).toBe(before);
  });

  it('respects center hours and closed dates set by an admin', async () => {
    const settings = await t.request('GET', '/v1/settings/calling', { key: admin });
    const calling = {
      ...settings.body,
      center: { timezone: 'America/Chicago', hours: [{ days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' }], closedDates: ['2027-01-15'] },
    };
    expect((await t.request('PUT', '/v1/settings/calling', { key: admin, body: calling })).status).toBe(200);
    try {
      // Friday 15 Jan is closed; the weekend is unstaffed; Monday 18 Jan 09:00 Chicago = 15:00Z.
      const res = await t.request('POST', '/v1/schedule/preview', {
        key: agent,
        body: { phone: '+1 212 555 0123', category: 'billing', deadline: '2027-01-25T00:00:00Z' },
      });
      expect(res.body.earliest).toBe('2027-01-18T15:00:00.000Z');
    } finally {
      await t.request('PUT', '/v1/settings/calling', { key: admin, body: settings.body });
    }
  });
});

describe('eligibility (SPEC §4)', () => {
  it('refuses a category that is not enabled', async () => {
    const res = await t.request('POST', '/v1/callbacks', { key: agent, body: body({ category: 'shipping' }) });
    expect(res).toMatchObject({ status: 422, body: { code: 'not_eligible' } });
  });

  it('refuses a tier the policy does not allow', async () => {
    await t.request('PUT', '/v1/policies/vip', { key: admin, body: { enabled: true, customerTiers: ['gold'] } });
    const silver = await t.request('POST', '/v1/callbacks', { key: agent, body: body({ category: 'vip', customer: { tier: 'silver' } }) });
    expect(silver.body.code).toBe('not_eligible');
    const gold = await t.request('POST', '/v1/callbacks', { key: agent, body: body({ category: 'vip', customer: { tier: 'gold' } }) });
    expect(gold.status).toBe(201);
  });

  it('refuses rounds above maxRounds', async () => {
    const res = await t.request('POST', '/v1/callbacks', { key: agent, body: body({ round: 3 }) });
    expect(res).toMatchObject({ status: 422, body: { code: 'round_limit_reached' } });
  });

  it('refuses an opted-out number', async () => {
    const phone = '+1 212 555 0177';
    expect((await t.request('POST', '/v1/opt-outs', { key: agent, body: { phone } })).status).toBe(201);
    const res = await t.request('POST', '/v1/callbacks', { key: agent, body: body({ phone }) });
    expect(res).toMatchObject({ status: 422, body: { code: 'opted_out' } });
  });

  it('refuses a case whose customer was exempted', async () => {
    const first = await t.request('POST', '/v1/callbacks', { key: agent, body: body() });
    await t.sql`insert into exemptions (callback_id, case_ref, status, reason, requested_by)
                values (${first.body.id}, ${first.body.caseRef}, 'approved', 'abusive', 'agent:alice')`;
    await t.request('POST', `/v1/callbacks/${first.body.id}/cancel`, { key: agent, body: { reason: 'exempted' } });
    const res = await t.request('POST', '/v1/callbacks', { key: agent, body: body({ caseRef: first.body.caseRef }) });
    expect(res).toMatchObject({ status: 422, body: { code: 'exempted' } });
  });

  it('allows one active callback per case: 409 with its id', async () => {
    const b = body();
    const first = await t.request('POST', '/v1/callbacks', { key: agent, body: b });
    const second = await t.request('POST', '/v1/callbacks', { key: agent, body: { ...b, reason: 'again' } });
    expect(second).toMatchObject({ status: 409, body: { code: 'duplicate_active_callback', callbackId: first.body.id } });
  });

  it('lets concurrent creations for one case produce exactly one callback', async () => {
    const b = body();
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => t.request('POST', '/v1/callbacks', { key: agent, body: { ...b, reason: `r${i}` } })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'duplicate_active_callback')).toBe(true);
    const rows = await t.sql`select id from callbacks where case_ref = ${b.caseRef}`;
    expect(rows).toHaveLength(1);
  });
});

describe('consent (SPEC §8)', () => {
  it('asks the customer first: awaiting_consent, an offer and its SMS, no wake-up yet', async () => {
    await t.request('PUT', '/v1/policies/consented', { key: admin, body: { enabled: true, consent: 'required' } });
    const res = await t.request('POST', '/v1/callbacks', { key: agent, body: body({ category: 'consented', phone: '+1 212 555 0166' }) });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'awaiting_consent', scheduledFor: null });
    const offers = await t.sql`select phone_e164, answered_at from consent_offers where callback_id = ${res.body.id}`;
    expect(offers).toEqual([{ phone_e164: '+12125550166', answered_at: null }]);
    const sms = await t.sql`select purpose, to_e164 from sms_messages where callback_id = ${res.body.id}`;
    expect(sms).toEqual([{ purpose: 'consent_offer', to_e164: '+12125550166' }]);
    expect(await t.runtime.queues.due.getJob(dueJobId(res.body.id, res.body.version))).toBeUndefined();
  });
});

describe('idempotency', () => {
  it('replays the same response for the same key and body, and refuses another body', async () => {
    const b = body();
    const headers = { 'idempotency-key': `idem-${b.caseRef}` };
    const first = await t.request('POST', '/v1/callbacks', { key: agent, body: b, headers });
    const again = await t.request('POST', '/v1/callbacks', { key: agent, body: b, headers });
    expect(first.status).toBe(201);
    expect(again).toMatchObject({ status: 201, body: first.body });
    const other = await t.request('POST', '/v1/callbacks', { key: agent, body: { ...b, reason: 'changed' }, headers });
    expect(other).toMatchObject({ status: 422, body: { code: 'idempotency_key_reused' } });
    expect(await t.sql`select id from callbacks where case_ref = ${b.caseRef}`).toHaveLength(1);
  });

  it('answers concurrent requests with one key as one creation, and keeps the wake-up of the one stored', async () => {
    const b = body();
    const headers = { 'idempotency-key': `idem-race-${b.caseRef}` };
    const results = await Promise.all(Array.from({ length: 6 }, () => t.request('POST', '/v1/callbacks', { key: agent, body: b, headers })));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 201]);
    const id = results[0]!.body.id as string;
    expect(results.every((r) => r.body.id === id)).toBe(true);
    expect(await t.sql`select id from callbacks where case_ref = ${b.caseRef}`).toEqual([{ id }]);
    expect(await t.sql`select count(*)::int as n from callback_events where callback_id = ${id}`).toEqual([{ n: 1 }]);
    expect(await t.runtime.queues.due.getJob(dueJobId(id, 1))).toBeDefined();
    // The losers' wake-ups were enqueued before their INSERT failed: none may be left behind.
    const stored = new Set((await t.sql`select id from callbacks`).map((r) => r.id as string));
    const orphans = (await t.runtime.queues.due.getDelayed()).filter((job) => !stored.has(job.data.callbackId));
    expect(orphans.map((job) => job.id)).toEqual([]);
  });
});

describe('reading, cancelling, rescheduling', () => {
  it('returns the callback with its timeline', async () => {
    const created = await t.request('POST', '/v1/callbacks', { key: agent, body: body() });
    const res = await t.request('GET', `/v1/callbacks/${created.body.id}`, { key: agent });
    expect(res.status).toBe(200);
    expect(res.body.attempts).toEqual([]);
    expect(res.body.timeline).toEqual([
      expect.objectContaining({ actor: 'agent:alice', from: null, to: 'scheduled' }),
    ]);
    expect((await t.request('GET', '/v1/callbacks/00000000-0000-4000-8000-000000000000', { key: agent })).body.code).toBe('not_found');
  });

  it('cancels once; a second cancel is 409; another agent may not cancel', async () => {
    const other = await t.key('agent', { id: 'bob' });
    const created = await t.request('POST', '/v1/callbacks', { key: agent, body: body() });
    const path = `/v1/callbacks/${created.body.id}/cancel`;
    expect((await t.request('POST', path, { key: other, body: { reason: 'x' } })).status).toBe(403);
    const res = await t.request('POST', path, { key: agent, body: { reason: 'customer called in' } });
    expect(res.body).toMatchObject({ status: 'cancelled', scheduledFor: null });
    expect((await t.request('POST', path, { key: agent, body: { reason: 'again' } })).body.code).toBe('invalid_state');
    const ops = await t.key('ops');
    const another = await t.request('POST', '/v1/callbacks', { key: agent, body: body() });
    expect((await t.request('POST', `/v1/callbacks/${another.body.id}/cancel`, { key: ops, body: { reason: 'ops' } })).status).toBe(200);
  });

  it('reschedules to a new permitted time with a new version and wake-up', async () => {
    const created = await t.request('POST', '/v1/callbacks', { key: agent, body: body() });
    const res = await t.request('POST', `/v1/callbacks/${created.body.id}/reschedule`, {
      key: agent,
      body: { notBefore: '2027-01-16T02:30:00Z' }, // 21:30 in New York: next is 08:00 on the 16th
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'scheduled', scheduledFor: '2027-01-16T13:00:00.000Z', version: created.body.version + 1 });
    expect(await t.runtime.queues.due.getJob(dueJobId(created.body.id, res.body.version))).toBeTruthy();
    const past = await t.request('POST', `/v1/callbacks/${created.body.id}/reschedule`, {
      key: agent,
      body: { notBefore: '2027-01-20T00:00:00Z' },
    });
    expect(past.body.code).toBe('no_slot_before_deadline');
  });

  it('lists newest first with filters and a stable cursor', async () => {
    const phone = '+1 212 555 0150';
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      t.setNow(new Date(NOW.getTime() + i * 1000));
      ids.push((await t.request('POST', '/v1/callbacks', { key: agent, body: body({ phone }) })).body.id);
    }
    const page1 = await t.request('GET', `/v1/callbacks?phone=${encodeURIComponent('(212) 555-0150')}&limit=2`, { key: agent });
    expect(page1.body.items.map((c: { id: string }) => c.id)).toEqual([ids[4], ids[3]]);
    const page2 = await t.request('GET', `/v1/callbacks?phone=%2B12125550150&limit=2&cursor=${page1.body.nextCursor}`, { key: agent });
    expect(page2.body.items.map((c: { id: string }) => c.id)).toEqual([ids[2], ids[1]]);
    const page3 = await t.request('GET', `/v1/callbacks?phone=%2B12125550150&limit=2&cursor=${page2.body.nextCursor}`, { key: agent });
    expect(page3.body).toMatchObject({ items: [{ id: ids[0] }], nextCursor: null });
    const byStatus = await t.request('GET', '/v1/callbacks?status=cancelled,suppressed&limit=200', { key: agent });
    expect(byStatus.body.items.every((c: { status: string }) => ['cancelled', 'suppressed'].includes(c.status))).toBe(true);
    const bad = await t.request('GET', '/v1/callbacks?status=bogus', { key: agent });
    expect(bad).toMatchObject({ status: 422, body: { code: 'validation_failed' } });
  });
});

describe('opt-outs (SPEC §5, §8)', () => {
  it('suppresses every active callback of the number at once', async () => {
    const phone = '+1 212 555 0188';
    const a = await t.request('POST', '/v1/callbacks', { key: agent, body: body({ phone }) });
    const b = await t.request('POST', '/v1/callbacks', { key: agent, body: body({ phone: '212-555-0188', region: 'US' }) });
    const res = await t.request('POST', '/v1/opt-outs', { key: agent, body: { phone, scope: 'voice' } });
    expect(res.status).toBe(201);
    expect(res.body.suppressedCallbacks.sort()).toEqual([a.body.id, b.body.id].sort());
    const detail = await t.request('GET', `/v1/callbacks/${a.body.id}`, { key: agent });
    expect(detail.body).toMatchObject({ status: 'suppressed', scheduledFor: null });
    expect(detail.body.timeline.at(-1)).toMatchObject({ from: 'scheduled', to: 'suppressed', details: { reason: 'opt_out' } });
    const events = await t.sql`select event from outbox where payload->>'callbackId' = ${a.body.id} order by id`;
    expect(events.map((e) => e.event)).toEqual(['callback.scheduled', 'callback.suppressed']);
    expect((await t.request('GET', '/v1/opt-outs/%2B12125550188', { key: agent })).body).toMatchObject({ phone: '+12125550188', scope: 'voice' });
    // An sms-only opt-out on top widens it to all; lifting needs ops.
    expect((await t.request('POST', '/v1/opt-outs', { key: agent, body: { phone, scope: 'sms' } })).body.optOut.scope).toBe('all');
    expect((await t.request('DELETE', '/v1/opt-outs/%2B12125550188', { key: agent })).status).toBe(403);
    const ops = await t.key('ops');
    expect((await t.request('DELETE', '/v1/opt-outs/%2B12125550188', { key: ops })).status).toBe(204);
    expect((await t.request('GET', '/v1/opt-outs/%2B12125550188', { key: agent })).status).toBe(404);
  });

  it('an sms-only opt-out does not stop calls', async () => {
    const phone = '+1 212 555 0189';
    await t.request('POST', '/v1/opt-outs', { key: agent, body: { phone, scope: 'sms' } });
    expect((await t.request('POST', '/v1/callbacks', { key: agent, body: body({ phone }) })).status).toBe(201);
  });
});

describe('timeline', () => {
  it('is append-only in the database', async () => {
    const created = await t.request('POST', '/v1/callbacks', { key: agent, body: body() });
    await expect(t.sql`update callback_events set actor = 'x' where callback_id = ${created.body.id}`).rejects.toThrow(/append-only/);
    await expect(t.sql`delete from callback_events where callback_id = ${created.body.id}`).rejects.toThrow(/append-only/);
  });
});
