import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/harness.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { smsJobId } from '../../src/notify/sms.js';
import { dispatchDue } from '../../src/services/dispatch.js';
import { OPT_OUT_MAX_FAILED_CHECKS } from '../../src/services/opt-out-requests.js';
import { answerCallStatus } from '../../src/verification/call-status.js';

let t: TestContext;
let admin: string;
let agent: string;
let seq = 0;
let phoneSeq = 0;

const NOW = new Date('2027-01-15T15:00:00Z');
const OFFICIAL = '+12125550100';
const newPhone = () => `+1212555${String(300 + phoneSeq++).padStart(4, '0')}`;

const BIG_LIMITS = { RATE_LIMIT_IP_PER_MINUTE: '10000', RATE_LIMIT_PHONE_PER_HOUR: '10000' };

/** Outbound texts to a number, oldest first. */
const textsTo = (to: string, purpose?: string) =>
  purpose
    ? t.sql`select * from sms_messages where direction = 'outbound' and to_e164 = ${to} and purpose = ${purpose} order by created_at`
    : t.sql`select * from sms_messages where direction = 'outbound' and to_e164 = ${to} order by created_at`;
const textCount = async () => Number((await t.sql`select count(*)::int as n from sms_messages`)[0]!.n);

/** Creates, dispatches, claims and dials a callback through the real workflow; returns the attempt. */
async function startCall(phone: string) {
  const created = await t.request('POST', '/v1/callbacks', {
    key: agent,
    body: {
      caseRef: `MISC-${++seq}`,
      category: 'billing',
      phone,
      reason: 'We will explain the December invoice again',
      firstExplanation: { summary: 'Explained the late fee policy' },
    },
  });
  expect(created.status).toBe(201);
  expect(await dispatchDue(t.runtime.deps, { callbackId: created.body.id, version: created.body.version }, NOW)).toBe('ready');
  expect((await t.request('POST', '/v1/agents/me/claim', { key: agent })).body.id).toBe(created.body.id);
  const started = await t.request('POST', `/v1/callbacks/${created.body.id}/attempts`, { key: agent, body: {} });
  expect(started.status).toBe(201);
  return { callbackId: created.body.id as string, attemptId: started.body.attempt.id as string };
}

beforeAll(async () => {
  t = await createTestContext({ BRAND_NAME: 'Acme Telecom', ...BIG_LIMITS });
  admin = await t.key('admin');
  agent = await t.key('agent', { id: 'bob', displayName: 'Bob Lim' });
  expect((await t.request('PUT', '/v1/policies/billing', { key: admin, body: { enabled: true } })).status).toBe(200);
  const official = await t.request('PUT', '/v1/settings/official-numbers', {
    key: admin,
    body: { numbers: [{ number: OFFICIAL, label: 'Customer care' }] },
  });
  expect(official.status).toBe(200);
});
afterAll(() => t.close());
beforeEach(() => t.setNow(NOW));

