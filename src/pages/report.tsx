/** SPEC §7 scam reports from the not-genuine page: which number called, optionally who was called, what happened. */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { limitPhone, rateLimit } from '../http/rate-limit.js';
import { createScamReport, findOfficialNumber } from '../services/scam-reports.js';
import { loadSetting } from '../services/settings.js';
import { withLang, type PagesEnv } from './context.js';
import { e164Of, readForm } from './forms.js';
import { CsrfField, ErrorSummary, Field, OfficialNumbers, renderPage, TextArea } from './layout.js';

export const REPORT_LIMITS = { callerNumber: 64, reporterPhone: 64, description: 1000 } as const;

export interface ReportFormState {
  callerNumber?: string;
  reporterPhone?: string;
  description?: string;
  errors?: { callerNumber?: string | undefined; description?: string | undefined; reporterPhone?: string | undefined };
}

export function ReportForm(props: { c: Context<PagesEnv>; state: ReportFormState }) {
  const { c, state } = props;
  const m = c.var.m;
  const errors = state.errors ?? {};
  const hasErrors = Boolean(errors.callerNumber || errors.description || errors.reporterPhone);
  return (
    <section class="card" id="report">
      <h2>{m.reportTitle}</h2>
      <p>{m.reportIntro}</p>
      <ErrorSummary message={hasErrors ? m.formHasErrors : null} />
      <form method="post" action={withLang('/report', c.var.lang)} novalidate>
        <CsrfField c={c} />
        <Field
          name="callerNumber"
          type="tel"
          inputmode="tel"
          label={m.reportCallerLabel}
          value={state.callerNumber}
          error={errors.callerNumber}
          maxlength={REPORT_LIMITS.callerNumber}
          required
        />
        <Field
          name="reporterPhone"
          type="tel"
          inputmode="tel"
          autocomplete="tel"
          label={m.reportOwnLabel}
          value={state.reporterPhone}
          error={errors.reporterPhone}
          maxlength={REPORT_LIMITS.reporterPhone}
        />
        <TextArea
          name="description"
          label={m.reportDescriptionLabel}
          value={state.description ?? ''}
          error={errors.description}
          maxlength={REPORT_LIMITS.description}
          required
        />
        <button type="submit" class="button danger">{m.reportSubmit}</button>
      </form>
    </section>
  );
}

function ReportThanks(props: { c: Context<PagesEnv>; callerIsOfficial: boolean; numbers: { number: string; label: string }[] }) {
  const m = props.c.var.m;
  return (
    <>
      <h1>{m.reportThanksTitle}</h1>
      <p>{m.reportThanksBody}</p>
      {props.callerIsOfficial ? <p class="warning">{m.reportCallerIsOfficial}</p> : null}
      <OfficialNumbers m={m} numbers={props.numbers} />
    </>
  );
}

/** Shared with POST /v1/public/reports. */
const REPORT_LIMIT = { scope: 'reports' } as const;

export function reportPages() {
  const app = new Hono<PagesEnv>();

  app.post('/report', rateLimit(REPORT_LIMIT), async (c) => {
    const m = c.var.m;
    const deps = c.var.deps;
    const form = await readForm(c, REPORT_LIMITS);
    const reporterE164 = form.reporterPhone ? e164Of(c, form.reporterPhone) : null;
    const errors = {
      callerNumber: form.callerNumber ? undefined : m.errorRequired,
      description: form.description ? undefined : m.errorRequired,
      reporterPhone: form.reporterPhone && !reporterE164 ? m.errorPhoneInvalid : undefined,
    };
    if (errors.callerNumber || errors.description || errors.reporterPhone) {
      return renderPage(c, {
        title: m.reportTitle,
        status: 422,
        body: <ReportForm c={c} state={{ ...form, errors }} />,
        switchPath: '/verify',
      });
    }
    if (reporterE164) await limitPhone(deps, REPORT_LIMIT, reporterE164);
    const region = deps.config.DEFAULT_REGION;
    await createScamReport(
      deps.db,
      { callerNumber: form.callerNumber!, ownNumber: reporterE164 ?? undefined, description: form.description! },
      region,
      deps.now(),
    );
    const official = await findOfficialNumber(deps.db, form.callerNumber!, region);
    const { numbers } = await loadSetting(deps.db, 'official_numbers');
    return renderPage(c, {
      title: m.reportThanksTitle,
      body: <ReportThanks c={c} callerIsOfficial={official !== null} numbers={numbers} />,
      switchPath: '/verify',
    });
  });

  return app;
}
