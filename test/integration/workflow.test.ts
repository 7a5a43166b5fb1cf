import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/harness.js';
import { dueJobId } from '../../src/queues/queues.js';
import { dispatchDue } from '../../src/services/dispatch.js';
import { closeReadyWindows } from '../../src/services/maintenance.js';
import { callingRulesFor } from '../../src/services/scheduling.js';
import { parsePhone } from '../../src/domain/phone.js';

let t: TestContext;
let admin: string;
let ops: string;
let seq = 0;
let phoneSeq = 0;

// Winter: New York is UTC-5. NOW is Friday 10:00 in New York.
const NOW = new Date('2027-01-15T15:00:00Z');
const at = (iso: string) => new Date(iso);
const minutes = (d: Date, n: number) => new Date(d.getTime() + n * 60_000);

const caseRef = () => `WF-${++seq}-${Date.now()}`;
/** A fresh New York number per callback set, so frequency caps of one test never reach another. */
const newPhone = () => `+1 212 555 01${String(phoneSeq++).padStart(2, '0')}`;
/** Raw queries return timestamps as PostgreSQL's text ("2027-01-15 15:00:00+00"). */
const isoOf = (pgTimestamp: unknown) => new Date(String(pgTimestamp)).toISOString();
const hmac = (value: string) => createHmac('sha256', t.config.SECRET_KEY).update(value).digest('hex');

/** Each test claims from its own category and skill, so ready callbacks of other tests are invisible to it. */
async function category(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await t.request('PUT', `/v1/policies/${name}`, { key: admin, body: { enabled: true, requiredSkill: name, ...extra } });
  expect(res.status).toBe(200);
  return name;
}

const agentFor = (skill: string, id?: string) => t.key('agent', { skills: [skill], ...(id ? { id } : {}) });