describe('POST /v1/public/call-status (SPEC §7)', () => {
  const ask = (phone: string) => t.request('POST', '/v1/public/call-status', { body: { phone } });

  it('answers 202 with one body for every number and texts "yes" only to the number being called', async () => {
    const called = newPhone();
    const idle = newPhone();
    const call = await startCall(called);
    const before = await textCount();

    const answers = [await ask(called), await ask(idle), await ask('12345'), await ask('+1 800 FLOWERS')];
    for (const res of answers) {
      expect(res.status).toBe(202);
      expect(res.body).toEqual(answers[0]!.body);
    }

    const yes = await textsTo(called, 'call_status');
    expect(yes).toHaveLength(1);
    expect(yes[0]!.body).toMatch(/^\[Acme Telecom\] Yes, our agent Bob Lim is calling you now about: We will explain the December invoice again\./);
    expect(yes[0]!.callback_id).toBe(call.callbackId);
    expect(yes[0]!.body).not.toMatch(/\d{6}/);
    const no = await textsTo(idle, 'call_status');
    expect(no).toHaveLength(1);
    expect(no[0]!.body).toBe('[Acme Telecom] We are NOT calling you right now. Hang up.');
    // Two texts in all, each to the number asked about; invalid numbers get none.
    expect(await textCount()).toBe(before + 2);
    for (const row of [...yes, ...no]) {
      expect(row.status).toBe('queued');
      expect(await t.runtime.queues.sms.getJob(smsJobId(row.id))).toBeDefined();
    }
  });

  it('says "no" once the call has ended', async () => {
    const phone = newPhone();
    const call = await startCall(phone);
    const ended = await t.request('POST', `/v1/attempts/${call.attemptId}/result`, { key: agent, body: { result: 'no_answer' } });
    expect(ended.status).toBe(200);
    await answerCallStatus(t.runtime.deps, phone, NOW);
    const texts = await textsTo(phone, 'call_status');
    expect(texts.map((r) => r.body)).toEqual(['[Acme Telecom] We are NOT calling you right now. Hang up.']);
  });

  it('texts in the customer language when the number has a callback', async () => {
    const phone = newPhone();
    const created = await t.request('POST', '/v1/callbacks', {
      key: agent,
      body: {
        caseRef: `MISC-${++seq}`,
        category: 'billing',
        phone,
        customer: { language: 'ms' },
        reason: 'Penjelasan bil',
        firstExplanation: { summary: 'x' },
      },
    });
    expect(created.status).toBe(201);
    expect((await ask(phone)).status).toBe(202);
    expect((await textsTo(phone, 'call_status'))[0]!.body).toBe('[Acme Telecom] Kami TIDAK menghubungi anda sekarang. Letakkan telefon.');
  });
});

describe('POST /v1/public/official-number-check', () => {
  it('says whether a number is official, with its label, in any format', async () => {
    const check = (number: string) => t.request('POST', '/v1/public/official-number-check', { body: { number } });
    expect(await check('(212) 555-0100')).toMatchObject({ status: 200, body: { official: true, label: 'Customer care' } });
    expect((await check('+1 212 555 0199')).body).toEqual({ official: false });
    expect((await check('garbage')).body).toEqual({ official: false });
  });
});

describe('POST /v1/public/reports', () => {
  const report = (body: unknown) => t.request('POST', '/v1/public/reports', { body });

  it('stores the report and announces scam_report.created in the outbox', async () => {
    const res = await report({ callerNumber: '(212) 555-0100', ownNumber: '+1 212 555 0142', description: '  They asked for my PIN  ' });
    expect(res.status).toBe(201);
    const [row] = await t.sql`select * from scam_reports where id = ${res.body.id}`;
    expect(row).toMatchObject({
      caller_number: '(212) 555-0100',
      caller_e164: OFFICIAL,
      reporter_e164: '+12125550142',
      description: 'They asked for my PIN',
      caller_is_official: true,
    });
    const [event] = await t.sql`select payload from outbox where event = 'scam_report.created' and payload->>'reportId' = ${res.body.id}`;
    expect(event!.payload).toMatchObject({ callerE164: OFFICIAL, callerIsOfficial: true, officialLabel: 'Customer care' });
    expect(JSON.stringify(event!.payload)).not.toContain('0142');
  });

  it('keeps a caller number that is not a valid number (spoofed caller IDs need not be)', async () => {
    const res = await report({ callerNumber: 'Unknown', description: 'Robot voice' });
    expect(res.status).toBe(201);
    const [row] = await t.sql`select caller_e164, reporter_e164, caller_is_official from scam_reports where id = ${res.body.id}`;
    expect(row).toEqual({ caller_e164: null, reporter_e164: null, caller_is_official: false });
  });

  it('refuses an empty or too long description, and an invalid own number, storing nothing', async () => {
    const before = Number((await t.sql`select count(*)::int as n from scam_reports`)[0]!.n);
    const empty = await report({ callerNumber: '+12125550123', description: '   ' });
    const long = await report({ callerNumber: '+12125550123', description: 'x'.repeat(2001) });
    const own = await report({ callerNumber: '+12125550123', ownNumber: '123', description: 'x' });
    for (const [res, path] of [[empty, 'description'], [long, 'description'], [own, 'ownNumber']] as const) {
      expect(res).toMatchObject({ status: 422, body: { code: 'validation_failed' } });
      expect(res.body.errors[0].path).toBe(path);
    }
    expect(Number((await t.sql`select count(*)::int as n from scam_reports`)[0]!.n)).toBe(before);
    expect((await report({ callerNumber: '+12125550123', description: 'x'.repeat(2000) })).status).toBe(201);
  });
});

