import { createHmac } from 'node:crypto';
import { Worker } from 'bullmq';
import { eq } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { callbacks } from '../../src/db/schema/index.js';
import { deliverSms, flushSms, queueSms, requeueStaleSms, smsJobId, SMS_ATTEMPTS, type SmsPurpose } from '../../src/notify/sms.js';
import { twilioProvider } from '../../src/notify/sms-providers.js';
import { twilioRequestSignature } from '../../src/http/routes/sms-inbound.js';
import { QUEUE_NAMES, bullPrefix, workerConnection, type SmsJob } from '../../src/queues/queues.js';
import { dispatchDue } from '../../src/services/dispatch.js';
import { startFakeTwilio, inboundSmsParams, twilioSignature, type FakeTwilio } from '../helpers/fake-twilio.js';
import { createTestContext, type TestContext } from '../helpers/harness.js';

/**
 * SMS end to end (SPEC §7–§8) against the real PostgreSQL and Redis with a BullMQ worker on the
 * SMS queue: `tw` sends through a local fake of Twilio's Messages API, `lg` uses the log provider.
 */

const PUBLIC_BASE_URL = 'https://sc.example.com';
const INBOUND = '/v1/webhooks/sms/inbound';
const OUR_NUMBER = '+12125550100';
const NOW = new Date('2027-01-15T11:00:00Z');
/** Fast retries for tests; production starts at 2 s and doubles. */
const FAST = { backoffMs: 20 };

let fake: FakeTwilio;
let tw: TestContext;
let lg: TestContext;
const workers: { worker: Worker<SmsJob>; redis: Redis }[] = [];
let twAgent: string;
let seq = 0;
/** A fresh US number per test, so one test's opt-outs and texts never meet another's. */
let nextLine = 200;
const freshNumber = () => `+1212555${String(++nextLine).padStart(4, '0')}`;

function startSmsWorker(t: TestContext) {
  const redis = workerConnection(t.config.REDIS_URL);
  const worker = new Worker<SmsJob>(QUEUE_NAMES.sms, (job) => deliverSms(t.runtime.deps, job.data, job.attemptsMade), {
    connection: redis,
    prefix: bullPrefix(t.config.QUEUE_PREFIX),
    concurrency: 10,
  });
  workers.push({ worker, redis });
}

beforeAll(async () => {
  fake = await startFakeTwilio();
  tw = await createTestContext({
    SMS_PROVIDER: 'twilio',
    TWILIO_ACCOUNT_SID: fake.accountSid,
    TWILIO_AUTH_TOKEN: fake.authToken,
    TWILIO_FROM: OUR_NUMBER,
    TWILIO_API_BASE: fake.apiBase,
    PUBLIC_BASE_URL,
    BRAND_NAME: 'Acme',
  });
  lg = await createTestContext({ SMS_PROVIDER: 'log', PUBLIC_BASE_URL, BRAND_NAME: 'Acme' });
  startSmsWorker(tw);
  startSmsWorker(lg);
  const admin = await tw.key('admin');
  twAgent = await tw.key('agent', { id: 'alice', displayName: 'Alice Tan' });
  expect((await tw.request('PUT', '/v1/policies/billing', { key: admin, body: { enabled: true } })).status).toBe(200);
  expect((await tw.request('PUT', '/v1/policies/retention', { key: admin, body: { enabled: true, consent: 'required' } })).status).toBe(200);
});

afterAll(async () => {
  await Promise.all(workers.map(({ worker }) => worker.close()));
  for (const { redis } of workers) redis.disconnect();
  await Promise.all([tw?.close(), lg?.close()]);
  await fake?.close();
});

beforeEach(() => {
  fake.reset();
  tw.setNow(NOW);
  lg.setNow(NOW);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(25);
  }
}

async function queue(t: TestContext, to: string, purpose: SmsPurpose = 'pre_call', body = '[Acme] code 482913') {
  return t.runtime.deps.db.transaction((tx) => queueSms(tx, { to, body, purpose }));
}

const messageRow = async (t: TestContext, id: string) => (await t.sql`select * from sms_messages where id = ${id}`)[0]!;
const finalRow = (t: TestContext, id: string) =>
  until(
    () => messageRow(t, id),
    (row) => ['sent', 'failed', 'suppressed'].includes(row.status as string),
  );
