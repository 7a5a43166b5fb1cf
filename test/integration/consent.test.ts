import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/harness.js';
import { callbacks, consentOffers, smsMessages } from '../../src/db/schema/index.js';
import { smsJobId } from '../../src/notify/sms.js';
import { dueJobId } from '../../src/queues/queues.js';
import { answerOfferByPhone, expireOffers, loadOffer, offerRows } from '../../src/services/consent.js';
import { insertTogether, rowFor } from '../../src/db/raw.js';

let t: TestContext;
let admin: string;
let agent: string;
let seq = 0;
let phoneSeq = 0;

// Friday 10:00 in New York (UTC-5): legal hours 08:00–21:00 local.
const NOW = new Date('2027-01-15T15:00:00Z');
const newPhone = () => `+1212555${String(400 + phoneSeq++).padStart(4, '0')}`;
const plus = (d: Date, ms: number) => new Date(d.getTime() + ms);
const HOUR = 3600_000;

const texts = (to: string, purpose: string) =>
  t.sql`select * from sms_messages where to_e164 = ${to} and purpose = ${purpose} order by created_at`;

/**
 * A callback created through the API under a consent-required policy: creating it records the offer
 * and queues its SMS; links are allowed in this file, so the token is read from that SMS as the
 * customer would.
 */
async function offered(options: { deadline?: string } = {}) {
  t.setNow(NOW);
  const phone = newPhone();
  const created = await t.request('POST', '/v1/callbacks', {
    key: agent,
    body: {
      caseRef: `CONSENT-${++seq}`,
      category: 'consent',
      phone,
      reason: 'We will explain the December invoice again',
      firstExplanation: { summary: 'Explained the late fee policy' },
      ...(options.deadline ? { deadline: options.deadline } : {}),
    },
  });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ status: 'awaiting_consent', scheduledFor: null });
  const [sms] = await texts(phone, 'consent_offer');
  const token = /\/o\/([A-Za-z0-9_-]{43})$/.exec(sms!.body)![1]!;
  return { id: created.body.id as string, phone, token, smsId: sms!.id as string };
}

const answer = (token: string, body: unknown) => t.request('POST', `/v1/public/offers/${token}`, { body });
const callback = async (id: string) => (await t.request('GET', `/v1/callbacks/${id}`, { key: admin })).body;
const offerRow = async (callbackId: string) => (await t.sql`select * from consent_offers where callback_id = ${callbackId}`)[0]!;

beforeAll(async () => {
  t = await createTestContext({
    BRAND_NAME: 'Acme Telecom',
    SMS_ALLOW_LINKS: 'true',
    PUBLIC_BASE_URL: 'https://help.example.com',
    RATE_LIMIT_IP_PER_MINUTE: '10000',
    RATE_LIMIT_PHONE_PER_HOUR: '10000',
  });
  admin = await t.key('admin');
  agent = await t.key('agent', { id: 'carol', displayName: 'Carol Ng' });
  const policy = await t.request('PUT', '/v1/policies/consent', { key: admin, body: { enabled: true, consent: 'required' } });
  expect(policy.status).toBe(200);
  expect((await t.request('PUT', '/v1/policies/plain', { key: admin, body: { enabled: true } })).status).toBe(200);
});
afterAll(() => t.close());
beforeEach(() => t.setNow(NOW));

