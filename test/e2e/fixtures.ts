/**
 * Real data for the customer-page tests, made through the API the way production makes it:
 * policy, callback, the dispatcher, a claim and an attempt start (which opens the verification
 * session), or a callback awaiting consent (which opens an offer).
 */
import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { callbacks, consentOffers } from '../../src/db/schema/index.js';
import { offerRows } from '../../src/services/consent.js';
import { insertTogether, rowFor } from '../../src/db/raw.js';
import { dispatchDue } from '../../src/services/dispatch.js';
import { callAroundTheClock, type TestContext } from '../helpers/harness.js';

export const OFFICIAL_NUMBER = '+60 3-2345 6789';
export const OFFICIAL_E164 = '+60323456789';

let seq = 0;

/** Calling is permitted around the clock (tests run at any hour), with generous caps and one official number. */
export async function setUpCalling(t: TestContext): Promise<string> {
  const admin = await t.key('admin');
  await callAroundTheClock(t, admin, ['US', 'MY']);
  const numbers = await t.request('PUT', '/v1/settings/official-numbers', {
    key: admin,
    body: { numbers: [{ number: OFFICIAL_NUMBER, label: 'Customer care' }] },
  });
  expect(numbers.status, JSON.stringify(numbers.body)).toBe(200);
  return admin;
}

/** A distinct mobile number per call, so caps and rate limits of one test never reach another. */
export function newMobile(): string {
  seq += 1;
  return `+60 12-${String(300 + seq).padStart(3, '0')} ${String(1000 + (Date.now() % 9000)).slice(0, 4)}`;
}

export interface LiveCall {
  phone: string;
  e164: string;
  code: string;
  link: string | null;
  callbackId: string;
  caseRef: string;
  agentName: string;
}

/** An agent is on the phone with the customer right now, calling from the official number. */
export async function liveCall(t: TestContext, admin: string, options: { phone?: string; agentName?: string } = {}): Promise<LiveCall> {
  seq += 1;
  // Its own category and skill: this test's agent can claim only this callback.
  const category = `pages_${seq}_${Date.now() % 100000}`;
  const policy = await t.request('PUT', `/v1/policies/${category}`, { key: admin, body: { enabled: true, requiredSkill: category } });
  expect(policy.status, JSON.stringify(policy.body)).toBe(200);
  const agentName = options.agentName ?? 'Aisha Rahman';
  const agent = await t.key('agent', { skills: [category], displayName: agentName });
  const phone = options.phone ?? newMobile();
  const caseRef = `PAGES-CASE-${seq}-${Date.now()}`;
  const created = await t.request('POST', '/v1/callbacks', {
    key: agent,
    body: {
      caseRef,
      category,
      phone,
      reason: 'Your December bill',
      firstExplanation: { summary: 'Explained the late fee' },
    },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  expect(await dispatchDue(t.runtime.deps, { callbackId: id, version: created.body.version }, new Date())).toBe('ready');
  const claimed = await t.request('POST', '/v1/agents/me/claim', { key: agent });
  expect(claimed.body?.id).toBe(id);
  const started = await t.request('POST', `/v1/callbacks/${id}/attempts`, { key: agent, body: { callerNumber: OFFICIAL_NUMBER } });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  return {
    phone,
    e164: created.body.phone.e164,
    code: started.body.verification.code,
    link: started.body.verification.link,
    callbackId: id,
    caseRef,
    agentName,
  };
}

/** The token at the end of a `/v/{token}` or `/o/{token}` link. */
export const tokenOf = (link: string) => new URL(link).pathname.split('/').pop()!;

export interface OpenOffer {
  token: string;
  callbackId: string;
  e164: string;
}

/**
 * A callback of a `consent: required` policy, waiting for the customer's answer. The offer is the
 * one creation opened (its link read from the offer SMS) or, where creation does not open one
 * yet, opened here with the consent service itself.
 */
export async function openOffer(t: TestContext, admin: string, options: { phone?: string; reason?: string } = {}): Promise<OpenOffer> {
  seq += 1;
  const category = `consent_${seq}_${Date.now() % 100000}`;
  const policy = await t.request('PUT', `/v1/policies/${category}`, { key: admin, body: { enabled: true, consent: 'required' } });
  expect(policy.status, JSON.stringify(policy.body)).toBe(200);
  const agent = await t.key('agent');
  const created = await t.request('POST', '/v1/callbacks', {
    key: agent,
    body: {
      caseRef: `OFFER-${seq}-${Date.now()}`,
      category,
      phone: options.phone ?? newMobile(),
      reason: options.reason ?? 'Your December bill',
      firstExplanation: { summary: 'Explained the late fee' },
    },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect(created.body.status).toBe('awaiting_consent');
  const callbackId = created.body.id as string;
  const [sms] = await t.sql`select body from sms_messages where callback_id = ${callbackId} and purpose = 'consent_offer'`;
  const linked = sms ? /\/o\/([A-Za-z0-9_-]+)/.exec(sms.body as string)?.[1] : undefined;
  if (linked) return { token: linked, callbackId, e164: created.body.phone.e164 };

  const [row] = await t.runtime.deps.db.select().from(callbacks).where(eq(callbacks.id, callbackId));
  const { offer, token } = offerRows(row!, t.runtime.deps, new Date(), null);
  await insertTogether(t.runtime.deps.db, [rowFor(consentOffers, offer)]);
  return { token, callbackId, e164: created.body.phone.e164 };
}