async function createCallback(key: string, cat: string, overrides: Record<string, unknown> = {}) {
  const res = await t.request('POST', '/v1/callbacks', {
    key,
    body: {
      caseRef: caseRef(),
      category: cat,
      phone: newPhone(),
      reason: 'We will explain the December invoice again',
      firstExplanation: { summary: 'Explained the late fee policy' },
      ...overrides,
    },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; version: number; caseRef: string; phone: { e164: string } };
}

/** Puts a callback in `ready` the way production does: the dispatcher at a permitted instant. */
async function dispatch(id: string, now: Date) {
  const [row] = await t.sql`select version from callbacks where id = ${id}`;
  expect(await dispatchDue(t.runtime.deps, { callbackId: id, version: row!.version as number }, now)).toBe('ready');
}

async function readyCallback(key: string, cat: string, overrides: Record<string, unknown> = {}, now = NOW) {
  t.setNow(now);
  const created = await createCallback(key, cat, overrides);
  await dispatch(created.id, now);
  return created;
}

const claim = (key: string) => t.request('POST', '/v1/agents/me/claim', { key });
const startAttempt = (key: string, id: string, body?: unknown) =>
  t.request('POST', `/v1/callbacks/${id}/attempts`, { key, ...(body === undefined ? {} : { body }) });
const result = (key: string, attemptId: string, body: unknown) =>
  t.request('POST', `/v1/attempts/${attemptId}/result`, { key, body });
const detail = async (id: string) => (await t.request('GET', `/v1/callbacks/${id}`, { key: admin })).body;

/** Claims (as the only agent with this skill) and starts an attempt at `now`. */
async function claimAndDial(key: string, id: string, now: Date) {
  t.setNow(now);
  const claimed = await claim(key);
  expect(claimed).toMatchObject({ status: 200, body: { id } });
  const started = await startAttempt(key, id);
  expect(started.status).toBe(201);
  return started.body as { attempt: { id: string; number: number }; verification: { code: string; expiresAt: string } };
}

beforeAll(async () => {
  t = await createTestContext();
  admin = await t.key('admin');
  ops = await t.key('ops');
});
afterAll(() => t.close());
beforeEach(() => t.setNow(NOW));

describe('claiming (SPEC §5)', () => {
  it('claims the best ready callback: highest priority first, then the earliest due, then 204; a body of {} is none', async () => {
    const cat = await category('claim_order');
    const agent = await agentFor(cat, 'claim-order-agent');
    const early = await readyCallback(agent, cat, { priority: 5 }, minutes(NOW, -10));
    const later = await readyCallback(agent, cat, { priority: 5 });
    const urgent = await readyCallback(agent, cat, { priority: 9 });

    const first = await claim(agent);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      id: urgent.id,
      status: 'claimed',
      claimedBy: 'claim-order-agent',
      leaseExpiresAt: minutes(NOW, 10).toISOString(),
    });
    // A claim takes no options: `{}`, or an empty body labelled JSON, is the same as none.
    const claimPath = '/v1/agents/me/claim';
    expect((await t.request('POST', claimPath, { key: agent, body: {} })).body.id).toBe(early.id);
    expect((await t.request('POST', claimPath, { key: agent, headers: { 'content-type': 'application/json' } })).body.id).toBe(later.id);
    const none = await claim(agent);
    expect(none.status).toBe(204);
    expect(none.body).toBeNull();

    const timeline = (await detail(urgent.id)).timeline;
    expect(timeline.at(-1)).toMatchObject({ actor: 'agent:claim-order-agent', from: 'ready', to: 'claimed' });
  });

  it('never gives one callback to two agents claiming at once', async () => {
    const cat = await category('claim_race');
    const creator = await agentFor(cat);
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push((await readyCallback(creator, cat, { priority: i % 3 })).id);
    const agents = await Promise.all(Array.from({ length: 16 }, () => agentFor(cat)));

    const results = await Promise.all(agents.map((key) => claim(key)));
    const won = results.filter((r) => r.status === 200).map((r) => r.body.id as string);
    expect(won).toHaveLength(10);
    expect(new Set(won).size).toBe(10);
    expect(won.sort()).toEqual([...ids].sort());
    expect(results.filter((r) => r.status === 204)).toHaveLength(6);

    const rows = await t.sql`select claimed_by, version from callbacks where id in ${t.sql(ids)} and status = 'claimed'`;
    expect(new Set(rows.map((r) => r.claimed_by)).size).toBe(10);
    const claims = await t.sql`select count(*)::int as n from callback_events
                               where callback_id in ${t.sql(ids)} and to_status = 'claimed'`;
    expect(claims[0]!.n).toBe(10);
  });

  it('gives 204 to an agent without the required skill, and the callback stays ready', async () => {
    const cat = await category('claim_skill');
    const creator = await agentFor(cat);
    const created = await readyCallback(creator, cat);
    const unskilled = await agentFor('some_other_skill');
    expect((await claim(unskilled)).status).toBe(204);
    expect((await detail(created.id)).status).toBe('ready');
    expect((await claim(creator)).body.id).toBe(created.id);
  });

  it('returns a ready callback whose window has closed to scheduled instead of handing it out', async () => {
    const cat = await category('claim_late');
    const agent = await agentFor(cat);
    const created = await readyCallback(agent, cat, {}, at('2027-01-16T01:55:00Z')); // 20:55 in New York
    t.setNow(at('2027-01-16T02:05:00Z')); // 21:05: legal hours are over
    expect((await claim(agent)).status).toBe(204);
    const after = await detail(created.id);
    expect(after).toMatchObject({ status: 'scheduled', scheduledFor: '2027-01-16T13:00:00.000Z', claimedBy: null });
    expect(after.timeline.at(-1)).toMatchObject({ actor: 'system:claim', from: 'ready', to: 'scheduled', details: { reason: 'window_closed' } });
    expect(await t.runtime.queues.due.getJob(dueJobId(created.id, after.version))).toBeTruthy();
  });

  it('maintenance returns a ready callback whose window closed, but not one that became ready after its tick began', async () => {
    const cat = await category('maint_window');
    const agent = await agentFor(cat);
    const tick = at('2027-01-16T01:55:00Z'); // 20:55 in New York: a tick that began then...
    const closed = await readyCallback(agent, cat, {}, minutes(tick, -10));
    // ...and, while it ran, a callback due at 08:00 the next morning became ready (a slow tick
    // meets rows dispatched after its own `now`).
    const fresh = await readyCallback(agent, cat, { notBefore: '2027-01-16T13:00:00Z' }, at('2027-01-16T13:00:00Z'));

    await closeReadyWindows(t.runtime.deps, minutes(tick, 15)); // 21:10: legal hours are over
    expect(await detail(closed.id)).toMatchObject({ status: 'scheduled', scheduledFor: '2027-01-16T13:00:00.000Z' });
    expect(await detail(fresh.id)).toMatchObject({ status: 'ready', version: 2 });
  });

  it('is for agents only', async () => {
    expect((await claim(ops)).status).toBe(403);
    expect((await claim(admin)).status).toBe(403);
  });
});