describe('web opt-out (POST /v1/public/opt-outs and /confirm, SPEC §8)', () => {
  const request = (body: unknown) => t.request('POST', '/v1/public/opt-outs', { body });
  const confirm = (body: unknown) => t.request('POST', '/v1/public/opt-outs/confirm', { body });
  const codeIn = (body: string) => /code is (\d{6})/.exec(body)![1]!;

  it('texts a code to the number, and the code registers the opt-out with one confirmation', async () => {
    const phone = newPhone();
    const callback = await t.request('POST', '/v1/callbacks', {
      key: agent,
      body: { caseRef: `MISC-${++seq}`, category: 'billing', phone, reason: 'r', firstExplanation: { summary: 's' } },
    });
    const asked = await request({ phone, scope: 'all' });
    expect(asked.status).toBe(202);
    const [codeText] = await textsTo(phone, 'opt_out_code');
    const code = codeIn(codeText!.body);
    const [stored] = await t.sql`select code_hash from opt_out_requests where phone_e164 = ${phone}`;
    expect(stored!.code_hash).not.toContain(code);

    const done = await confirm({ phone, code });
    expect(done).toMatchObject({ status: 200, body: { optedOut: true, scope: 'all' } });
    const [optOut] = await t.sql`select scope, source from opt_outs where phone_e164 = ${phone}`;
    expect(optOut).toEqual({ scope: 'all', source: 'web' });
    expect((await t.request('GET', `/v1/callbacks/${callback.body.id}`, { key: admin })).body.status).toBe('suppressed');
    expect(await textsTo(phone, 'opt_out_confirmation')).toHaveLength(1);

    // The same code again: no second opt-out confirmation.
    expect((await confirm({ phone, code })).status).toBe(422);
    expect(await textsTo(phone, 'opt_out_confirmation')).toHaveLength(1);
  });

  it('answers 202 with the same body for numbers that cannot receive a code, and texts nothing', async () => {
    const before = await textCount();
    const valid = await request({ phone: newPhone() });
    const invalid = await request({ phone: 'not a number' });
    expect(invalid).toMatchObject({ status: 202, body: valid.body });
    expect(await textCount()).toBe(before + 1);
  });

  it('locks the request after 5 wrong codes: the right code is refused afterwards', async () => {
    const phone = newPhone();
    await request({ phone, scope: 'voice' });
    const code = codeIn((await textsTo(phone, 'opt_out_code'))[0]!.body);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < OPT_OUT_MAX_FAILED_CHECKS; i++) {
      const res = await confirm({ phone, code: wrong });
      expect(res).toMatchObject({ status: 422, body: { code: 'validation_failed' } });
      expect(res.body.errors[0].path).toBe('code');
    }
    expect((await confirm({ phone, code })).status).toBe(422);
    expect(await t.sql`select 1 from opt_outs where phone_e164 = ${phone}`).toHaveLength(0);
    expect(await textsTo(phone, 'opt_out_confirmation')).toHaveLength(0);
  });

  it('a new request replaces the open one, and an expired code is refused', async () => {
    const phone = newPhone();
    await request({ phone });
    await request({ phone });
    const [first, second] = (await textsTo(phone, 'opt_out_code')).map((r) => codeIn(r.body));
    if (first !== second) expect((await confirm({ phone, code: first })).status).toBe(422);
    t.setNow(new Date(NOW.getTime() + 16 * 60_000));
    expect((await confirm({ phone, code: second })).status).toBe(422);
    t.setNow(NOW);
    expect((await confirm({ phone, code: second })).status).toBe(200);
  });
});