describe('the offer (SPEC §8)', () => {
  it('is texted when the callback is created, with the /o/{token} link, and stores only a hash of the token', async () => {
    const offer = await offered();
    const [sms] = await texts(offer.phone, 'consent_offer');
    expect(sms).toMatchObject({ status: 'queued', callback_id: offer.id });
    expect(sms!.body).toBe(
      `[Acme Telecom] About your complaint (We will explain the December invoice again): would you like us to call you back to explain again? Reply 1 or YES for a call, 2 or NO for no call. Or pick a time: https://help.example.com/o/${offer.token}`,
    );
    expect(await t.runtime.queues.sms.getJob(smsJobId(offer.smsId))).toBeDefined();
    const row = await offerRow(offer.id);
    expect(row.token_hash).not.toContain(offer.token);
    expect(new Date(row.expires_at).toISOString()).toBe(plus(NOW, 24 * HOUR).toISOString());
  });

  it('carries no link when links are off (the default)', async () => {
    // A callback without an offer yet (consent none), offered with links off.
    const created = await t.request('POST', '/v1/callbacks', {
      key: agent,
      body: { caseRef: `CONSENT-${++seq}`, category: 'plain', phone: newPhone(), reason: 'r', firstExplanation: { summary: 's' } },
    });
    expect(created.status).toBe(201);
    const deps = t.runtime.deps;
    const [row] = await deps.db.select().from(callbacks).where(eq(callbacks.id, created.body.id));
    const offer = offerRows(row!, { config: { ...deps.config, SMS_ALLOW_LINKS: false } }, NOW, null);
    await insertTogether(deps.db, [rowFor(consentOffers, offer.offer), rowFor(smsMessages, offer.sms!)]);
    const [sms] = await t.sql`select body from sms_messages where id = ${offer.sms!.id}`;
    expect(sms!.body).toMatch(/Reply 1 or YES for a call, 2 or NO for no call\.$/);
    expect(sms!.body).not.toMatch(/https?:|\/o\//);
  });

  it('lists the next permitted slots for the page (GET /v1/public/offers/{token})', async () => {
    const offer = await offered();
    const res = await t.request('GET', `/v1/public/offers/${offer.token}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      callbackId: offer.id,
      brand: 'Acme Telecom',
      reason: 'We will explain the December invoice again',
      timezones: ['America/New_York'],
      expiresAt: plus(NOW, 24 * HOUR).toISOString(),
    });
    // 10:00–21:00 today in New York, then 08:00–21:00 on the following days.
    expect(res.body.slots[0]).toEqual({ start: NOW.toISOString(), end: '2027-01-16T02:00:00.000Z' });
    expect(res.body.slots[1]).toEqual({ start: '2027-01-16T13:00:00.000Z', end: '2027-01-17T02:00:00.000Z' });
    expect(res.body.slots.length).toBeGreaterThan(2);
    expect(await loadOffer(t.runtime.deps, 'x'.repeat(43), NOW)).toBeNull();
    expect((await t.request('GET', `/v1/public/offers/${'x'.repeat(43)}`)).status).toBe(404);
  });
});

describe('answering on the page (POST /v1/public/offers/{token})', () => {
  it('accept → scheduled at the earliest permitted time, with its wake-up, event and one confirmation text', async () => {
    const offer = await offered();
    const res = await answer(offer.token, { accept: true });
    expect(res).toMatchObject({ status: 200, body: { status: 'scheduled', scheduledFor: NOW.toISOString() } });
    const cb = await callback(offer.id);
    expect(cb).toMatchObject({ status: 'scheduled', scheduledFor: NOW.toISOString() });
    expect(cb.timeline.at(-1)).toMatchObject({ actor: 'customer:web', from: 'awaiting_consent', to: 'scheduled' });
    expect(await t.runtime.queues.due.getJob(dueJobId(offer.id, cb.version))).toBeDefined();
    const [event] = await t.sql`select payload from outbox where event = 'callback.scheduled' and payload->>'callbackId' = ${offer.id}`;
    expect(event).toBeDefined();
    expect(await offerRow(offer.id)).toMatchObject({ answer: 'accepted', answered_via: 'web', chosen_slot: null });
    const confirmation = await texts(offer.phone, 'consent_confirmation');
    expect(confirmation).toHaveLength(1);
    expect(confirmation[0]!.body).toMatch(/^\[Acme Telecom\] Thank you\. We will call you back/);

    // Answered once: a second answer is refused and changes nothing.
    expect((await answer(offer.token, { accept: false })).status).toBe(409);
    expect((await callback(offer.id)).status).toBe('scheduled');
    expect(await texts(offer.phone, 'consent_confirmation')).toHaveLength(1);
    expect((await t.request('GET', `/v1/public/offers/${offer.token}`)).status).toBe(404);
  });

  it('accept with a permitted slot → scheduled at that slot', async () => {
    const offer = await offered();
    const slot = '2027-01-16T09:30:00-05:00';
    const res = await answer(offer.token, { accept: true, slot });
    expect(res.body).toEqual({ status: 'scheduled', scheduledFor: '2027-01-16T14:30:00.000Z' });
    expect(await offerRow(offer.id)).toMatchObject({ answer: 'accepted' });
    expect(new Date((await offerRow(offer.id)).chosen_slot).toISOString()).toBe('2027-01-16T14:30:00.000Z');
  });

  it('refuses a slot outside the permitted times (422, nothing answered)', async () => {
    const offer = await offered();
    for (const slot of ['2027-01-16T03:00:00-05:00', '2027-01-15T09:00:00-05:00']) {
      const res = await answer(offer.token, { accept: true, slot });
      expect(res).toMatchObject({ status: 422, body: { code: 'validation_failed' } });
      expect(res.body.errors[0].path).toBe('slot');
    }
    expect((await offerRow(offer.id)).answered_at).toBeNull();
    expect((await callback(offer.id)).status).toBe('awaiting_consent');
  });

  it('refuses a permitted slot after the callback deadline: the promise stays honest', async () => {
    const offer = await offered();
    const { deadline } = await callback(offer.id);
    const after = new Date(new Date(deadline).getTime() + 24 * 3600_000);
    after.setUTCHours(17, 0, 0, 0); // midday in New York: permitted, but too late
    const res = await answer(offer.token, { accept: true, slot: after.toISOString() });
    expect(res).toMatchObject({ status: 422, body: { code: 'validation_failed' } });
    expect((await offerRow(offer.id)).answered_at).toBeNull();
  });

  it('decline → declined, with a confirmation that we will not call', async () => {
    const offer = await offered();
    const res = await answer(offer.token, { accept: false });
    expect(res.body).toEqual({ status: 'declined', scheduledFor: null });
    expect((await callback(offer.id)).status).toBe('declined');
    const [sms] = await texts(offer.phone, 'consent_confirmation');
    expect(sms!.body).toBe('[Acme Telecom] Thank you. We will not call you back about this complaint.');
  });

  it('refuses an unknown token (404), a malformed one (422), and an offer whose callback was cancelled (409)', async () => {
    expect((await answer('A'.repeat(43), { accept: true })).status).toBe(404);
    expect((await answer('bad token!', { accept: true })).status).toBe(422);
    const offer = await offered();
    expect((await t.request('POST', `/v1/callbacks/${offer.id}/cancel`, { key: agent, body: { reason: 'resolved' } })).status).toBe(200);
    expect(await answer(offer.token, { accept: true })).toMatchObject({ status: 409, body: { code: 'invalid_state' } });
    expect((await callback(offer.id)).status).toBe('cancelled');
  });
});

describe('answering by SMS (answerOfferByPhone)', () => {
  it('accepts the open offer of the number at the earliest permitted time; false when there is none', async () => {
    const offer = await offered();
    t.setNow(plus(NOW, 11 * HOUR)); // 21:00 in New York: the earliest time is 08:00 tomorrow.
    expect(await answerOfferByPhone(t.runtime.deps, offer.phone, true, plus(NOW, 11 * HOUR))).toBe(true);
    expect(await callback(offer.id)).toMatchObject({ status: 'scheduled', scheduledFor: '2027-01-16T13:00:00.000Z' });
    expect(await offerRow(offer.id)).toMatchObject({ answer: 'accepted', answered_via: 'sms' });
    expect(await answerOfferByPhone(t.runtime.deps, offer.phone, false, plus(NOW, 11 * HOUR))).toBe(false);
    expect(await answerOfferByPhone(t.runtime.deps, newPhone(), true, NOW)).toBe(false);
  });

  it('declines it', async () => {
    const offer = await offered();
    expect(await answerOfferByPhone(t.runtime.deps, offer.phone, false, NOW)).toBe(true);
    expect((await callback(offer.id)).status).toBe('declined');
  });
});

describe('expiry (expireOffers)', () => {
  it('an unanswered offer lapses: the link is 404 and maintenance moves the callback to expired', async () => {
    const offer = await offered();
    const later = plus(NOW, 24 * HOUR + 1000);
    t.setNow(later);
    expect((await answer(offer.token, { accept: true })).status).toBe(404);
    expect(await answerOfferByPhone(t.runtime.deps, offer.phone, true, later)).toBe(false);
    expect(await expireOffers(t.runtime.deps, later)).toBeGreaterThanOrEqual(1);
    const cb = await callback(offer.id);
    expect(cb).toMatchObject({ status: 'expired', scheduledFor: null });
    expect(cb.timeline.at(-1)).toMatchObject({ actor: 'system:consent', from: 'awaiting_consent', to: 'expired' });
    expect(await offerRow(offer.id)).toMatchObject({ answer: 'expired', answered_via: 'system' });
    expect(await expireOffers(t.runtime.deps, later)).toBe(0);
  });

  it('the offer lapses at the callback deadline when that comes first', async () => {
    const offer = await offered({ deadline: '2027-01-15T20:00:00Z' });
    expect(new Date((await offerRow(offer.id)).expires_at).toISOString()).toBe('2027-01-15T20:00:00.000Z');
    expect(await expireOffers(t.runtime.deps, plus(NOW, HOUR))).toBe(0);
    expect((await callback(offer.id)).status).toBe('awaiting_consent');
  });
});