describe('updated_at', () => {
  it('follows the service clock through every status change, not the wall clock', async () => {
    const cat = await category('updated_at_clock');
    const agent = await agentFor(cat);
    const created = await readyCallback(agent, cat);
    const updatedAt = async () => isoOf((await t.sql`select updated_at from callbacks where id = ${created.id}`)[0]!.updated_at);
    expect(await updatedAt()).toBe(NOW.toISOString()); // scheduled -> ready by the dispatcher at NOW

    t.setNow(minutes(NOW, 3));
    expect((await claim(agent)).body).toMatchObject({ id: created.id, status: 'claimed', updatedAt: minutes(NOW, 3).toISOString() });
    expect(await updatedAt()).toBe(minutes(NOW, 3).toISOString());

    t.setNow(minutes(NOW, 4));
    const started = (await startAttempt(agent, created.id)).body as { attempt: { id: string } };
    expect(await updatedAt()).toBe(minutes(NOW, 4).toISOString()); // claimed -> in_call

    t.setNow(minutes(NOW, 9));
    const done = await result(agent, started.attempt.id, { result: 'connected', outcome: 'accepted' });
    expect(done.body.callback).toMatchObject({ status: 'completed', updatedAt: minutes(NOW, 9).toISOString() });
    expect(await updatedAt()).toBe(minutes(NOW, 9).toISOString());
  });

  it('follows it too when a claim is released, a callback cancelled, or suppressed by an opt-out', async () => {
    const cat = await category('updated_at_clock_other');
    const agent = await agentFor(cat);
    const updatedAt = async (id: string) => isoOf((await t.sql`select updated_at from callbacks where id = ${id}`)[0]!.updated_at);
    const released = await readyCallback(agent, cat);
    expect((await claim(agent)).body.id).toBe(released.id);
    t.setNow(minutes(NOW, 2));
    expect((await t.request('POST', `/v1/callbacks/${released.id}/release`, { key: agent })).status).toBe(200);
    expect(await updatedAt(released.id)).toBe(minutes(NOW, 2).toISOString());

    t.setNow(minutes(NOW, 5));
    const cancelled = await t.request('POST', `/v1/callbacks/${released.id}/cancel`, { key: admin, body: { reason: 'resolved by email' } });
    expect(cancelled.body).toMatchObject({ status: 'cancelled', updatedAt: minutes(NOW, 5).toISOString() });
    expect(await updatedAt(released.id)).toBe(minutes(NOW, 5).toISOString());

    const other = await readyCallback(agent, cat);
    t.setNow(minutes(NOW, 7));
    const optOut = await t.request('POST', '/v1/opt-outs', { key: admin, body: { phone: other.phone.e164, scope: 'all' } });
    expect(optOut.body.suppressedCallbacks).toEqual([other.id]);
    expect(await updatedAt(other.id)).toBe(minutes(NOW, 7).toISOString());
  });
});

describe('releasing a claim', () => {
  it('gives it back to ready for the holder only', async () => {
    const cat = await category('release');
    const holder = await agentFor(cat);
    const other = await agentFor(cat);
    const created = await readyCallback(holder, cat);
    const path = `/v1/callbacks/${created.id}/release`;
    expect((await t.request('POST', path, { key: holder })).body.code).toBe('invalid_state'); // not claimed yet
    expect((await claim(holder)).body.id).toBe(created.id);
    expect((await t.request('POST', path, { key: other })).status).toBe(403);
    const released = await t.request('POST', path, { key: holder });
    expect(released).toMatchObject({ status: 200, body: { status: 'ready', claimedBy: null, leaseExpiresAt: null } });
    expect((await t.request('POST', path, { key: holder })).status).toBe(409);
    expect((await t.request('POST', '/v1/callbacks/00000000-0000-4000-8000-000000000000/release', { key: holder })).status).toBe(404);
    expect((await claim(other)).body.id).toBe(created.id);
  });
});

