/**
 * SPEC §7 "is the company calling me right now?": the answer goes by SMS to the number asked
 * about, never to whoever asked, so typing someone else's number reveals nothing.
 *
 * "Yes" means: a callback of that number is `in_call`, its attempt has not ended and its
 * verification session has not expired. The "yes" text names the agent and the reason but carries
 * no code: the session's code is stored only as a hash and cannot be recovered, and a fresh code
 * the agent does not know would be useless. The pre-call SMS already carried the code.
 */
import { sql } from 'drizzle-orm';
import type { AppDeps } from '../http/context.js';
import { canReceiveSms, parsePhone } from '../domain/phone.js';
import { flushSms, queueSms } from '../notify/sms.js';
import { smsLanguage, smsText } from '../notify/sms-templates.js';

type Deps = Pick<AppDeps, 'db' | 'config' | 'queues' | 'logger'>;

interface StatusRow extends Record<string, unknown> {
  callback_id: string;
  language: string | null;
  reason: string;
  agent_name: string | null;
  calling: boolean;
}

/**
 * The number's callback that is being called now if there is one, else its latest callback (for
 * the language of the "no" text). One statement either way.
 */
async function currentCall(deps: Deps, e164: string, now: Date): Promise<StatusRow | undefined> {
  const at = now.toISOString();
  const rows = await deps.db.execute<StatusRow>(sql`
    select c.id as callback_id, c.customer_language as language, c.reason, ag.display_name as agent_name,
      (c.status = 'in_call' and live.attempt_id is not null) as calling
    from callbacks c
    left join lateral (
      select a.id as attempt_id, a.agent_id
      from verification_sessions s join attempts a on a.id = s.attempt_id
      where s.callback_id = c.id and a.ended_at is null
        and s.valid_from <= ${at}::timestamptz and s.expires_at > ${at}::timestamptz
      order by s.valid_from desc
      limit 1
    ) live on true
    left join agents ag on ag.id = live.agent_id
    where c.phone_e164 = ${e164}
    order by calling desc, c.created_at desc
    limit 1`);
  return rows[0];
}

/** Queues the yes/no text to `e164` (nothing for numbers that cannot receive texts or refused them). */
export async function answerCallStatus(deps: Deps, e164: string, now: Date): Promise<void> {
  const parsed = parsePhone(e164, null);
  if (!parsed.ok || !canReceiveSms(parsed.phone.type)) return;
  const to = parsed.phone.e164;
  const brand = deps.config.BRAND_NAME;
  const call = await currentCall(deps, to, now);
  const lang = smsLanguage(call?.language);
  const message = call?.calling
    ? {
        to,
        body: smsText('call_status_yes', lang, { brand, agentName: call.agent_name ?? brand, reason: call.reason }),
        purpose: 'call_status' as const,
        callbackId: call.callback_id,
      }
    : { to, body: smsText('call_status_no', lang, { brand }), purpose: 'call_status' as const };
  const queued = await queueSms(deps.db, message);
  if (queued) await flushSms(deps, [queued.id]);
}