describe('rate limits (SPEC §7)', () => {
  let limited: TestContext;
  beforeAll(async () => {
    limited = await createTestContext({ RATE_LIMIT_IP_PER_MINUTE: '5', RATE_LIMIT_PHONE_PER_HOUR: '2' });
  });
  afterAll(() => limited.close());

  it('limits each client IP per endpoint with 429 rate_limited and Retry-After; X-Forwarded-For is not trusted by default', async () => {
    const check = (i: number) =>
      limited.request('POST', '/v1/public/official-number-check', {
        body: { number: '+12125550100' },
        headers: { 'x-forwarded-for': `10.0.0.${i}` },
      });
    for (let i = 0; i < 5; i++) expect((await check(i)).status).toBe(200);
    const refused = await check(99);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.code).toBe('rate_limited');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Invalid requests count too: the limit runs before validation.
    expect((await limited.request('POST', '/v1/public/official-number-check', { body: {} })).status).toBe(429);
  });

  it('limits each phone number per endpoint, whatever its format', async () => {
    const verify = (phone: string) => limited.request('POST', '/v1/public/verify', { body: { phone, code: '000000' } });
    expect((await verify('+1 212 555 0177')).status).toBe(200);
    expect((await verify('(212) 555-0177')).status).toBe(200);
    const refused = await verify('212.555.0177');
    expect(refused).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(60);
    expect((await verify('+1 212 555 0178')).status).toBe(200);
  });

  it('believes the last X-Forwarded-For entry behind a trusted proxy', async () => {
    const proxied = await createTestContext({ RATE_LIMIT_IP_PER_MINUTE: '2', TRUST_PROXY: 'true' });
    try {
      const check = (xff?: string) =>
        proxied.request('POST', '/v1/public/official-number-check', {
          body: { number: '+12125550100' },
          headers: xff ? { 'x-forwarded-for': xff } : {},
        });
      expect((await check('1.1.1.1, 203.0.113.7')).status).toBe(200);
      expect((await check('2.2.2.2, 203.0.113.7')).status).toBe(200);
      expect((await check('3.3.3.3, 203.0.113.7')).status).toBe(429);
      expect((await check('203.0.113.8')).status).toBe(200);
      // An IPv6 client is counted per /64.
      expect((await check('2001:db8:1:2::1')).status).toBe(200);
      expect((await check('2001:db8:1:2:ffff::9')).status).toBe(200);
      expect((await check('2001:db8:1:2::abcd')).status).toBe(429);
      // Without the header the request still works (no socket in app.request(): one shared key).
      expect((await check()).status).toBe(200);
    } finally {
      await proxied.close();
    }
  });
});

describe('Redis down', () => {
  let redis: RedisServer;
  let down: TestContext;
  beforeAll(async () => {
    redis = await startRedisServer();
    down = await createTestContext({ REDIS_URL: redis.url });
    for (const queue of down.runtime.queues.all()) queue.on('error', () => {});
  });
  afterAll(async () => {
    await down?.close();
    await redis?.stop();
  });

  it('refuses state-changing public requests with 503 and lets the read-only number check through', async () => {
    await redis.stop();
    try {
      const verify = await down.request('POST', '/v1/public/verify', { body: { phone: '+12125550123', code: '123456' } });
      expect(verify).toMatchObject({ status: 503, body: { code: 'service_unavailable' } });
      const status = await down.request('POST', '/v1/public/call-status', { body: { phone: '+12125550123' } });
      expect(status.status).toBe(503);
      expect(Number((await down.sql`select count(*)::int as n from sms_messages`)[0]!.n)).toBe(0);
      const official = await down.request('POST', '/v1/public/official-number-check', { body: { number: '+12125550100' } });
      expect(official).toMatchObject({ status: 200, body: { official: false } });
    } finally {
      await redis.start();
    }
  });
});
