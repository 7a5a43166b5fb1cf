import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/harness.js';
import { dispatchDue } from '../../src/services/dispatch.js';
import { checkLink, maskCaseRef } from '../../src/verification/check.js';

let t: TestContext;
let admin: string;
let agent: string;
let seq = 0;
let phoneSeq = 0;

// Friday 10:00 in New York: calling is permitted.
const NOW = new Date('2027-01-15T15:00:00Z');
const OFFICIAL = '+12125550100';
const newPhone = () => `+1212555${String(200 + phoneSeq++).padStart(4, '0')}`;
const plus = (d: Date, ms: number) => new Date(d.getTime() + ms);

interface Call {
  callbackId: string;
  attemptId: string;
  phone: string;
  code: string;
  link: string | null;
  caseRef: string;
}

/** The real workflow: create through the API, the dispatcher makes it ready, the agent claims and dials. */
async function startCall(options: { callerNumber?: string } = {}): Promise<Call> {
  t.setNow(NOW);
  const phone = newPhone();
  const caseRef = `CASE-${++seq}-0011`;
  const created = await t.request('POST', '/v1/callbacks', {
    key: agent,
    body: {
      caseRef,
      category: 'billing',
      phone,
      reason: 'We will explain the December invoice again',
      firstExplanation: { summary: 'Explained the late fee policy' },
    },
  });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  expect(await dispatchDue(t.runtime.deps, { callbackId: id, version: created.body.version }, NOW)).toBe('ready');
  const claimed = await t.request('POST', '/v1/agents/me/claim', { key: agent });
  expect(claimed).toMatchObject({ status: 200, body: { id } });
  const started = await t.request('POST', `/v1/callbacks/${id}/attempts`, {
    key: agent,
    body: options.callerNumber ? { callerNumber: options.callerNumber } : {},
  });
  expect(started.status).toBe(201);
  return {
    callbackId: id,
    attemptId: started.body.attempt.id,
    phone,
    code: started.body.verification.code,
    link: started.body.verification.link,
    caseRef,
  };
}

const verify = (phone: string, code: string) => t.request('POST', '/v1/public/verify', { body: { phone, code } });
const otherCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

async function session(attemptId: string) {
  const [row] = await t.sql`select failed_checks, locked_at, verified_at, expires_at from verification_sessions where attempt_id = ${attemptId}`;
  return row!;
}

async function outboxEvents(event: string, attemptId: string) {
  return t.sql`select payload from outbox where event = ${event} and payload->>'attemptId' = ${attemptId}`;
}

beforeAll(async () => {
  t = await createTestContext({
    BRAND_NAME: 'Acme Telecom',
    SMS_ALLOW_LINKS: 'true',
    // The limits have their own tests (public-misc); here they must not get in the way.
    RATE_LIMIT_IP_PER_MINUTE: '10000',
    RATE_LIMIT_PHONE_PER_HOUR: '10000',
  });
  admin = await t.key('admin');
  agent = await t.key('agent', { id: 'alice', displayName: 'Alice Tan' });
  expect((await t.request('PUT', '/v1/policies/billing', { key: admin, body: { enabled: true } })).status).toBe(200);
  const official = await t.request('PUT', '/v1/settings/official-numbers', {
    key: admin,
    body: { numbers: [{ number: OFFICIAL, label: 'Customer care' }] },
  });
  expect(official.status).toBe(200);
});
afterAll(() => t.close());
beforeEach(() => t.setNow(NOW));