const outboundTo = (t: TestContext, to: string) =>
  t.sql`select id, purpose, status, body, provider, provider_id from sms_messages where direction = 'outbound' and to_e164 = ${to} order by created_at`;
const smsCount = async (t: TestContext) => Number((await t.sql`select count(*)::int as n from sms_messages`)[0]!.n);

async function sendAndWait(t: TestContext, to: string, purpose: SmsPurpose = 'pre_call') {
  const queued = await queue(t, to, purpose);
  expect(queued).not.toBeNull();
  await flushSms(t.runtime.deps, [queued!.id], FAST);
  return finalRow(t, queued!.id);
}

describe('outbound: log provider', () => {
  it('records the message and marks it sent with a log- provider id, sending nothing', async () => {
    const to = freshNumber();
    const row = await sendAndWait(lg, to);
    expect(row).toMatchObject({ direction: 'outbound', to_e164: to, status: 'sent', provider: 'log', purpose: 'pre_call', body: '[Acme] code 482913', error: null });
    expect(row.provider_id).toMatch(/^log-[0-9a-f-]{36}$/);
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects a number that is not E.164 and an empty body, storing nothing', async () => {
    const before = await smsCount(lg);
    await expect(queue(lg, '212 555 0123')).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(queue(lg, freshNumber(), 'pre_call', '')).rejects.toMatchObject({ code: 'validation_failed' });
    expect(await smsCount(lg)).toBe(before);
  });
});