describe('starting an attempt (SPEC §5, §7)', () => {
  it('moves the callback to in_call, records the attempt and issues a 6-digit code stored only as its HMAC', async () => {
    const cat = await category('attempt_start');
    const agent = await agentFor(cat, 'attempt-agent');
    const created = await readyCallback(agent, cat);
    const started = await claimAndDial(agent, created.id, minutes(NOW, 1));

    expect(started).toMatchObject({
      attempt: { number: 1, startedAt: minutes(NOW, 1).toISOString() },
      verification: { expiresAt: minutes(NOW, 31).toISOString(), link: null },
    });
    expect(started.verification.code).toMatch(/^\d{6}$/);

    const cb = await detail(created.id);
    expect(cb).toMatchObject({ status: 'in_call', attemptCount: 1, claimedBy: 'attempt-agent', leaseExpiresAt: null });
    expect(cb.attempts).toEqual([
      expect.objectContaining({ id: started.attempt.id, number: 1, agentId: 'attempt-agent', callerNumber: null, result: null }),
    ]);
    expect(cb.timeline.at(-1)).toMatchObject({ from: 'claimed', to: 'in_call', details: { attemptId: started.attempt.id } });

    const [session] = await t.sql`select * from verification_sessions where attempt_id = ${started.attempt.id}`;
    expect(session).toMatchObject({ callback_id: created.id, phone_e164: created.phone.e164, token_hash: null });
    expect(session!.code_hash).toBe(hmac(started.verification.code));
    expect(isoOf(session!.valid_from)).toBe(minutes(NOW, 1).toISOString());
    expect(isoOf(session!.hard_expires_at)).toBe(minutes(NOW, 31).toISOString());
    const everything = await t.sql`select row_to_json(v)::text as json from verification_sessions v`;
    for (const row of everything) expect(row.json).not.toContain(started.verification.code);
  });

  it('texts the brand and the code before the call: no link, no phone number, no request for data', async () => {
    const cat = await category('pre_call_sms');
    const agent = await agentFor(cat, 'sms-agent');
    const created = await readyCallback(agent, cat);
    const started = await claimAndDial(agent, created.id, minutes(NOW, 1));
    const messages = await t.sql`select to_e164, body, purpose, status from sms_messages where callback_id = ${created.id}`;
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ to_e164: created.phone.e164, purpose: 'pre_call' });
    expect(messages[0]!.body).toContain(started.verification.code);
    expect(messages[0]!.body).toContain(t.config.BRAND_NAME);
    expect(messages[0]!.body).not.toMatch(/https?:|www\.|\+\d{6,}/);
  });

  it('accepts only an official caller number, stored in E.164', async () => {
    const cat = await category('attempt_caller');
    const agent = await agentFor(cat);
    const official = await t.request('PUT', '/v1/settings/official-numbers', {
      key: admin,
      body: { numbers: [{ number: '+1 800 555 0100', label: 'Main line' }] },
    });
    expect(official.status).toBe(200);
    const created = await readyCallback(agent, cat);
    expect((await claim(agent)).body.id).toBe(created.id);

    const wrong = await startAttempt(agent, created.id, { callerNumber: '+1 800 555 0199' });
    expect(wrong).toMatchObject({ status: 422, body: { code: 'validation_failed', errors: [{ path: 'callerNumber' }] } });
    expect((await detail(created.id)).status).toBe('claimed');

    const ok = await startAttempt(agent, created.id, { callerNumber: '(800) 555-0100' });
    expect(ok.status).toBe(201);
    const [attempt] = await t.sql`select caller_number from attempts where id = ${ok.body.attempt.id}`;
    expect(attempt!.caller_number).toBe('+18005550100');
  });

  it('refuses outside permitted hours with 409 not_permitted_now and the next permitted time', async () => {
    const cat = await category('attempt_hours');
    const agent = await agentFor(cat);
    const created = await readyCallback(agent, cat, {}, at('2027-01-16T01:58:00Z')); // 20:58 in New York
    expect((await claim(agent)).body.id).toBe(created.id);
    t.setNow(at('2027-01-16T02:01:00Z')); // 21:01
    const res = await startAttempt(agent, created.id);
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ code: 'not_permitted_now', nextPermittedAt: '2027-01-16T13:00:00.000Z' });
    expect(await detail(created.id)).toMatchObject({ status: 'claimed', attemptCount: 0, attempts: [] });
  });

  it('suppresses the callback when the number opted out meanwhile (409 invalid_state, reason opted_out)', async () => {
    const cat = await category('attempt_optout');
    const agent = await agentFor(cat);
    const created = await readyCallback(agent, cat);
    expect((await claim(agent)).body.id).toBe(created.id);
    // As if the opt-out committed between the claim and the dial, before it could suppress this callback.
    await t.sql`insert into opt_outs (phone_e164, scope, source, created_by) values (${created.phone.e164}, 'voice', 'sms', 'test')`;
    const res = await startAttempt(agent, created.id);
    expect(res).toMatchObject({ status: 409, body: { code: 'invalid_state', reason: 'opted_out', callbackStatus: 'suppressed' } });
    expect(await detail(created.id)).toMatchObject({ status: 'suppressed', attempts: [], scheduledFor: null });
    expect(await t.sql`select 1 from verification_sessions where callback_id = ${created.id}`).toHaveLength(0);
  });

  it('is only for the agent holding the claim', async () => {
    const cat = await category('attempt_holder');
    const holder = await agentFor(cat);
    const other = await agentFor(cat);
    const created = await readyCallback(holder, cat);
    expect((await startAttempt(holder, created.id)).body.code).toBe('invalid_state'); // ready, not claimed
    expect((await claim(holder)).body.id).toBe(created.id);
    expect((await startAttempt(other, created.id)).status).toBe(403);
    expect((await startAttempt(holder, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await startAttempt(holder, created.id)).status).toBe(201);
    expect((await startAttempt(holder, created.id)).status).toBe(409); // already in_call
  });
});

