import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for Twilio's Messages API, for what secondcall uses: POST
 * /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP basic auth (sid:token) and a form body
 * (To, From or MessagingServiceSid, Body). It answers like Twilio (201 with the message resource,
 * or an error object {code, message, more_info, status}) and records every request it receives.
 */

export interface FakeTwilioRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Whether the basic credentials were the account's. */
  authorized: boolean;
  form: Record<string, string>;
  /** Status answered (0 when the connection was dropped). */
  status: number;
}

export interface FakeTwilioMessage {
  sid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
}

export interface FakeTwilio {
  /** The API base to put in TWILIO_API_BASE. */
  readonly apiBase: string;
  readonly accountSid: string;
  readonly authToken: string;
  readonly requests: FakeTwilioRequest[];
  /** Messages answered with 201, in order. */
  readonly messages: FakeTwilioMessage[];
  /** The next `count` well-formed requests get this status (500, 429, 400…) instead of 201. */
  failNext(status: number, count?: number): void;
  /** The next `count` requests have their connection destroyed without an answer. */
  dropNext(count?: number): void;
  reset(): void;
  close(): Promise<void>;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Twilio's error bodies for the statuses tests ask for. */
const ERRORS: Record<number, { code: number; message: string }> = {
  400: { code: 21211, message: "The 'To' number is not a valid phone number." },
  401: { code: 20003, message: 'Authenticate' },
  404: { code: 20404, message: 'The requested resource was not found' },
  429: { code: 20429, message: 'Too Many Requests' },
  500: { code: 20500, message: 'Internal Server Error' },
  503: { code: 20503, message: 'Service Unavailable' },
};

function errorBody(status: number, override?: { code: number; message: string }) {
  const e = override ?? ERRORS[status] ?? { code: 20001, message: `HTTP ${status}` };
  return { code: e.code, message: e.message, more_info: `https://www.twilio.com/docs/errors/${e.code}`, status };
}

function parseBasic(header: string | undefined): [string, string] | null {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

/** Twilio's own validation of a create-message request, for the fields we send. */
function formProblem(form: Record<string, string>): { code: number; message: string } | null {
  if (!form.To) return { code: 21604, message: "A 'To' phone number is required." };
  if (!form.From && !form.MessagingServiceSid) return { code: 21603, message: "A 'From' phone number is required." };
  if (form.From && form.MessagingServiceSid) return { code: 21603, message: 'Use either From or MessagingServiceSid, not both.' };
  if (!form.Body) return { code: 21602, message: 'Message body is required.' };
  if (form.Body.length > 1600) return { code: 21617, message: 'The concatenated message body exceeds the 1600 character limit.' };
  return null;
}

export async function startFakeTwilio(options: { accountSid?: string; authToken?: string } = {}): Promise<FakeTwilio> {
  const accountSid = options.accountSid ?? `AC${hex(16)}`;
  const authToken = options.authToken ?? hex(16);
  const requests: FakeTwilioRequest[] = [];
  const messages: FakeTwilioMessage[] = [];
  let failures: number[] = [];
  let drops = 0;
  const messagesPath = `/2010-04-01/Accounts/${accountSid}/Messages.json`;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const form = Object.fromEntries(new URLSearchParams(raw));
      const credentials = parseBasic(req.headers.authorization);
      const entry: FakeTwilioRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        authorized: credentials?.[0] === accountSid && credentials[1] === authToken,
        form,
        status: 0,
      };
      requests.push(entry);
      const answer = (status: number, body: unknown) => {
        entry.status = status;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };

      if (drops > 0) {
        drops -= 1;
        req.socket.destroy();
        return;
      }
      if (!entry.authorized) return answer(401, errorBody(401));
      if (entry.method !== 'POST' || entry.path !== messagesPath) return answer(404, errorBody(404));
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (contentType !== 'application/x-www-form-urlencoded') {
        return answer(400, errorBody(400, { code: 20001, message: 'Expected a form-encoded body' }));
      }
      const problem = formProblem(form);
      if (problem) return answer(400, errorBody(400, problem));
      const forced = failures.shift();
      if (forced !== undefined) return answer(forced, errorBody(forced));

      const message: FakeTwilioMessage = {
        sid: `SM${hex(16)}`,
        to: form.To!,
        from: form.From ?? null,
        messagingServiceSid: form.MessagingServiceSid ?? null,
        body: form.Body!,
      };
      messages.push(message);
      const now = new Date().toUTCString();
      answer(201, {
        sid: message.sid,
        account_sid: accountSid,
        to: message.to,
        from: message.from,
        messaging_service_sid: message.messagingServiceSid,
        body: message.body,
        status: 'queued',
        direction: 'outbound-api',
        num_segments: '1',
        num_media: '0',
        price: null,
        error_code: null,
        error_message: null,
        api_version: '2010-04-01',
        date_created: now,
        date_updated: now,
        date_sent: null,
        uri: `/2010-04-01/Accounts/${accountSid}/Messages/${message.sid}.json`,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    apiBase: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    requests,
    messages,
    failNext: (status, count = 1) => {
      failures.push(...Array.from({ length: count }, () => status));
    },
    dropNext: (count = 1) => {
      drops += count;
    },
    reset: () => {
      requests.length = 0;
      messages.length = 0;
      failures = [];
      drops = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * X-Twilio-Signature as Twilio documents it: the full URL Twilio requested, then for a form POST
 * each parameter name followed by its value, names sorted (the distinct values of a repeated name
 * sorted, each once), HMAC-SHA1 keyed with the auth token, base64. Written independently of the
 * production check.
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string | string[]>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, name) => {
      const value = params[name]!;
      const values = Array.isArray(value) ? [...new Set(value)].sort() : [value];
      return acc + values.map((v) => name + v).join('');
    }, url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

/** Form fields of an inbound SMS webhook as Twilio posts them. */
export function inboundSmsParams(input: { from: string; to: string; body: string; messageSid?: string; accountSid?: string }): Record<string, string> {
  const sid = input.messageSid ?? `SM${hex(16)}`;
  return {
    ToCountry: 'US',
    ToState: 'NY',
    SmsMessageSid: sid,
    NumMedia: '0',
    ToCity: 'NEW YORK',
    FromZip: '',
    SmsSid: sid,
    FromState: 'NY',
    SmsStatus: 'received',
    FromCity: 'NEW YORK',
    Body: input.body,
    FromCountry: 'US',
    To: input.to,
    ToZip: '',
    NumSegments: '1',
    MessageSid: sid,
    AccountSid: input.accountSid ?? `AC${hex(16)}`,
    From: input.from,
    ApiVersion: '2010-04-01',
  };
}