describe('outbound: Twilio provider', () => {
  it('POSTs the form Twilio expects, with basic auth, and stores the message sid', async () => {
    const to = freshNumber();
    const row = await sendAndWait(tw, to);
    expect(row).toMatchObject({ status: 'sent', provider: 'twilio', error: null });
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({ method: 'POST', path: `/2010-04-01/Accounts/${fake.accountSid}/Messages.json`, authorized: true, status: 201 });
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request!.form).toEqual({ To: to, From: OUR_NUMBER, Body: '[Acme] code 482913' });
    expect(row.provider_id).toBe(fake.messages[0]!.sid);
    expect(row.provider_id).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it('sends from a Messaging Service when TWILIO_FROM is an MG sid', async () => {
    const service = `MG${'a'.repeat(32)}`;
    const provider = twilioProvider({ accountSid: fake.accountSid, authToken: fake.authToken, from: service, apiBase: fake.apiBase });
    const { providerId } = await provider.send({ to: '+12125550199', body: 'hello' });
    expect(fake.requests[0]!.form).toEqual({ To: '+12125550199', MessagingServiceSid: service, Body: 'hello' });
    expect(providerId).toBe(fake.messages[0]!.sid);
  });

  it('retries 500 twice, then texts once: three requests, one sid, status sent', async () => {
    fake.failNext(500, 2);
    const row = await sendAndWait(tw, freshNumber());
    expect(row).toMatchObject({ status: 'sent', error: null });
    expect(fake.requests.map((r) => r.status)).toEqual([500, 500, 201]);
    expect(fake.messages).toHaveLength(1);
    expect(row.provider_id).toBe(fake.messages[0]!.sid);
  });

  it('retries 429 and a dropped connection', async () => {
    fake.failNext(429);
    fake.dropNext();
    const row = await sendAndWait(tw, freshNumber());
    expect(row.status).toBe('sent');
    expect(fake.requests.map((r) => r.status)).toEqual([0, 429, 201]);
    expect(fake.messages).toHaveLength(1);
  });

  it('a 400 fails the message at once, without a retry', async () => {
    fake.failNext(400);
    const queued = (await queue(tw, freshNumber()))!;
    await flushSms(tw.runtime.deps, [queued.id], FAST);
    const row = await finalRow(tw, queued.id);
    expect(row).toMatchObject({ status: 'failed', provider_id: null });
    expect(row.error).toContain('twilio HTTP 400 code 21211');
    await sleep(300); // several backoff periods: no retry may come
    expect(fake.requests).toHaveLength(1);
    const job = await tw.runtime.queues.sms.getJob(smsJobId(queued.id));
    expect(await job?.getState()).toBe('failed');
    expect(job?.attemptsMade).toBe(1);
  });

  it(`gives up after ${SMS_ATTEMPTS} failed attempts`, async () => {
    fake.failNext(503, SMS_ATTEMPTS + 2);
    const queued = (await queue(tw, freshNumber()))!;
    await flushSms(tw.runtime.deps, [queued.id], { backoffMs: 5 });
    const row = await finalRow(tw, queued.id);
    expect(row.status).toBe('failed');
    await sleep(200);
    expect(fake.requests).toHaveLength(SMS_ATTEMPTS);
    expect(fake.messages).toHaveLength(0);
  });

  it('a duplicated job (another job id, same message) texts once', async () => {
    const queued = (await queue(tw, freshNumber()))!;
    await tw.runtime.queues.sms.addBulk([
      { name: 'send', data: { messageId: queued.id }, opts: { jobId: `dup-a-${queued.id}` } },
      { name: 'send', data: { messageId: queued.id }, opts: { jobId: `dup-b-${queued.id}` } },
    ]);
    await flushSms(tw.runtime.deps, [queued.id], FAST);
    const row = await finalRow(tw, queued.id);
    await sleep(200);
    expect(row.status).toBe('sent');
    expect(fake.requests).toHaveLength(1);
  });

  it('deliverSms run twice at once, and again later, texts once', async () => {
    const queued = (await queue(tw, freshNumber()))!;
    await Promise.all([deliverSms(tw.runtime.deps, { messageId: queued.id }, 0), deliverSms(tw.runtime.deps, { messageId: queued.id }, 0)]);
    await deliverSms(tw.runtime.deps, { messageId: queued.id }, 0);
    expect(fake.requests).toHaveLength(1);
    expect((await messageRow(tw, queued.id)).status).toBe('sent');
  });

  it('re-adds the job of a message queued more than a minute ago whose job was lost', async () => {
    const queued = (await queue(tw, freshNumber()))!; // never flushed: as if Redis was down
    expect(await requeueStaleSms(tw.runtime.deps, NOW)).toBe(0);
    await tw.sql`update sms_messages set created_at = now() - interval '2 minutes' where id = ${queued.id}`;
    expect(await requeueStaleSms(tw.runtime.deps, NOW)).toBe(1);
    expect((await finalRow(tw, queued.id)).status).toBe('sent');
    expect(fake.requests).toHaveLength(1);
  });

  it('fails a message abandoned in sending instead of texting again', async () => {
    const queued = (await queue(tw, freshNumber()))!;
    await tw.sql`update sms_messages set status = 'sending', updated_at = now() - interval '10 minutes' where id = ${queued.id}`;
    await requeueStaleSms(tw.runtime.deps, NOW);
    const row = await messageRow(tw, queued.id);
    expect(row.status).toBe('failed');
    expect(row.error).toContain('not retried');
    await deliverSms(tw.runtime.deps, { messageId: queued.id }, 0);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('outbound: opt-outs', () => {
  it('an opted-out number gets no SMS: queueSms returns null and stores nothing', async () => {
    for (const scope of ['all', 'sms'] as const) {
      const to = freshNumber();
      await tw.sql`insert into opt_outs (phone_e164, scope, source, created_by) values (${to}, ${scope}, 'test', 'test')`;
      const before = await smsCount(tw);
      for (const purpose of ['pre_call', 'call_status', 'consent_offer', 'consent_confirmation', 'opt_out_code'] as const) {
        expect(await queue(tw, to, purpose)).toBeNull();
      }
      expect(await smsCount(tw)).toBe(before);
      // …except the one confirmation that the opt-out happened.
      expect(await queue(tw, to, 'opt_out_confirmation')).not.toBeNull();
    }
  });

  it('a voice-only opt-out still gets texts', async () => {
    const to = freshNumber();
    await tw.sql`insert into opt_outs (phone_e164, scope, source, created_by) values (${to}, 'voice', 'test', 'test')`;
    expect(await queue(tw, to)).not.toBeNull();
  });

  it('a message queued before the number opted out is not sent', async () => {
    const to = freshNumber();
    const queued = (await queue(tw, to))!;
    await tw.sql`insert into opt_outs (phone_e164, scope, source, created_by) values (${to}, 'all', 'test', 'test')`;
    await flushSms(tw.runtime.deps, [queued.id], FAST);
    expect((await finalRow(tw, queued.id)).status).toBe('suppressed');
    expect(fake.requests).toHaveLength(0);
  });
});

const inboundUrl = `${PUBLIC_BASE_URL}${INBOUND}`;
const inboundParams = (from: string, body: string, messageSid?: string) =>
  inboundSmsParams({ from, to: OUR_NUMBER, body, messageSid, accountSid: fake.accountSid });

/** Posts the form of an inbound SMS to the Twilio-configured service, with this signature header (or none). */
function postInbound(params: Record<string, string>, signature: string | null) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (signature !== null) headers['x-twilio-signature'] = signature;
  return tw.request('POST', INBOUND, { body: new URLSearchParams(params).toString(), headers });
}

/** An inbound SMS as Twilio posts it, correctly signed. */
async function inboundTwilio(from: string, body: string, options: { messageSid?: string } = {}) {
  const params = inboundParams(from, body, options.messageSid);
  const res = await postInbound(params, twilioSignature(fake.authToken, inboundUrl, params));
  return { res, messageSid: params.MessageSid! };
}

const logSignature = (t: TestContext, raw: string) => createHmac('sha256', t.config.SECRET_KEY).update(raw).digest('hex');

async function inboundLog(from: string, body: string, signature?: string | null) {
  const raw = new URLSearchParams(inboundSmsParams({ from, to: OUR_NUMBER, body })).toString();
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const sig = signature === undefined ? logSignature(lg, raw) : signature;
  if (sig !== null) headers['x-secondcall-signature'] = sig;
  return lg.request('POST', INBOUND, { body: raw, headers });
}

async function createCallback(phone: string, overrides: Record<string, unknown> = {}) {
  const res = await tw.request('POST', '/v1/callbacks', {
    key: twAgent,
    body: {
      caseRef: `SMS-${++seq}-${Date.now()}`,
      category: 'billing',
      phone,
      reason: 'Your December invoice',
      firstExplanation: { summary: 'Explained the late fee policy' },
      notBefore: '2027-01-15T12:00:00Z',
      ...overrides,
    },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; status: string };
}

const callbackStatus = async (id: string) => (await tw.sql`select status from callbacks where id = ${id}`)[0]!.status;
const optOutOf = async (t: TestContext, phone: string) => (await t.sql`select scope, source, created_by from opt_outs where phone_e164 = ${phone}`)[0];
const tableCounts = async (t: TestContext) =>
  (await t.sql`select (select count(*)::int from sms_messages) as sms, (select count(*)::int from opt_outs) as opt_outs,
      (select count(*)::int from outbox) as outbox, (select count(*)::int from callback_events) as events`)[0];

describe("Twilio's request signature", () => {
  // The vectors of Twilio's own SDK tests (twilio-python, twilio-php): auth token 12345.
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };
  const repeated: [string, string][] = [
    ['Sid', 'CA123'],
    ['SidAccount', 'AC123'],
    ['Digits', '5678'],
    ['Digits', '1234'],
    ['Digits', '1234'],
  ];

  it('the production check and the test helper both reproduce the documented signatures', () => {
    expect(twilioRequestSignature('12345', url, new URLSearchParams(params))).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    expect(twilioSignature('12345', url, params)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    expect(twilioRequestSignature('12345', url, new URLSearchParams(repeated))).toBe('IK+Dwps556ElfBT0I3Rgjkr1wJU=');
    expect(twilioSignature('12345', url, { Sid: 'CA123', SidAccount: 'AC123', Digits: ['5678', '1234', '1234'] })).toBe('IK+Dwps556ElfBT0I3Rgjkr1wJU=');
  });

  it('a request Twilio signed with the default port written out is accepted', async () => {
    const params = inboundParams(freshNumber(), 'hello');
    expect((await postInbound(params, twilioSignature(fake.authToken, `https://sc.example.com:443${INBOUND}`, params))).status).toBe(200);
    expect((await postInbound(params, twilioSignature(fake.authToken, `https://sc.example.com:8443${INBOUND}`, params))).status).toBe(403);
  });
});

describe('inbound: authentication', () => {
  it('an unsigned or wrongly signed request is rejected and changes nothing', async () => {
    const from = freshNumber();
    const callback = await createCallback(from);
    const before = await tableCounts(tw);
    const params = inboundParams(from, 'STOP');

    const unsigned = await postInbound(params, null);
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers.get('content-type')).toContain('application/problem+json');
    expect(unsigned.body.code).toBe('unauthorized');

    const wrongToken = await postInbound(params, twilioSignature('not-the-auth-token-0000', inboundUrl, params));
    expect(wrongToken.status).toBe(403);
    expect(wrongToken.body.code).toBe('forbidden');

    const otherUrl = await postInbound(params, twilioSignature(fake.authToken, `https://evil.example.com${INBOUND}`, params));
    expect(otherUrl.status).toBe(403);

    // A valid signature of other parameters: the body swapped on the way.
    const hello = inboundParams(from, 'hello', params.MessageSid);
    const tampered = await postInbound(params, twilioSignature(fake.authToken, inboundUrl, hello));
    expect(tampered.status).toBe(403);

    expect((await postInbound(params, '')).status).toBe(401);
    expect((await postInbound(params, 'x'.repeat(5000))).status).toBe(403);

    expect(await tableCounts(tw)).toEqual(before);
    expect(await callbackStatus(callback.id)).toBe('scheduled');
    expect(await optOutOf(tw, from)).toBeUndefined();

    // The same request, signed, goes through: the rejections above were for the signature alone.
    expect((await postInbound(params, twilioSignature(fake.authToken, inboundUrl, params))).status).toBe(200);
    expect(await callbackStatus(callback.id)).toBe('suppressed');
  });

  it('the log provider requires the SECRET_KEY signature of the raw body', async () => {
    const from = freshNumber();
    const before = await tableCounts(lg);
    expect((await inboundLog(from, 'STOP', null)).status).toBe(401);
    expect((await inboundLog(from, 'STOP', logSignature(lg, 'something else'))).status).toBe(403);
    expect(await tableCounts(lg)).toEqual(before);

    const ok = await inboundLog(from, 'STOP');
    expect(ok.status).toBe(200);
    expect(await optOutOf(lg, from)).toMatchObject({ scope: 'all', source: 'sms' });
  });

  it('takes only form-encoded bodies and answers an empty TwiML document', async () => {
    const json = await tw.request('POST', INBOUND, { body: { Body: 'STOP' }, headers: { 'x-twilio-signature': 'x' } });
    expect(json.status).toBe(415);
    const { res } = await inboundTwilio(freshNumber(), 'hello there');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/xml');
    expect(res.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });

  it('is documented in the OpenAPI document as a public, form-encoded route', async () => {
    const doc = await tw.request('GET', '/openapi.json');
    const op = doc.body.paths[INBOUND].post;
    expect(op['x-public']).toBe(true);
    expect(op['x-roles']).toBeUndefined();
    expect(Object.keys(op.requestBody.content)).toEqual(['application/x-www-form-urlencoded']);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '401', '403', '415', '422']));
  });

  it('a signed form without the fields of an inbound SMS is 422 and changes nothing', async () => {
    const before = await tableCounts(tw);
    const params = { AccountSid: fake.accountSid, Body: 'STOP' };
    const res = await postInbound(params, twilioSignature(fake.authToken, inboundUrl, params));
    expect(res.status).toBe(422);
    expect(await tableCounts(tw)).toEqual(before);
  });
});

describe('inbound: opt-out keywords', () => {
  it('STOP opts the number out, suppresses its callbacks at once and confirms once, even when sent twice', async () => {
    const from = freshNumber();
    const callback = await createCallback(from);
    expect(callback.status).toBe('scheduled');

    const first = await inboundTwilio(from, 'STOP');
    expect(first.res.status).toBe(200);
    expect(await optOutOf(tw, from)).toEqual({ scope: 'all', source: 'sms', created_by: 'customer:sms' });
    expect(await callbackStatus(callback.id)).toBe('suppressed');
    const [event] = await tw.sql`select from_status, actor from callback_events where callback_id = ${callback.id} and to_status = 'suppressed'`;
    expect(event).toEqual({ from_status: 'scheduled', actor: 'customer:sms' });

    const second = await inboundTwilio(from, 'stop');
    expect(second.res.status).toBe(200);
    const confirmations = await until(
      () => outboundTo(tw, from),
      (rows) => rows.length > 0 && rows.every((r) => r.status === 'sent'),
    );
    await sleep(200);
    expect(confirmations.map((r) => [r.purpose, r.status])).toEqual([['opt_out_confirmation', 'sent']]);
    expect(confirmations[0]!.body).toBe('[Acme] You have opted out. We will not call or text you about complaint callbacks again.');
    expect(fake.messages.filter((m) => m.to === from)).toHaveLength(1);

    const inbound = await tw.sql`select purpose, status, from_e164, to_e164, provider, provider_id from sms_messages where direction = 'inbound' and from_e164 = ${from} order by created_at`;
    expect(inbound).toEqual([
      { purpose: 'opt_out', status: 'received', from_e164: from, to_e164: OUR_NUMBER, provider: 'twilio', provider_id: first.messageSid },
      { purpose: 'opt_out', status: 'received', from_e164: from, to_e164: OUR_NUMBER, provider: 'twilio', provider_id: second.messageSid },
    ]);
    // The opt-out is an event for subscribers, once.
    const events = await tw.sql`select payload from outbox where event = 'opt_out.created' and payload->>'phone' = ${from}`;
    expect(events).toHaveLength(1);
    expect(events[0]!.payload.suppressedCallbacks).toEqual([callback.id]);
  });

  it('two STOPs arriving together confirm once', async () => {
    const from = freshNumber();
    const results = await Promise.all([inboundTwilio(from, 'STOP'), inboundTwilio(from, 'UNSUBSCRIBE'), inboundTwilio(from, 'TD')]);
    expect(results.map((r) => r.res.status)).toEqual([200, 200, 200]);
    const rows = await outboundTo(tw, from);
    expect(rows.map((r) => r.purpose)).toEqual(['opt_out_confirmation']);
  });

  it.each([
    ['退订', 'zh-CN', '【Acme】您已退订。'],
    ['TD', 'zh-CN', '【Acme】您已退订。'],
    ['berhenti', 'ms', '[Acme] Anda telah menarik diri.'],
    ['ＳＴＯＰ', 'en', '[Acme] You have opted out.'],
  ])('%s opts out and confirms in %s', async (keyword, _lang, start) => {
    const from = freshNumber();
    const callback = await createCallback(from);
    expect((await inboundTwilio(from, keyword)).res.status).toBe(200);
    expect(await optOutOf(tw, from)).toMatchObject({ scope: 'all', source: 'sms' });
    expect(await callbackStatus(callback.id)).toBe('suppressed');
    const rows = await outboundTo(tw, from);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.body.startsWith(start)).toBe(true);
  });

  it('answers STOP in the language of the number\'s callback', async () => {
    const from = freshNumber();
    await createCallback(from, { customer: { language: 'ms' } });
    await inboundTwilio(from, 'STOP');
    const [row] = await outboundTo(tw, from);
    expect(row!.body).toBe('[Acme] Anda telah menarik diri. Kami tidak akan menghubungi atau menghantar SMS kepada anda lagi tentang panggilan semula aduan.');
  });

  it('after STOP the number gets no other text', async () => {
    const from = freshNumber();
    await inboundTwilio(from, 'STOP');
    expect(await queue(tw, from, 'pre_call')).toBeNull();
  });

  it('STOP after an SMS-only opt-out widens it to calls without texting again', async () => {
    const from = freshNumber();
    const callback = await createCallback(from);
    await tw.sql`insert into opt_outs (phone_e164, scope, source, created_by) values (${from}, 'sms', 'test', 'test')`;
    await inboundTwilio(from, 'STOP');
    expect(await optOutOf(tw, from)).toMatchObject({ scope: 'all' });
    expect(await callbackStatus(callback.id)).toBe('suppressed');
    expect(await outboundTo(tw, from)).toHaveLength(0);
  });

  it('a replayed MessageSid is ignored', async () => {
    const from = freshNumber();
    const first = await inboundTwilio(from, 'STOP');
    // Ops lift the opt-out; a replay of the old webhook must not register it again.
    expect((await tw.request('DELETE', `/v1/opt-outs/${encodeURIComponent(from)}`, { key: await tw.key('ops') })).status).toBe(204);
    const replay = await inboundTwilio(from, 'STOP', { messageSid: first.messageSid });
    expect(replay.res.status).toBe(200);
    expect(replay.res.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(await optOutOf(tw, from)).toBeUndefined();
    expect(await tw.sql`select id from sms_messages where direction = 'inbound' and provider_id = ${first.messageSid}`).toHaveLength(1);
    expect(await outboundTo(tw, from)).toHaveLength(1);
  });

  it('a message that is not a keyword is recorded and changes nothing else', async () => {
    const from = freshNumber();
    const callback = await createCallback(from);
    await inboundTwilio(from, 'please stop calling me at work');
    expect(await optOutOf(tw, from)).toBeUndefined();
    expect(await callbackStatus(callback.id)).toBe('scheduled');
    const [row] = await tw.sql`select purpose, body from sms_messages where direction = 'inbound' and from_e164 = ${from}`;
    expect(row).toEqual({ purpose: 'other', body: 'please stop calling me at work' });
  });
});

describe('inbound: call status and consent (P\'s services)', () => {
  it('CALL? from a number nobody is calling gets "we are NOT calling you" by SMS', async () => {
    const from = freshNumber();
    await createCallback(from);
    const { res } = await inboundTwilio(from, 'CALL?');
    expect(res.status).toBe(200);
    const rows = await until(
      () => outboundTo(tw, from),
      (r) => r.length > 0 && r[0]!.status === 'sent',
    );
    expect(rows.map((r) => [r.purpose, r.body, r.status])).toEqual([['call_status', '[Acme] We are NOT calling you right now. Hang up.', 'sent']]);
    expect(fake.messages.find((m) => m.to === from)?.body).toBe('[Acme] We are NOT calling you right now. Hang up.');
  });

  it('CALL while our agent is on the call gets "yes", with the agent and the reason', async () => {
    const from = freshNumber();
    const callback = await createCallback(from);
    const at = new Date('2027-01-15T13:05:00Z'); // 08:05 in New York, inside the permitted window
    tw.setNow(at);
    const [row] = await tw.runtime.deps.db.select().from(callbacks).where(eq(callbacks.id, callback.id));
    expect(await dispatchDue(tw.runtime.deps, { callbackId: row!.id, version: row!.version }, at)).toBe('ready');
    const claimed = await tw.request('POST', '/v1/agents/me/claim', { key: twAgent });
    expect(claimed.body.id).toBe(callback.id);
    expect((await tw.request('POST', `/v1/callbacks/${callback.id}/attempts`, { key: twAgent, body: {} })).status).toBe(201);
    expect(await callbackStatus(callback.id)).toBe('in_call');

    await inboundTwilio(from, 'call?');
    const status = (await outboundTo(tw, from)).filter((r) => r.purpose === 'call_status');
    expect(status.map((r) => r.body)).toEqual(['[Acme] Yes, our agent Alice Tan is calling you now about: Your December invoice. Never tell a caller any code.']);
  });

  it('状态 answers in Chinese for a Chinese-speaking customer', async () => {
    const from = freshNumber();
    await createCallback(from, { customer: { language: 'zh-CN' } });
    await inboundTwilio(from, '状态');
    const [row] = await outboundTo(tw, from);
    expect(row!.body).toBe('【Acme】我们现在没有给您打电话。请立即挂断。');
  });

  async function awaitingConsent(phone: string) {
    const created = await createCallback(phone, { category: 'retention' });
    expect(created.status).toBe('awaiting_consent');
    // Creating it opened the offer (and texted the question).
    expect(await tw.sql`select 1 from consent_offers where callback_id = ${created.id} and answered_at is null`).toHaveLength(1);
    return created.id;
  }

  it('YES accepts the open offer: the callback is scheduled and the customer told', async () => {
    const from = freshNumber();
    const id = await awaitingConsent(from);
    await inboundTwilio(from, 'yes');
    expect(await callbackStatus(id)).toBe('scheduled');
    const [offer] = await tw.sql`select answer, answered_via from consent_offers where callback_id = ${id}`;
    expect(offer).toEqual({ answer: 'accepted', answered_via: 'sms' });
    const purposes = (await outboundTo(tw, from)).map((r) => r.purpose);
    expect(purposes).toEqual(['consent_offer', 'consent_confirmation']);
  });

  it('2 / 否 / TIDAK decline the open offer', async () => {
    for (const answer of ['2', '否', 'TIDAK']) {
      const from = freshNumber();
      const id = await awaitingConsent(from);
      await inboundTwilio(from, answer);
      expect(await callbackStatus(id)).toBe('declined');
    }
  });

  it('YES without an open offer changes nothing', async () => {
    const from = freshNumber();
    const callback = await createCallback(from);
    await inboundTwilio(from, '1');
    expect(await callbackStatus(callback.id)).toBe('scheduled');
    expect(await outboundTo(tw, from)).toHaveLength(0);
  });
});