describe('attempt results (SPEC §5)', () => {
  it('connected + accepted completes the callback; the code stays valid 10 min after the call; a second result is 409', async () => {
    const cat = await category('result_done');
    const agent = await agentFor(cat);
    const other = await agentFor(cat);
    const created = await readyCallback(agent, cat);
    const started = await claimAndDial(agent, created.id, NOW);

    t.setNow(minutes(NOW, 6));
    expect((await result(other, started.attempt.id, { result: 'connected', outcome: 'accepted' })).status).toBe(403);
    const missing = await result(agent, started.attempt.id, { result: 'connected' });
    expect(missing).toMatchObject({ status: 422, body: { errors: [{ path: 'outcome' }] } });
    const done = await result(agent, started.attempt.id, { result: 'connected', outcome: 'accepted', notes: 'Understood this time' });
    expect(done.status).toBe(200);
    expect(done.body.attempt).toMatchObject({ result: 'connected', outcome: 'accepted', notes: 'Understood this time', endedAt: minutes(NOW, 6).toISOString() });
    expect(done.body.callback).toMatchObject({ status: 'completed', outcome: 'accepted', scheduledFor: null, claimedBy: null });

    const [session] = await t.sql`select expires_at from verification_sessions where attempt_id = ${started.attempt.id}`;
    expect(isoOf(session!.expires_at)).toBe(minutes(NOW, 16).toISOString());
    const events = await t.sql`select event from outbox where payload->>'callbackId' = ${created.id} order by id`;
    expect(events.map((e) => e.event)).toEqual(['callback.scheduled', 'callback.ready', 'callback.completed']);

    const again = await result(agent, started.attempt.id, { result: 'no_answer' });
    expect(again).toMatchObject({ status: 409, body: { code: 'invalid_state' } });
    expect((await detail(created.id)).status).toBe('completed');
  });

  it('caps the verification window at 30 min after the start for a long call', async () => {
    const cat = await category('result_long');
    const agent = await agentFor(cat);
    const created = await readyCallback(agent, cat);
    const started = await claimAndDial(agent, created.id, NOW);
    t.setNow(minutes(NOW, 25));
    expect((await result(agent, started.attempt.id, { result: 'connected', outcome: 'not_accepted' })).body.callback).toMatchObject({
      status: 'completed',
      outcome: 'not_accepted',
    });
    const [session] = await t.sql`select expires_at from verification_sessions where attempt_id = ${started.attempt.id}`;
    expect(isoOf(session!.expires_at)).toBe(minutes(NOW, 30).toISOString());
  });

  it('wrong_number completes with outcome wrong_number', async () => {
    const cat = await category('result_wrong');
    const agent = await agentFor(cat);
    const created = await readyCallback(agent, cat);
    const started = await claimAndDial(agent, created.id, NOW);
    const res = await result(agent, started.attempt.id, { result: 'wrong_number' });
    expect(res.body.callback).toMatchObject({ status: 'completed', outcome: 'wrong_number' });
    const outcome = await result(agent, started.attempt.id, { result: 'busy', outcome: 'accepted' });
    expect(outcome.status).toBe(422); // outcome only with connected
  });

  it('no answer at 20:45 in New York: the 30 min retry falls after 21:00, so it is scheduled at 08:00 next day', async () => {
    const cat = await category('result_retry');
    const agent = await agentFor(cat);
    const created = await readyCallback(agent, cat, {}, at('2027-01-16T01:40:00Z'));
    const started = await claimAndDial(agent, created.id, at('2027-01-16T01:45:00Z')); // 20:45
    const res = await result(agent, started.attempt.id, { result: 'no_answer' });
    expect(res.body.callback).toMatchObject({
      status: 'scheduled',
      scheduledFor: '2027-01-16T13:00:00.000Z',
      attemptCount: 1,
      claimedBy: null,
      leaseExpiresAt: null,
    });
    const job = await t.runtime.queues.due.getJob(dueJobId(created.id, res.body.callback.version));
    expect(job?.opts.delay).toBe(at('2027-01-16T13:00:00Z').getTime() - at('2027-01-16T01:45:00Z').getTime());
    expect((await detail(created.id)).timeline.at(-1)).toMatchObject({
      from: 'in_call',
      to: 'scheduled',
      details: { result: 'no_answer', delayMinutes: 30, scheduledFor: '2027-01-16T13:00:00.000Z' },
    });
  });

  it('busy on the last allowed attempt makes the callback unreachable', async () => {
    const cat = await category('result_exhausted', { maxAttempts: 2, retryDelaysMinutes: [30] });
    const agent = await agentFor(cat);
    const created = await readyCallback(agent, cat);
    const first = await claimAndDial(agent, created.id, NOW);
    const retry = await result(agent, first.attempt.id, { result: 'voicemail' });
    expect(retry.body.callback).toMatchObject({ status: 'scheduled', scheduledFor: minutes(NOW, 30).toISOString() });

    await dispatch(created.id, minutes(NOW, 30));
    const second = await claimAndDial(agent, created.id, minutes(NOW, 30));
    expect(second.attempt.number).toBe(2);
    const last = await result(agent, second.attempt.id, { result: 'busy' });
    expect(last.body.callback).toMatchObject({ status: 'unreachable', attemptCount: 2, scheduledFor: null });
    const events = await t.sql`select event from outbox where payload->>'callbackId' = ${created.id} and event = 'callback.unreachable'`;
    expect(events).toHaveLength(1);
  });

  it('counts the frequency cap across callbacks of one number, at the attempt and at the claim', async () => {
    const cat = await category('caps_shared');
    const quiet = await category('caps_later');
    const agentA = await agentFor(cat);
    const agentB = await agentFor(cat);
    const agentC = await agentFor(quiet);
    const phone = newPhone();
    const t1 = at('2027-01-15T14:10:00Z'); // 09:10 in New York
    const a = await readyCallback(agentA, cat, { phone, priority: 9 }, t1);
    const b = await readyCallback(agentA, cat, { phone, priority: 1 }, t1);
    const c = await readyCallback(agentC, quiet, { phone }, t1);
    expect((await claim(agentA)).body.id).toBe(a.id);
    expect((await claim(agentB)).body.id).toBe(b.id);

    // Three unanswered attempts on A (perDay 3): at 09:10, +30 min, +120 min.
    let dialAt = t1;
    for (const [n, delay] of [[1, 30], [2, 120], [3, 0]] as const) {
      if (n > 1) await dispatch(a.id, dialAt);
      const started = n === 1 ? (await startAttempt(agentA, a.id)).body : await claimAndDial(agentA, a.id, dialAt);
      expect(started.attempt.number).toBe(n);
      await result(agentA, started.attempt.id, { result: 'no_answer' });
      dialAt = minutes(dialAt, delay);
    }
    expect((await detail(a.id)).status).toBe('unreachable');

    // B was claimed before the cap filled; dialling it now would be a fourth call within 24 h.
    t.setNow(at('2027-01-15T16:45:00Z'));
    const blocked = await startAttempt(agentB, b.id);
    expect(blocked).toMatchObject({ status: 409, body: { code: 'not_permitted_now', nextPermittedAt: '2027-01-16T14:10:00.000Z' } });

    // C is still ready; the claim re-checks the caps and puts it back after the rolling window.
    expect((await claim(agentC)).status).toBe(204);
    expect(await detail(c.id)).toMatchObject({ status: 'scheduled', scheduledFor: '2027-01-16T14:10:00.000Z' });

    // Preview and a new callback for the number read the same attempts: nothing before the window
    // rolls. Previews asked together are read in one statement; each number keeps its own attempts.
    const fresh = newPhone();
    const previews = await Promise.all(
      [phone, fresh, phone, fresh].map((p) => t.request('POST', '/v1/schedule/preview', { key: admin, body: { phone: p, category: cat } })),
    );
    expect(previews.map((p) => p.body.earliest)).toEqual(['2027-01-16T14:10:00.000Z', '2027-01-15T16:45:00.000Z', '2027-01-16T14:10:00.000Z', '2027-01-15T16:45:00.000Z']);
    // Asked in the same tick, the two numbers are certainly read by one statement.
    const rulesOf = (p: string) => {
      const parsed = parsePhone(p, 'US');
      if (!parsed.ok) throw new Error(p);
      const now = t.runtime.deps.now();
      return callingRulesFor(t.runtime.deps.db, { phone: parsed.phone, zones: ['America/New_York'], notBefore: now, preferredWindows: null }, now);
    };
    const [capped, free] = await Promise.all([rulesOf(phone), rulesOf(fresh)]);
    expect([capped.attemptTimes.length, free.attemptTimes.length]).toEqual([3, 0]);
    const another = await createCallback(agentC, quiet, { phone });
    expect(another).toMatchObject({ scheduledFor: '2027-01-16T14:10:00.000Z' });
  });

  it('lets only one of two simultaneous dials to one number through when the cap has one call left', async () => {
    const settings = await t.request('GET', '/v1/settings/calling', { key: admin });
    const single = { ...settings.body, caps: { perDay: 1, perWeek: 7 } };
    expect((await t.request('PUT', '/v1/settings/calling', { key: admin, body: single })).status).toBe(200);
    try {
      const cat = await category('caps_race');
      const phone = newPhone();
      const agents = [await agentFor(cat), await agentFor(cat)];
      const ids = [(await readyCallback(agents[0]!, cat, { phone })).id, (await readyCallback(agents[0]!, cat, { phone })).id];
      const claimed = await Promise.all(agents.map((key) => claim(key)));
      expect(claimed.map((c) => c.status)).toEqual([200, 200]);
      const dials = await Promise.all(agents.map((key, i) => startAttempt(key, claimed[i]!.body.id)));
      expect(dials.map((d) => d.status).sort()).toEqual([201, 409]);
      expect(dials.find((d) => d.status === 409)!.body).toMatchObject({ code: 'not_permitted_now', nextPermittedAt: minutes(NOW, 24 * 60).toISOString() });
      expect(await t.sql`select 1 from attempts where callback_id in ${t.sql(ids)}`).toHaveLength(1);
    } finally {
      await t.request('PUT', '/v1/settings/calling', { key: admin, body: settings.body });
    }
  });

  it('records the result but leaves a callback suppressed during the call as it is', async () => {
    const cat = await category('result_optout');
    const agent = await agentFor(cat);
    const created = await readyCallback(agent, cat);
    const started = await claimAndDial(agent, created.id, NOW);
    const optOut = await t.request('POST', '/v1/opt-outs', { key: agent, body: { phone: created.phone.e164 } });
    expect(optOut.body.suppressedCallbacks).toEqual([created.id]);
    const res = await result(agent, started.attempt.id, { result: 'no_answer' });
    expect(res.status).toBe(200);
    expect(res.body.attempt.result).toBe('no_answer');
    expect(res.body.callback).toMatchObject({ status: 'suppressed', scheduledFor: null });
  });

  it('schedules a retry after the caps, counting the attempt just made', async () => {
    const settings = await t.request('GET', '/v1/settings/calling', { key: admin });
    const tight = { ...settings.body, caps: { perDay: 2, perWeek: 7 } };
    expect((await t.request('PUT', '/v1/settings/calling', { key: admin, body: tight })).status).toBe(200);
    try {
      const cat = await category('caps_retry', { retryDelaysMinutes: [30] });
      const agent = await agentFor(cat);
      const created = await readyCallback(agent, cat);
      const first = await claimAndDial(agent, created.id, NOW);
      expect((await result(agent, first.attempt.id, { result: 'no_answer' })).body.callback.scheduledFor).toBe(minutes(NOW, 30).toISOString());
      await dispatch(created.id, minutes(NOW, 30));
      const second = await claimAndDial(agent, created.id, minutes(NOW, 30));
      // A third dial at +60 min would be the third in 24 h: the earliest is when the first leaves the window.
      const res = await result(agent, second.attempt.id, { result: 'no_answer' });
      expect(res.body.callback).toMatchObject({ status: 'scheduled', scheduledFor: '2027-01-16T15:00:00.000Z' });
    } finally {
      await t.request('PUT', '/v1/settings/calling', { key: admin, body: settings.body });
    }
  });
});

