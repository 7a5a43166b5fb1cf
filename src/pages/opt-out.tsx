/**
 * SPEC §8 on the web: /opt-out takes a number and a scope, texts a code to that number, and
 * registers the opt-out only with that code. The page never says whether the number is known.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { limitPhone, rateLimit } from '../http/rate-limit.js';
import { confirmOptOut, requestOptOut } from '../services/opt-out-requests.js';
import type { OptOutScope } from '../services/opt-outs.js';
import { withLang, type PagesEnv } from './context.js';
import { e164Of, isSixDigits, normalizeCode, readForm } from './forms.js';
import { CsrfField, displayPhone, ErrorSummary, Field, renderPage } from './layout.js';

const SCOPES: readonly OptOutScope[] = ['all', 'voice', 'sms'];
const isScope = (value: string): value is OptOutScope => (SCOPES as readonly string[]).includes(value);

/** Shared with POST /v1/public/opt-outs and /v1/public/opt-outs/confirm. */
const REQUEST_LIMIT = { scope: 'opt-outs' } as const;
const CONFIRM_LIMIT = { scope: 'opt-outs-confirm' } as const;

function scopeLabel(c: Context<PagesEnv>, scope: OptOutScope): string {
  const m = c.var.m;
  return { all: m.scopeAll, voice: m.scopeVoice, sms: m.scopeSms }[scope];
}

function RequestForm(props: { c: Context<PagesEnv>; phone?: string; scope?: OptOutScope; error?: string | undefined }) {
  const { c } = props;
  const m = c.var.m;
  const chosen = props.scope ?? 'all';
  return (
    <>
      <h1>{m.optOutTitle({ brand: c.var.deps.config.BRAND_NAME })}</h1>
      <p>{m.optOutIntro}</p>
      <ErrorSummary message={props.error ? m.formHasErrors : null} />
      <form method="post" action={withLang('/opt-out', c.var.lang)} class="card" novalidate>
        <CsrfField c={c} />
        <Field
          name="phone"
          type="tel"
          inputmode="tel"
          autocomplete="tel"
          label={m.optOutPhoneLabel}
          hint={m.phoneHint}
          value={props.phone}
          error={props.error}
          maxlength={64}
          required
        />
        <fieldset>
          <legend>{m.optOutScopeLegend}</legend>
          {SCOPES.map((scope) => (
            <label class="choice">
              <input type="radio" name="scope" value={scope} checked={scope === chosen} />
              <span>{scopeLabel(c, scope)}</span>
            </label>
          ))}
        </fieldset>
        <button type="submit" class="button">{m.optOutSubmit}</button>
      </form>
      <p>{m.optOutSmsHint}</p>
    </>
  );
}

function CodeForm(props: { c: Context<PagesEnv>; e164: string; error?: string | undefined }) {
  const { c, e164 } = props;
  const m = c.var.m;
  return (
    <>
      <h1>{m.optOutCodeTitle}</h1>
      <p>{m.optOutCodeBody({ phone: displayPhone(e164) })}</p>
      <form method="post" action={withLang('/opt-out/confirm', c.var.lang)} class="card" novalidate>
        <CsrfField c={c} />
        <input type="hidden" name="phone" value={e164} />
        <Field
          name="code"
          inputmode="numeric"
          autocomplete="one-time-code"
          label={m.optOutCodeLabel}
          error={props.error}
          maxlength={12}
          className="code"
          required
        />
        <button type="submit" class="button">{m.optOutConfirm}</button>
      </form>
      <a class="button secondary" href={withLang('/opt-out', c.var.lang)}>
        {m.startAgain}
      </a>
    </>
  );
}

function Done(props: { c: Context<PagesEnv>; scope: OptOutScope }) {
  const m = props.c.var.m;
  const brand = props.c.var.deps.config.BRAND_NAME;
  const text = { all: m.optOutDoneAll, voice: m.optOutDoneVoice, sms: m.optOutDoneSms }[props.scope]({ brand });
  return (
    <>
      <h1>{m.optOutDoneTitle}</h1>
      <p class="card">{text}</p>
    </>
  );
}

export function optOutPages() {
  const app = new Hono<PagesEnv>();
  const title = (c: Context<PagesEnv>) => c.var.m.optOutTitle({ brand: c.var.deps.config.BRAND_NAME });

  app.get('/opt-out', rateLimit({ scope: 'pages', failOpen: true }), (c) =>
    renderPage(c, { title: title(c), body: <RequestForm c={c} /> }),
  );

  app.post('/opt-out', rateLimit(REQUEST_LIMIT), async (c) => {
    const m = c.var.m;
    const deps = c.var.deps;
    const form = await readForm(c, { phone: 64, scope: 10 });
    const scope = isScope(form.scope!) ? form.scope : 'all';
    const e164 = form.phone ? e164Of(c, form.phone) : null;
    if (!e164) {
      const error = form.phone ? m.errorPhoneInvalid : m.errorPhoneRequired;
      return renderPage(c, { title: title(c), status: 422, body: <RequestForm c={c} phone={form.phone!} scope={scope} error={error} /> });
    }
    await limitPhone(deps, REQUEST_LIMIT, e164);
    await requestOptOut(deps, { phone: e164, scope, lang: c.var.lang }, deps.now());
    return renderPage(c, { title: m.optOutCodeTitle, body: <CodeForm c={c} e164={e164} />, switchPath: '/opt-out' });
  });

  app.post('/opt-out/confirm', rateLimit(CONFIRM_LIMIT), async (c) => {
    const m = c.var.m;
    const deps = c.var.deps;
    const form = await readForm(c, { phone: 64, code: 20 });
    const e164 = form.phone ? e164Of(c, form.phone) : null;
    if (!e164) return renderPage(c, { title: title(c), status: 422, body: <RequestForm c={c} error={m.errorPhoneRequired} />, switchPath: '/opt-out' });
    if (!isSixDigits(form.code!)) {
      return renderPage(c, { title: m.optOutCodeTitle, status: 422, body: <CodeForm c={c} e164={e164} error={m.errorCodeFormat} />, switchPath: '/opt-out' });
    }
    await limitPhone(deps, CONFIRM_LIMIT, e164);
    const confirmed = await confirmOptOut(deps, { phone: e164, code: normalizeCode(form.code!), lang: c.var.lang }, deps.now());
    if (!confirmed) {
      return renderPage(c, { title: m.optOutCodeTitle, status: 422, body: <CodeForm c={c} e164={e164} error={m.optOutWrongCode} />, switchPath: '/opt-out' });
    }
    return renderPage(c, { title: m.optOutDoneTitle, body: <Done c={c} scope={confirmed.scope} />, switchPath: '/opt-out' });
  });

  return app;
}