describe('POST /v1/public/verify (SPEC §7)', () => {
  it('confirms a genuine call with company, agent, reason, masked case and official number, and records it once', async () => {
    const call = await startCall({ callerNumber: OFFICIAL });
    const res = await verify(call.phone, call.code);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      genuine: true,
      company: 'Acme Telecom',
      agentName: 'Alice Tan',
      reason: 'We will explain the December invoice again',
      caseRef: maskCaseRef(call.caseRef),
      callerNumber: OFFICIAL,
    });
    expect(res.body.caseRef).toMatch(/^CA\*{4}11$/);
    expect(JSON.stringify(res.body)).not.toContain(call.caseRef);

    // A second check (in another format) is still genuine but is not a second verification event.
    const again = await verify(`(212) 555-${call.phone.slice(-4)}`, `${call.code.slice(0, 3)} ${call.code.slice(3)}`);
    expect(again.body.genuine).toBe(true);
    const stored = await session(call.attemptId);
    expect(stored.verified_at).not.toBeNull();
    expect(stored.failed_checks).toBe(0);
    const events = await outboxEvents('verification.verified', call.attemptId);
    expect(events).toHaveLength(1);
    expect(events[0]!.payload).toMatchObject({ callbackId: call.callbackId, attemptId: call.attemptId });
  });

  it('answers callerNumber null when the agent did not say which official number they call from', async () => {
    const call = await startCall();
    const res = await verify(call.phone, call.code);
    expect(res.body).toMatchObject({ genuine: true, callerNumber: null });
  });

  it('answers an unknown number and a known number with a wrong code identically', async () => {
    const call = await startCall();
    const unknown = await verify(newPhone(), '123456');
    const wrong = await verify(call.phone, otherCode(call.code));
    const invalid = await verify('not a number', '123456');
    for (const res of [unknown, wrong, invalid]) {
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ genuine: false });
      expect(res.headers.get('content-type')).toBe(unknown.headers.get('content-type'));
    }
    expect((await session(call.attemptId)).failed_checks).toBe(1);
  });

  it('binds a code to its phone number: the right code for another number is not genuine', async () => {
    const mine = await startCall();
    const theirs = await startCall();
    expect((await verify(theirs.phone, mine.code)).body).toEqual({ genuine: false });
    expect((await verify(newPhone(), mine.code)).body).toEqual({ genuine: false });
    expect(await session(mine.attemptId)).toMatchObject({ failed_checks: 0, verified_at: null });
    expect(await session(theirs.attemptId)).toMatchObject({ failed_checks: 1, verified_at: null });
  });

  it('locks the session after 5 wrong codes: the right code is refused afterwards, and the lock is announced once', async () => {
    const call = await startCall();
    for (let i = 0; i < 5; i++) expect((await verify(call.phone, otherCode(call.code))).body.genuine).toBe(false);
    const right = await verify(call.phone, call.code);
    expect(right).toMatchObject({ status: 200, body: { genuine: false } });
    const stored = await session(call.attemptId);
    expect(stored.failed_checks).toBe(5);
    expect(stored.locked_at).not.toBeNull();
    expect(stored.verified_at).toBeNull();
    await verify(call.phone, otherCode(call.code));
    expect(await outboxEvents('verification.locked', call.attemptId)).toHaveLength(1);
  });

  it('a right code on the fifth try still verifies (four failures do not lock)', async () => {
    const call = await startCall();
    for (let i = 0; i < 4; i++) await verify(call.phone, otherCode(call.code));
    expect((await verify(call.phone, call.code)).body.genuine).toBe(true);
    expect(await session(call.attemptId)).toMatchObject({ failed_checks: 4, locked_at: null });
  });

  it('gives parallel guesses no more than 5 tries between them', async () => {
    const call = await startCall();
    const guesses = Array.from({ length: 30 }, (_, i) => verify(call.phone, String(i).padStart(6, '9')));
    const answers = await Promise.all(guesses);
    expect(answers.every((r) => r.status === 200 && r.body.genuine === false)).toBe(true);
    const stored = await session(call.attemptId);
    expect(stored.failed_checks).toBe(5);
    expect(stored.locked_at).not.toBeNull();
    expect((await verify(call.phone, call.code)).body.genuine).toBe(false);
    expect(await outboxEvents('verification.locked', call.attemptId)).toHaveLength(1);
  });

  it('an expired session is not genuine', async () => {
    const call = await startCall();
    const { expires_at } = await session(call.attemptId);
    t.setNow(plus(new Date(String(expires_at)), -1000));
    expect((await verify(call.phone, call.code)).body.genuine).toBe(true);
    t.setNow(plus(new Date(String(expires_at)), 1000));
    expect((await verify(call.phone, call.code)).body).toEqual({ genuine: false });
  });

  it('stays genuine for 10 minutes after the call ends, then not', async () => {
    const call = await startCall();
    t.setNow(plus(NOW, 2 * 60_000));
    const ended = await t.request('POST', `/v1/attempts/${call.attemptId}/result`, { key: agent, body: { result: 'no_answer' } });
    expect(ended.status).toBe(200);
    t.setNow(plus(NOW, 11 * 60_000));
    expect((await verify(call.phone, call.code)).body.genuine).toBe(true);
    t.setNow(plus(NOW, 12 * 60_000 + 1000));
    expect((await verify(call.phone, call.code)).body.genuine).toBe(false);
  });

  it('validates the body (422) without touching any session', async () => {
    const res = await t.request('POST', '/v1/public/verify', { body: { phone: '+12125550123' } });
    expect(res).toMatchObject({ status: 422, body: { code: 'validation_failed' } });
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain('code');
  });
});

describe('the link of the pre-call SMS (/v/{token})', () => {
  it('is genuine while the session lives, and not for an unknown or expired token', async () => {
    const call = await startCall();
    expect(call.link).toMatch(/\/v\/[A-Za-z0-9_-]{43}$/);
    const token = call.link!.split('/v/')[1]!;
    const deps = t.runtime.deps;
    expect(await checkLink(deps, token, NOW)).toMatchObject({ genuine: true, agentName: 'Alice Tan' });
    expect(await checkLink(deps, `${token.slice(0, -1)}A`, NOW)).toEqual({ genuine: false });
    const { expires_at } = await session(call.attemptId);
    expect(await checkLink(deps, token, plus(new Date(String(expires_at)), 1))).toEqual({ genuine: false });
    expect(await outboxEvents('verification.verified', call.attemptId)).toHaveLength(1);
  });
});

describe('maskCaseRef', () => {
  it('shows two characters at each end behind a fixed mask, and hides short references', () => {
    expect(maskCaseRef('CASE-2027-0011')).toBe('CA****11');
    expect(maskCaseRef('CA0011')).toBe('CA****11');
    expect(maskCaseRef('C-11')).toBe('****');
  });
});