describe('exemptions (SPEC §5.1)', () => {
  it('abusive: opens a pending exemption and waits; approval exempts the callback and refuses a new round', async () => {
    const cat = await category('exempt_abusive');
    const agent = await agentFor(cat, 'exempt-agent');
    const created = await readyCallback(agent, cat);
    const started = await claimAndDial(agent, created.id, NOW);
    const res = await result(agent, started.attempt.id, { result: 'connected', outcome: 'abusive', notes: 'Threatened the agent' });
    expect(res.status).toBe(200);
    expect(res.body.callback).toMatchObject({ status: 'in_call' });
    expect(res.body.exemption).toMatchObject({ status: 'pending', reason: 'Threatened the agent', requestedBy: 'agent:exempt-agent' });

    const pending = await t.request('GET', '/v1/exemptions?status=pending', { key: ops });
    expect(pending.status).toBe(200);
    expect(pending.body.items).toContainEqual(expect.objectContaining({ id: res.body.exemption.id, callbackId: created.id }));
    expect((await t.request('GET', '/v1/exemptions', { key: agent })).status).toBe(403);

    const decision = `/v1/exemptions/${res.body.exemption.id}/decision`;
    expect((await t.request('POST', decision, { key: agent, body: { approve: true } })).status).toBe(403);
    const approved = await t.request('POST', decision, { key: ops, body: { approve: true, note: 'Recording confirms it' } });
    expect(approved.status).toBe(200);
    expect(approved.body.exemption).toMatchObject({ status: 'approved', note: 'Recording confirms it', decidedAt: NOW.toISOString() });
    expect(approved.body.callback).toMatchObject({ status: 'exempted', scheduledFor: null, claimedBy: null });
    expect((await t.request('POST', decision, { key: ops, body: { approve: false } })).body.code).toBe('invalid_state');

    const again = await t.request('POST', '/v1/callbacks', {
      key: agent,
      body: { caseRef: created.caseRef, category: cat, phone: newPhone(), reason: 'again', firstExplanation: { summary: 'x' } },
    });
    expect(again).toMatchObject({ status: 422, body: { code: 'exempted' } });
  });

  it('an agent request: one pending per callback; rejection resumes a claimed callback at the next permitted time', async () => {
    const cat = await category('exempt_reject');
    const agent = await agentFor(cat);
    const created = await readyCallback(agent, cat, {}, at('2027-01-16T01:50:00Z')); // 20:50 in New York
    expect((await claim(agent)).body.id).toBe(created.id);
    const path = `/v1/callbacks/${created.id}/exemption`;
    expect((await t.request('POST', path, { key: agent, body: {} })).status).toBe(422);
    expect((await t.request('POST', path, { key: ops, body: { reason: 'x' } })).status).toBe(403);
    const requested = await t.request('POST', path, { key: agent, body: { reason: 'Calls every day to shout' } });
    expect(requested).toMatchObject({ status: 201, body: { status: 'pending', callbackId: created.id } });
    expect((await t.request('POST', path, { key: agent, body: { reason: 'again' } })).body.code).toBe('conflict');

    t.setNow(at('2027-01-16T02:30:00Z')); // 21:30: the callback resumes at 08:00
    const rejected = await t.request('POST', `/v1/exemptions/${requested.body.id}/decision`, { key: admin, body: { approve: false } });
    expect(rejected.body.exemption.status).toBe('rejected');
    expect(rejected.body.callback).toMatchObject({ status: 'scheduled', scheduledFor: '2027-01-16T13:00:00.000Z', claimedBy: null });
    expect(await t.runtime.queues.due.getJob(dueJobId(created.id, rejected.body.callback.version))).toBeTruthy();
    expect((await detail(created.id)).timeline.at(-1)).toMatchObject({ from: 'claimed', to: 'scheduled', details: { exemption: 'rejected' } });
  });

  it('rejection leaves a scheduled callback at its time; approval exempts a ready one', async () => {
    const cat = await category('exempt_states');
    const agent = await agentFor(cat);
    const scheduled = await createCallback(agent, cat, { notBefore: '2027-01-16T15:00:00Z' });
    const request = await t.request('POST', `/v1/callbacks/${scheduled.id}/exemption`, { key: agent, body: { reason: 'abusive by email' } });
    const rejected = await t.request('POST', `/v1/exemptions/${request.body.id}/decision`, { key: ops, body: { approve: false } });
    expect(rejected.body.callback).toMatchObject({ status: 'scheduled', scheduledFor: '2027-01-16T15:00:00.000Z', version: scheduled.version });

    const ready = await readyCallback(agent, cat);
    const second = await t.request('POST', `/v1/callbacks/${ready.id}/exemption`, { key: agent, body: { reason: 'abusive' } });
    const approved = await t.request('POST', `/v1/exemptions/${second.body.id}/decision`, { key: ops, body: { approve: true } });
    expect(approved.body.callback.status).toBe('exempted');
    const finished = await t.request('POST', `/v1/callbacks/${ready.id}/exemption`, { key: agent, body: { reason: 'again' } });
    expect(finished.body.code).toBe('invalid_state');
    expect((await t.request('POST', '/v1/exemptions/00000000-0000-4000-8000-000000000000/decision', { key: ops, body: { approve: true } })).status).toBe(404);
  });

  it('lists exemptions newest first with a cursor', async () => {
    const first = await t.request('GET', '/v1/exemptions?limit=1', { key: ops });
    expect(first.body.items).toHaveLength(1);
    const second = await t.request('GET', `/v1/exemptions?limit=1&cursor=${first.body.nextCursor}`, { key: ops });
    expect(second.body.items[0].createdAt <= first.body.items[0].createdAt).toBe(true);
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
    expect((await t.request('GET', '/v1/exemptions?status=bogus', { key: ops })).status).toBe(422);
  });
});

