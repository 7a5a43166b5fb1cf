/**
 * The texts we send (SPEC §7–§8), in English, Simplified Chinese and Malay. Every text starts with
 * the brand and carries no link, no phone number and no request for personal data unless its kind
 * says so: carriers in several markets block texts that do, and scammers' texts look like that.
 * Links appear only when the caller passes one AND `allowLinks` (SMS_ALLOW_LINKS) is true.
 */

export const SMS_LANGUAGES = ['en', 'zh-CN', 'ms'] as const;
export type SmsLanguage = (typeof SMS_LANGUAGES)[number];

interface LinkVars {
  /** Shown only when `allowLinks` is true as well, so a forgotten setting check fails closed. */
  link?: string | null | undefined;
  allowLinks?: boolean | undefined;
}

export interface SmsTemplateVars {
  /** Sent when an attempt starts: the code the agent will say on the call. */
  pre_call: { brand: string; code: string } & LinkVars;
  /** Answer to "are you calling me?" when a genuine call is under way. The code is optional. */
  call_status_yes: { brand: string; agentName: string; reason: string; code?: string | null | undefined };
  call_status_no: { brand: string };
  /** Policies with consent required: do you want the callback? */
  consent_offer: { brand: string; reason?: string | null | undefined } & LinkVars;
  opt_out_confirmation: { brand: string; scope?: 'all' | 'voice' | 'sms' | undefined };
  /** The code that confirms an opt-out asked for on the web page. */
  opt_out_code: { brand: string; code: string; minutes?: number | undefined };
  /** After the customer answered an offer; `at` is the callback time, shown in `timeZone`. */
  consent_confirmation: { brand: string; accepted: boolean; at?: Date | null | undefined; timeZone?: string | null | undefined };
}

export type SmsKind = keyof SmsTemplateVars;

/** A customer's language tag ("zh", "zh-Hans-SG", "ms-MY", "en-US", null) → one we write texts in. */
export function smsLanguage(tag: string | null | undefined): SmsLanguage {
  const primary = (tag ?? '').trim().toLowerCase().split(/[-_]/)[0];
  if (primary === 'zh') return 'zh-CN';
  if (primary === 'ms') return 'ms';
  return 'en';
}

/** Free text from staff (agent names, reasons) on one line, so it cannot fake a second message. */
const oneLine = (text: string) => text.replace(/\s+/gu, ' ').trim();

const tag = (lang: SmsLanguage, brand: string) => (lang === 'zh-CN' ? `【${oneLine(brand)}】` : `[${oneLine(brand)}]`);

const linkOf = (vars: LinkVars) => (vars.allowLinks === true && vars.link ? vars.link : null);

const LOCALES: Record<SmsLanguage, string> = { en: 'en-US', 'zh-CN': 'zh-CN', ms: 'ms-MY' };

