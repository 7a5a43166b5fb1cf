import { DateTime } from 'luxon';
import type { AlertSettings } from '../alerts.js';
import type { Overview } from '../overview.js';
import { ActivityChart, RateChart } from './charts.js';
import { CallbackList, CallerNumbers, Customers, PendingExemptions, StateTable } from './dashboard-tables.js';
import { n, pct, local } from './format.js';
import { Card, Layout } from './layout.js';

/** `/ops`: the overview's figures as headline numbers, charts and tables, reloaded by the browser. */

export const REFRESH_SECONDS = 30;

function Kpi(props: { label: string; value: string; sub?: string; tone?: 'ok' | 'warn' | 'bad' }) {
  return (
    <div class={props.tone ? `kpi t-${props.tone}` : 'kpi'}>
      <div class="l">{props.label}</div>
      <div class="v">{props.value}</div>
      {props.sub ? <div class="s">{props.sub}</div> : null}
    </div>
  );
}

const rateTone = (rate: number | null, min: number) => (rate === null ? undefined : rate < min ? 'bad' : 'ok');

function Kpis(props: { o: Overview; alerts: AlertSettings }) {
  const { o, alerts } = props;
  const a = o.callbacks.active;
  return (
    <section class="kpis" aria-label="Key figures">
      <Kpi label="Active callbacks" value={n(a.total)} sub={`${n(a.scheduled)} sched · ${n(a.ready)} ready · ${n(a.claimed + a.in_call)} in work`} />
      <Kpi label="Due next hour" value={n(o.callbacks.dueNextHour)} sub={`${n(a.awaiting_consent)} awaiting consent`} />
      <Kpi label="SLA at risk (2 h)" value={n(o.sla.atRisk.count)} tone={o.sla.atRisk.count > 0 ? 'warn' : 'ok'} />
      <Kpi
        label="SLA breached"
        value={n(o.sla.breached.activeCount)}
        sub={`still open · ${n(o.sla.breached.last24h)} breached in 24 h`}
        tone={o.sla.breached.activeCount > 0 ? 'bad' : 'ok'}
      />
      <Kpi
        label="Answer rate 24 h"
        value={pct(o.attempts.last24h.answerRate)}
        sub={`${n(o.attempts.last24h.connected)}/${n(o.attempts.last24h.withResult)} · 7 d ${pct(o.attempts.last7d.answerRate)}`}
        tone={rateTone(o.attempts.last24h.answerRate, alerts.answerRateMin)}
      />
      <Kpi
        label="Verified 24 h"
        value={pct(o.verification.last24h.rate)}
        sub={`${n(o.verification.last24h.verified)} verified, ${n(o.verification.last24h.connected)} connected · 7 d ${pct(o.verification.last7d.rate)}`}
      />
      <Kpi label="Opt-outs" value={n(o.optOuts.total)} sub={`+${n(o.optOuts.last24h)} in 24 h · +${n(o.optOuts.last7d)} in 7 d`} />
      <Kpi
        label="Scam reports"
        value={n(o.scamReports.last24h)}
        sub={`in 24 h · ${n(o.scamReports.last7d)} in 7 d, ${n(o.scamReports.officialNumberLast7d)} naming our numbers`}
        tone={o.scamReports.officialNumberLast7d > 0 ? 'warn' : undefined}
      />
      <Kpi
        label="Exemptions pending"
        value={n(o.exemptions.pending)}
        sub={`${n(o.exemptions.approvedLast7d)} approved in 7 d`}
        tone={o.exemptions.pending > 0 ? 'warn' : undefined}
      />
    </section>
  );
}

function Charts(props: { o: Overview; alerts: AlertSettings }) {
  const { o } = props;
  const tz = o.timezone;
  const hourly = o.series.hourly.map((p) => ({
    ...p,
    label: local(p.start, tz, 'HH:mm'),
    title: local(p.start, tz, 'LLL d, HH:mm'),
  }));
  const daily = o.series.daily.map((p) => ({
    ...p,
    label: DateTime.fromISO(p.date).toFormat('ccc d'),
    title: DateTime.fromISO(p.date).toFormat('cccc LLL d'),
  }));
  const numbers = o.attempts.byCallerNumber.filter((c) => c.callerNumber !== null);
  return (
    <section class="row c3">
      <Card title="Calls per hour" note="last 24 h">
        <ActivityChart id="hourly" title="Attempts, connected and verified calls per hour, last 24 hours" points={hourly} labelEvery={4} />
      </Card>
      <Card title="Calls per day" note={`last 7 days, ${tz}`}>
        <ActivityChart id="daily" title="Attempts, connected and verified calls per day, last 7 days" points={daily} />
      </Card>
      <Card title="Answer rate by caller number" note="per day">
        {numbers.length === 0 ? (
          <p class="empty">No calls with a caller number in the last 7 days.</p>
        ) : (
          <RateChart
            id="rates"
            title="Answer rate per official caller number per day, last 7 days"
            labels={daily.map((d) => d.label)}
            series={numbers.map((c) => ({ label: c.label ?? c.callerNumber!, values: c.daily.map((d) => d.answerRate) }))}
            threshold={props.alerts.answerRateMin}
          />
        )}
      </Card>
    </section>
  );
}

export function DashboardPage(props: { overview: Overview; alerts: AlertSettings; role: string }) {
  const o = props.overview;
  const meta = `updated ${local(o.generatedAt, o.timezone, 'LLL d, HH:mm:ss')} (${o.timezone}) · refreshes every ${REFRESH_SECONDS} s · signed in as ${props.role}`;
  return (
    <Layout title="Operations · secondcall" refreshSeconds={REFRESH_SECONDS} nav meta={meta}>
      <main>
        <Kpis o={o} alerts={props.alerts} />
        <Charts o={o} alerts={props.alerts} />
        <section class="row c3">
          <StateTable o={o} />
          <CallerNumbers o={o} alerts={props.alerts} />
          <Customers o={o} />
        </section>
        <section class="row c3">
          <CallbackList
            title="SLA at risk"
            note="deadline within 2 h"
            total={o.sla.atRisk.count}
            items={o.sla.atRisk.items}
            o={o}
            empty="No callback is within 2 hours of its deadline."
          />
          <CallbackList
            title="SLA breached, still open"
            note="most overdue first"
            total={o.sla.breached.activeCount}
            items={o.sla.breached.items}
            o={o}
            empty="No open callback is past its deadline."
          />
          <PendingExemptions o={o} />
        </section>
      </main>
    </Layout>
  );
}