describe('verification links (SMS_ALLOW_LINKS)', () => {
  let linked: TestContext;
  beforeAll(async () => {
    linked = await createTestContext({ SMS_ALLOW_LINKS: 'true', PUBLIC_BASE_URL: 'https://calls.example.com' });
  });
  afterAll(() => linked.close());

  it('issues a 256-bit link token, stored only as its HMAC', async () => {
    const adminKey = await linked.key('admin');
    await linked.request('PUT', '/v1/policies/links', { key: adminKey, body: { enabled: true } });
    const agent = await linked.key('agent');
    linked.setNow(NOW);
    const created = await linked.request('POST', '/v1/callbacks', {
      key: agent,
      body: { caseRef: 'LINK-1', category: 'links', phone: '+1 212 555 0123', reason: 'r', firstExplanation: { summary: 's' } },
    });
    expect(await dispatchDue(linked.runtime.deps, { callbackId: created.body.id, version: created.body.version }, NOW)).toBe('ready');
    expect((await linked.request('POST', '/v1/agents/me/claim', { key: agent })).status).toBe(200);
    const started = await linked.request('POST', `/v1/callbacks/${created.body.id}/attempts`, { key: agent, body: {} });
    expect(started.status).toBe(201);
    const link: string = started.body.verification.link;
    expect(link).toMatch(/^https:\/\/calls\.example\.com\/v\/[A-Za-z0-9_-]{43}$/);
    const token = link.split('/v/')[1]!;
    const [row] = await linked.sql`select token_hash, row_to_json(v)::text as json from verification_sessions v`;
    expect(row!.token_hash).toBe(createHmac('sha256', linked.config.SECRET_KEY).update(token).digest('hex'));
    expect(row!.json).not.toContain(token);
    expect(row!.json).not.toContain(started.body.verification.code);
  });
});
