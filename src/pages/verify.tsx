/**
 * SPEC §7 on the web: /verify (phone + code), /v/{token} (the SMS link), the genuine and
 * not-genuine results, and the scam report form shown with "not genuine".
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { limitPhone, rateLimit } from '../http/rate-limit.js';
import type { Messages } from '../i18n/index.js';
import { loadSetting } from '../services/settings.js';
import { checkCode, checkLink, type VerifyResult } from '../verification/check.js';
import { withLang, type PagesEnv } from './context.js';
import { e164Of, isSixDigits, normalizeCode, readForm } from './forms.js';
import { CsrfField, displayPhone, ErrorSummary, Field, OfficialNumbers, renderPage, ResultBanner } from './layout.js';
import { ReportForm } from './report.js';

/** Shared with POST /v1/public/verify, so the page is no way around the API's budget. */
const VERIFY_LIMIT = { scope: 'verify' } as const;

interface VerifyFormState {
  phone?: string;
  code?: string;
  errors?: { phone?: string | undefined; code?: string | undefined };
}

function VerifyForm(props: { c: Context<PagesEnv>; state: VerifyFormState }) {
  const { c, state } = props;
  const m = c.var.m;
  const brand = c.var.deps.config.BRAND_NAME;
  const hasErrors = Boolean(state.errors?.phone || state.errors?.code);
  return (
    <>
      <h1>{m.verifyTitle({ brand })}</h1>
      <p>{m.verifyIntro}</p>
      <p class="warning">{m.verifyNeverReadCode}</p>
      <ErrorSummary message={hasErrors ? m.formHasErrors : null} />
      <form method="post" action={withLang('/verify', c.var.lang)} class="card" novalidate>
        <CsrfField c={c} />
        <Field
          name="phone"
          type="tel"
          inputmode="tel"
          autocomplete="tel"
          label={m.phoneLabel}
          hint={m.phoneHint}
          value={state.phone}
          error={state.errors?.phone}
          maxlength={64}
          required
        />
        <Field
          name="code"
          inputmode="numeric"
          autocomplete="one-time-code"
          label={m.codeLabel}
          value={state.code}
          error={state.errors?.code}
          maxlength={12}
          className="code"
          required
        />
        <button type="submit" class="button">{m.verifySubmit}</button>
      </form>
    </>
  );
}

function GenuineView(props: { m: Messages; result: Extract<VerifyResult, { genuine: true }> }) {
  const { m, result } = props;
  const facts: [string, string][] = [
    [m.genuineCompany, result.company],
    [m.genuineAgent, result.agentName],
    [m.genuineReason, result.reason],
    [m.genuineCaseRef, result.caseRef],
  ];
  if (result.callerNumber) facts.push([m.genuineCallerNumber, displayPhone(result.callerNumber)]);
  return (
    <>
      <ResultBanner kind="genuine" badge={m.genuineBadge} title={m.genuineTitle({ company: result.company })} lead={m.genuineLead} />
      <section class="card">
        <dl class="facts">
          {facts.map(([term, value]) => (
            <div>
              <dt>{term}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      </section>
      <p class="warning">{m.genuineAdvice}</p>
    </>
  );
}

interface OfficialNumber {
  number: string;
  label: string;
}

function NotGenuineView(props: { c: Context<PagesEnv>; numbers: OfficialNumber[]; ownPhone?: string | undefined }) {
  const { c, numbers } = props;
  const m = c.var.m;
  return (
    <>
      <ResultBanner kind="danger" badge={m.notGenuineBadge} title={m.notGenuineTitle} lead={m.notGenuineLead} />
      <ol class="steps">
        <li>{m.notGenuineHangUp}</li>
        <li>{m.notGenuineNoDetails}</li>
        <li>{m.notGenuineCallUs}</li>
      </ol>
      <OfficialNumbers m={m} numbers={numbers} />
      <ReportForm c={c} state={{ reporterPhone: props.ownPhone ?? '' }} />
      <p>
        {m.notGenuineTypo} <a href={withLang('/verify', c.var.lang)}>{m.checkAgain}</a>
      </p>
    </>
  );
}

/** Both answers have the same status and the same headers: only the words differ. */
export async function renderResult(c: Context<PagesEnv>, result: VerifyResult, ownPhone?: string) {
  const m = c.var.m;
  if (result.genuine) {
    return renderPage(c, {
      title: m.genuineTitle({ company: result.company }),
      tone: 'genuine',
      body: <GenuineView m={m} result={result} />,
      switchPath: '/verify',
    });
  }
  const { numbers } = await loadSetting(c.var.deps.db, 'official_numbers');
  return renderPage(c, {
    title: m.notGenuineTitle,
    tone: 'danger',
    body: <NotGenuineView c={c} numbers={numbers} ownPhone={ownPhone} />,
    switchPath: '/verify',
  });
}

export function verifyPages() {
  const app = new Hono<PagesEnv>();

  app.get('/verify', rateLimit({ scope: 'pages', failOpen: true }), (c) =>
    renderPage(c, { title: c.var.m.verifyTitle({ brand: c.var.deps.config.BRAND_NAME }), body: <VerifyForm c={c} state={{}} /> }),
  );

  app.post('/verify', rateLimit(VERIFY_LIMIT), async (c) => {
    const m = c.var.m;
    const form = await readForm(c, { phone: 64, code: 20 });
    const errors = {
      phone: form.phone ? undefined : m.errorPhoneRequired,
      code: isSixDigits(form.code!) ? undefined : m.errorCodeFormat,
    };
    if (errors.phone || errors.code) {
      return renderPage(c, {
        title: m.verifyTitle({ brand: c.var.deps.config.BRAND_NAME }),
        status: 422,
        body: <VerifyForm c={c} state={{ phone: form.phone!, code: form.code!, errors }} />,
      });
    }
    const deps = c.var.deps;
    await limitPhone(deps, VERIFY_LIMIT, e164Of(c, form.phone!) ?? form.phone!);
    const result = await checkCode(deps, { phone: form.phone!, code: normalizeCode(form.code!) }, deps.now());
    return renderResult(c, result, form.phone);
  });

  // The token is in the path: Referrer-Policy no-referrer keeps it from leaking to any link target.
  app.get('/v/:token', rateLimit({ scope: 'verify-link' }), async (c) => {
    const token = c.req.param('token');
    const deps = c.var.deps;
    const result = token.length <= 128 ? await checkLink(deps, token, deps.now()) : ({ genuine: false } as const);
    return renderResult(c, result);
  });

  return app;
}