function formatTime(lang: SmsLanguage, at: Date, timeZone: string | null | undefined): string {
  return new Intl.DateTimeFormat(LOCALES[lang], {
    timeZone: timeZone ?? 'UTC',
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(at);
}

type Writers = { [K in SmsKind]: (lang: SmsLanguage, vars: SmsTemplateVars[K]) => string };

const pick = (lang: SmsLanguage, texts: Record<SmsLanguage, string>) => texts[lang];

const WRITERS: Writers = {
  pre_call: (lang, v) => {
    const link = linkOf(v);
    return pick(lang, {
      en: `We will call you about your complaint within 10 minutes. Our agent will tell you the code ${v.code}. Never tell a caller any code.${link ? ` Check the call: ${link}` : ''}`,
      'zh-CN': `我们将在10分钟内就您的投诉致电您。客服会告诉您验证码${v.code}。请勿向来电者透露任何验证码。${link ? `核实来电：${link}` : ''}`,
      ms: `Kami akan menghubungi anda tentang aduan anda dalam masa 10 minit. Ejen kami akan memberitahu anda kod ${v.code}. Jangan beritahu sebarang kod kepada pemanggil.${link ? ` Semak panggilan: ${link}` : ''}`,
    });
  },
  call_status_yes: (lang, v) => {
    const agent = oneLine(v.agentName);
    const reason = oneLine(v.reason);
    const code = v.code ?? null;
    return pick(lang, {
      en: `Yes, our agent ${agent} is calling you now about: ${reason}.${code ? ` The agent will tell you the code ${code}.` : ''} Never tell a caller any code.`,
      'zh-CN': `是的，我们的客服${agent}正在就以下事项致电您：${reason}。${code ? `客服会告诉您验证码${code}。` : ''}请勿向来电者透露任何验证码。`,
      ms: `Ya, ejen kami ${agent} sedang menghubungi anda tentang: ${reason}.${code ? ` Ejen akan memberitahu anda kod ${code}.` : ''} Jangan beritahu sebarang kod kepada pemanggil.`,
    });
  },
  call_status_no: (lang) =>
    pick(lang, {
      en: 'We are NOT calling you right now. Hang up.',
      'zh-CN': '我们现在没有给您打电话。请立即挂断。',
      ms: 'Kami TIDAK menghubungi anda sekarang. Letakkan telefon.',
    }),
  consent_offer: (lang, v) => {
    const link = linkOf(v);
    const reason = v.reason ? oneLine(v.reason) : null;
    return pick(lang, {
      en: `About your complaint${reason ? ` (${reason})` : ''}: would you like us to call you back to explain again? Reply 1 or YES for a call, 2 or NO for no call.${link ? ` Or pick a time: ${link}` : ''}`,
      'zh-CN': `关于您的投诉${reason ? `（${reason}）` : ''}：您希望我们回电再次说明吗？需要回电请回复1或"是"，不需要请回复2或"否"。${link ? `也可选择时间：${link}` : ''}`,
      ms: `Mengenai aduan anda${reason ? ` (${reason})` : ''}: adakah anda mahu kami menghubungi anda semula untuk menerangkan sekali lagi? Balas 1 atau YA untuk panggilan, 2 atau TIDAK jika tidak mahu.${link ? ` Atau pilih masa: ${link}` : ''}`,
    });
  },
  opt_out_confirmation: (lang, v) => {
    const scope = v.scope ?? 'all';
    const what = {
      en: { all: 'call or text', voice: 'call', sms: 'text' }[scope],
      'zh-CN': { all: '致电或发短信给', voice: '致电', sms: '发短信给' }[scope],
      ms: { all: 'menghubungi atau menghantar SMS kepada', voice: 'menghubungi', sms: 'menghantar SMS kepada' }[scope],
    };
    return pick(lang, {
      en: `You have opted out. We will not ${what.en} you about complaint callbacks again.`,
      'zh-CN': `您已退订。我们将不再就投诉回电事宜${what['zh-CN']}您。`,
      ms: `Anda telah menarik diri. Kami tidak akan ${what.ms} anda lagi tentang panggilan semula aduan.`,
    });
  },
  opt_out_code: (lang, v) => {
    const minutes = v.minutes ?? 15;
    return pick(lang, {
      en: `Your opt-out code is ${v.code}. It expires in ${minutes} minutes. If you did not ask to opt out, ignore this text.`,
      'zh-CN': `您的退订验证码是${v.code}，${minutes}分钟内有效。如非本人操作，请忽略本短信。`,
      ms: `Kod tarik diri anda ialah ${v.code}. Sah selama ${minutes} minit. Jika anda tidak memintanya, abaikan SMS ini.`,
    });
  },
  consent_confirmation: (lang, v) => {
    if (!v.accepted) {
      return pick(lang, {
        en: 'Thank you. We will not call you back about this complaint.',
        'zh-CN': '谢谢。我们不会就此投诉再回电给您。',
        ms: 'Terima kasih. Kami tidak akan menghubungi anda semula tentang aduan ini.',
      });
    }
    const when = v.at ? formatTime(lang, v.at, v.timeZone) : null;
    return pick(lang, {
      en: `Thank you. We will call you back about your complaint${when ? ` from ${when}` : ''}.`,
      'zh-CN': `谢谢。我们将${when ? `于${when}起` : ''}就您的投诉回电给您。`,
      ms: `Terima kasih. Kami akan menghubungi anda semula tentang aduan anda${when ? ` mulai ${when}` : ''}.`,
    });
  },
};

/** The text of one SMS: the brand tag, then the kind's message in the customer's language. */
export function smsText<K extends SmsKind>(kind: K, lang: SmsLanguage, vars: SmsTemplateVars[K]): string {
  const write = WRITERS[kind] as (lang: SmsLanguage, vars: SmsTemplateVars[K]) => string;
  const body = write(lang, vars);
  return lang === 'zh-CN' ? `${tag(lang, vars.brand)}${body}` : `${tag(lang, vars.brand)} ${body}`;
}
