import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';

export type SmsProviderName = 'log' | 'twilio';

export interface OutboundSms {
  /** E.164. */
  to: string;
  body: string;
}

export interface SmsProvider {
  name: SmsProviderName;
  send(msg: OutboundSms): Promise<{ providerId: string }>;
}

/**
 * A send that did not go through. `permanent`: the provider refused this message (a 4xx other
 * than 429) and sending it again would be refused again; otherwise a retry may succeed.
 */
export class SmsSendError extends Error {
  override readonly name = 'SmsSendError';

  constructor(
    message: string,
    readonly permanent: boolean,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

export const TWILIO_TIMEOUT_MS = 10_000;
const MAX_ERROR_LENGTH = 500;

/** SMS_PROVIDER=log (the default): the sms_messages row is the record; nothing leaves the process. */
export function logProvider(): SmsProvider {
  return { name: 'log', send: async () => ({ providerId: `log-${randomUUID()}` }) };
}

export interface TwilioOptions {
  accountSid: string;
  authToken: string;
  /** A sender number (E.164 or short code), or a Messaging Service SID (MG…). */
  from: string;
  apiBase: string;
  timeoutMs?: number;
}

/** The form Twilio's Messages API takes; a Messaging Service picks the sender from its pool. */
export function twilioForm(from: string, msg: OutboundSms): URLSearchParams {
  const form = new URLSearchParams({ To: msg.to, Body: msg.body });
  if (from.startsWith('MG')) form.set('MessagingServiceSid', from);
  else form.set('From', from);
  return form;
}

async function twilioErrorText(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    const code = typeof body.code === 'number' ? ` code ${body.code}` : '';
    const message = typeof body.message === 'string' ? `: ${body.message}` : '';
    return `twilio HTTP ${res.status}${code}${message}`.slice(0, MAX_ERROR_LENGTH);
  } catch {
    return `twilio HTTP ${res.status}`;
  }
}

function networkErrorText(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `twilio timeout after ${timeoutMs} ms`;
  if (err instanceof Error) {
    const code = (err.cause as { code?: unknown } | undefined)?.code;
    return `twilio ${typeof code === 'string' ? `${err.message}: ${code}` : err.message}`.slice(0, MAX_ERROR_LENGTH);
  }
  return `twilio ${String(err)}`.slice(0, MAX_ERROR_LENGTH);
}

/**
 * Twilio's REST API (POST …/Accounts/{sid}/Messages.json). 201 carries the message SID. 429 and
 * 5xx are worth retrying; other 4xx (invalid number, unsubscribed recipient, bad credentials) are
 * not. A timeout is ambiguous (Twilio may have taken the message) and is retried: a repeated
 * pre-call code is harmless, a missing one leaves the customer unable to verify the call.
 */
export function twilioProvider(options: TwilioOptions): SmsProvider {
  const timeoutMs = options.timeoutMs ?? TWILIO_TIMEOUT_MS;
  const url = `${options.apiBase.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  return {
    name: 'twilio',
    async send(msg) {
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: twilioForm(options.from, msg).toString(),
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw new SmsSendError(networkErrorText(err, timeoutMs), false);
      }
      if (res.status === 201 || res.status === 200) {
        const body = (await res.json().catch(() => null)) as { sid?: unknown } | null;
        if (typeof body?.sid === 'string' && body.sid.length > 0) return { providerId: body.sid };
        // Twilio took the message but we cannot tell which one it is; sending again would text twice.
        throw new SmsSendError(`twilio HTTP ${res.status} without a message sid`, true, res.status);
      }
      const permanent = res.status >= 300 && res.status < 500 && res.status !== 429;
      throw new SmsSendError(await twilioErrorText(res), permanent, res.status);
    },
  };
}

export function createSmsProvider(config: Config): SmsProvider {
  if (config.SMS_PROVIDER === 'log') return logProvider();
  const { TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM } = config;
  if (!TWILIO_ACCOUNT_SID || !TWILIO_AUTH_TOKEN || !TWILIO_FROM) {
    // loadConfig refuses this combination; a hand-built config in a test could still reach here.
    throw new SmsSendError('SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM', true);
  }
  return twilioProvider({ accountSid: TWILIO_ACCOUNT_SID, authToken: TWILIO_AUTH_TOKEN, from: TWILIO_FROM, apiBase: config.TWILIO_API_BASE });
}
