import { createHash } from 'node:crypto';
import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';
import { DateTime } from 'luxon';
import type { getCallback } from '../services/callbacks.js';
import type { AlertSettings } from './alerts.js';
import { ActivityChart, RateChart } from './charts.js';
import type { Overview } from './overview.js';

/** Server-rendered ops pages (SPEC §9): one stylesheet inline, no script, no external asset. */

export const REFRESH_SECONDS = 30;

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:13px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2533;background:#eef1f5}
a{color:#1d4ed8;text-decoration:none}a:hover{text-decoration:underline}
header{display:flex;align-items:center;gap:16px;padding:8px 16px;background:#1d2533;color:#e5e9f0}
header h1{font-size:15px;margin:0;font-weight:600}header .meta{color:#aab4c3;font-size:12px;flex:1}
header nav{display:flex;gap:12px;align-items:center}header nav a{color:#e5e9f0}
header form{margin:0}
button{font:inherit;cursor:pointer;border:1px solid #8391a7;background:transparent;color:inherit;border-radius:4px;padding:2px 10px}
main{padding:10px 16px 24px;display:flex;flex-direction:column;gap:10px}
.kpis{display:grid;grid-template-columns:repeat(9,1fr);gap:8px}
.kpi{background:#fff;border-radius:6px;padding:6px 10px;border-left:4px solid #94a3b8}
.kpi .v{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}
.kpi .l{font-size:11px;color:#536072;text-transform:uppercase;letter-spacing:.03em}
.kpi .s{font-size:11px;color:#536072}
.kpi.t-ok{border-left-color:#16a34a}.kpi.t-warn{border-left-color:#d97706}.kpi.t-bad{border-left-color:#dc2626}.kpi.t-bad .v{color:#b91c1c}
.row{display:grid;gap:10px}.row.c3{grid-template-columns:repeat(3,minmax(0,1fr))}
.card{background:#fff;border-radius:6px;padding:8px 12px;min-width:0}
.card h2{font-size:12px;margin:0 0 6px;color:#36404f;text-transform:uppercase;letter-spacing:.03em}
.card h2 small{text-transform:none;letter-spacing:0;color:#6b7687;font-weight:400}
.scroll{max-height:250px;overflow:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #e5e9f0;vertical-align:top}
th{font-weight:600;color:#536072;font-size:11px}
td.n,th.n{text-align:right}
tr.sub th{padding-top:8px;color:#1d2533}
.bad{color:#b91c1c;font-weight:600}.muted{color:#6b7687}.empty{color:#6b7687;padding:6px 0}
.chart{width:100%;height:auto;display:block}
.chart .grid{stroke:#e5e9f0}.chart .axis{stroke:#94a3b8}
.chart .tick,.chart .legend{font-size:10px;fill:#536072}
.chart .hit{fill:transparent}
.c-attempts{fill:#c7d2fe}.c-connected{fill:#4f46e5}.c-verified{fill:#16a34a}
.chart .threshold{stroke:#dc2626;stroke-dasharray:4 3}
.chart .line{fill:none;stroke-width:2}
.s0{stroke:#4f46e5;fill:#4f46e5}.s1{stroke:#0891b2;fill:#0891b2}.s2{stroke:#d97706;fill:#d97706}
.s3{stroke:#db2777;fill:#db2777}.s4{stroke:#65a30d;fill:#65a30d}.s5{stroke:#7c3aed;fill:#7c3aed}
.swatch{stroke:none}
.login{max-width:420px;margin:12vh auto;background:#fff;border-radius:8px;padding:20px 24px}
.login h1{font-size:18px;margin:0 0 12px}.login label{display:block;margin-bottom:4px;font-weight:600}
.login input{width:100%;font:inherit;padding:6px 8px;border:1px solid #94a3b8;border-radius:4px;margin-bottom:12px}
.login button{background:#1d4ed8;color:#fff;border-color:#1d4ed8;padding:6px 16px}
.error{color:#b91c1c;margin:0 0 12px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:3px 12px;margin:0}dt{color:#536072}dd{margin:0}
pre{margin:0;white-space:pre-wrap;word-break:break-word;font-size:11px}
`;

/** The stylesheet is the only inline content, allowed by its hash: no 'unsafe-inline' anywhere. */
const STYLE_HASH = createHash('sha256').update(CSS).digest('base64');

export const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${STYLE_HASH}'`,
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const nf = new Intl.NumberFormat('en-US');
const n = (v: number) => nf.format(v);
const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(v >= 0.995 || v === 0 ? 0 : 1)}%`);
const local = (iso: string | null, tz: string, format = 'LLL d, HH:mm') =>
  iso === null ? '–' : DateTime.fromISO(iso, { zone: tz }).toFormat(format);

/** "in 1 h 20 min" / "2 h 5 min ago", to the minute. */
export function relative(iso: string, nowIso: string): string {
  const minutes = Math.round((Date.parse(iso) - Date.parse(nowIso)) / 60_000);
  const abs = Math.abs(minutes);
  const text = abs >= 60 ? `${Math.floor(abs / 60)} h ${abs % 60} min` : `${abs} min`;
  return minutes >= 0 ? `in ${text}` : `${text} ago`;
}

function Layout(props: { title: string; refresh?: boolean; nav?: boolean; meta?: string; children?: Child }) {
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="robots" content="noindex" />
          {props.refresh ? <meta http-equiv="refresh" content={String(REFRESH_SECONDS)} /> : null}
          <title>{props.title}</title>
          <style>{raw(CSS)}</style>
        </head>
        <body>
          {props.nav ? (
            <header>
              <h1>secondcall · operations</h1>
              <span class="meta">{props.meta}</span>
              <nav>
                <a href="/ops">Dashboard</a>
                <a href="/ops/queues">Queues</a>
                <form method="post" action="/ops/logout">
                  <button type="submit">Log out</button>
                </form>
              </nav>
            </header>
          ) : null}
          {props.children}
        </body>
      </html>
    </>
  );
}

export function LoginPage(props: { next: string; error?: string }) {
  return (
    <Layout title="Log in · secondcall operations">
      <main>
        <form class="login" method="post" action="/ops/login">
          <h1>secondcall operations</h1>
          {props.error ? <p class="error" role="alert">{props.error}</p> : null}
          <label for="key">API key (role ops or admin)</label>
          <input id="key" name="key" type="password" autocomplete="current-password" required autofocus />
          <input type="hidden" name="next" value={props.next} />
          <button type="submit">Log in</button>
        </form>
      </main>
    </Layout>
  );
}

export function MessagePage(props: { title: string; message: string }) {
  return (
    <Layout title={props.title} nav>
      <main>
        <div class="card">
          <h2>{props.title}</h2>
          <p>{props.message}</p>
        </div>
      </main>
    </Layout>
  );
}

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
      <div class="card">
        <h2>
          Calls per hour <small>last 24 h</small>
        </h2>
        <ActivityChart id="hourly" title="Attempts, connected and verified calls per hour, last 24 hours" points={hourly} labelEvery={4} />
      </div>
      <div class="card">
        <h2>
          Calls per day <small>last 7 days, {tz}</small>
        </h2>
        <ActivityChart id="daily" title="Attempts, connected and verified calls per day, last 7 days" points={daily} />
      </div>
      <div class="card">
        <h2>
          Answer rate by caller number <small>per day</small>
        </h2>
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
      </div>
    </section>
  );
}

function StateTable(props: { o: Overview }) {
  const c = props.o.callbacks;
  const active = Object.entries(c.active).filter(([k]) => k !== 'total');
  const outcomes = [...new Set([...Object.keys(c.outcomesLast7d), ...Object.keys(c.outcomesLast24h)])].sort();
  return (
    <div class="card">
      <h2>Callbacks by state</h2>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>Active now</th>
              <th class="n" colspan={2}>
                count
              </th>
            </tr>
          </thead>
          <tbody>
            {active.map(([status, count]) => (
              <tr>
                <td>{status.replace('_', ' ')}</td>
                <td class="n" colspan={2}>
                  {n(count)}
                </td>
              </tr>
            ))}
            <tr class="sub">
              <th>Finished</th>
              <th class="n">24 h</th>
              <th class="n">7 d</th>
            </tr>
            {Object.keys(c.finishedLast7d).map((status) => (
              <tr>
                <td>
                  {status}
                  {status === 'exempted' ? <span class="muted"> (not an agent result)</span> : null}
                </td>
                <td class="n">{n(c.finishedLast24h[status] ?? 0)}</td>
                <td class="n">{n(c.finishedLast7d[status] ?? 0)}</td>
              </tr>
            ))}
            <tr class="sub">
              <th>Completed, by outcome</th>
              <th class="n">24 h</th>
              <th class="n">7 d</th>
            </tr>
            {outcomes.length === 0 ? (
              <tr>
                <td class="muted" colspan={3}>
                  none yet
                </td>
              </tr>
            ) : (
              outcomes.map((outcome) => (
                <tr>
                  <td>{outcome.replace('_', ' ')}</td>
                  <td class="n">{n(c.outcomesLast24h[outcome] ?? 0)}</td>
                  <td class="n">{n(c.outcomesLast7d[outcome] ?? 0)}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function CallerNumbers(props: { o: Overview; alerts: AlertSettings }) {
  const { o, alerts } = props;
  const rateCell = (rate: number | null, withResult: number) => (
    <td class={`n ${rate !== null && withResult >= alerts.minAttempts && rate < alerts.answerRateMin ? 'bad' : ''}`}>{pct(rate)}</td>
  );
  return (
    <div class="card">
      <h2>
        Attempts by caller number <small>answer rate = connected ÷ attempts with a result</small>
      </h2>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>Number</th>
              <th class="n">24 h</th>
              <th class="n">rate</th>
              <th class="n">7 d</th>
              <th class="n">rate</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <th>All numbers</th>
              <th class="n">{n(o.attempts.last24h.attempts)}</th>
              <th class="n">{pct(o.attempts.last24h.answerRate)}</th>
              <th class="n">{n(o.attempts.last7d.attempts)}</th>
              <th class="n">{pct(o.attempts.last7d.answerRate)}</th>
            </tr>
            {o.attempts.byCallerNumber.map((c) => (
              <tr>
                <td>
                  {c.callerNumber ?? <span class="muted">not recorded</span>}
                  {c.label ? <div class="muted">{c.label}</div> : null}
                  {c.callerNumber !== null && !c.official ? <div class="bad">not an official number</div> : null}
                </td>
                <td class="n">{n(c.last24h.attempts)}</td>
                {rateCell(c.last24h.answerRate, c.last24h.withResult)}
                <td class="n">{n(c.last7d.attempts)}</td>
                <td class="n">{pct(c.last7d.answerRate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function Customers(props: { o: Overview }) {
  const { o } = props;
  return (
    <div class="card">
      <h2>Customers</h2>
      <table>
        <thead>
          <tr>
            <th />
            <th class="n">24 h</th>
            <th class="n">7 d</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>Connected calls</td>
            <td class="n">{n(o.verification.last24h.connected)}</td>
            <td class="n">{n(o.verification.last7d.connected)}</td>
          </tr>
          <tr>
            <td>Calls the customer verified</td>
            <td class="n">{n(o.verification.last24h.verified)}</td>
            <td class="n">{n(o.verification.last7d.verified)}</td>
          </tr>
          <tr>
            <td>Verification rate</td>
            <td class="n">{pct(o.verification.last24h.rate)}</td>
            <td class="n">{pct(o.verification.last7d.rate)}</td>
          </tr>
          <tr>
            <td>New opt-outs ({n(o.optOuts.total)} in force)</td>
            <td class="n">{n(o.optOuts.last24h)}</td>
            <td class="n">{n(o.optOuts.last7d)}</td>
          </tr>
          <tr>
            <td>Scam reports</td>
            <td class="n">{n(o.scamReports.last24h)}</td>
            <td class="n">{n(o.scamReports.last7d)}</td>
          </tr>
          <tr class="sub">
            <th>Exemptions</th>
            <th class="n" colspan={2}>
              count
            </th>
          </tr>
          <tr>
            <td>Pending decision</td>
            <td class="n" colspan={2}>
              {n(o.exemptions.pending)}
            </td>
          </tr>
          <tr>
            <td>Approved (7 d: {n(o.exemptions.approvedLast7d)})</td>
            <td class="n" colspan={2}>
              {n(o.exemptions.approved)}
            </td>
          </tr>
          <tr>
            <td>Rejected</td>
            <td class="n" colspan={2}>
              {n(o.exemptions.rejected)}
            </td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

type Ref = Overview['sla']['atRisk']['items'][number];

function CallbackList(props: { title: string; note: string; total: number; items: Ref[]; o: Overview; empty: string }) {
  const { o } = props;
  return (
    <div class="card">
      <h2>
        {props.title} <small>{props.items.length < props.total ? `first ${props.items.length} of ${n(props.total)}` : props.note}</small>
      </h2>
      {props.items.length === 0 ? (
        <p class="empty">{props.empty}</p>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>Case</th>
                <th>Status</th>
                <th>Deadline</th>
                <th class="n" />
              </tr>
            </thead>
            <tbody>
              {props.items.map((item) => (
                <tr>
                  <td>
                    <a href={`/ops/callbacks/${item.id}`}>{item.caseRef}</a>
                  </td>
                  <td>{item.status.replace('_', ' ')}</td>
                  <td>{local(item.deadline, o.timezone)}</td>
                  <td class="n">{relative(item.deadline, o.generatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function PendingExemptions(props: { o: Overview }) {
  const { o } = props;
  const items = o.exemptions.pendingItems;
  return (
    <div class="card">
      <h2>
        Exemption requests <small>oldest first</small>
      </h2>
      {items.length === 0 ? (
        <p class="empty">No exemption is waiting for a decision.</p>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>Case</th>
                <th>Reason</th>
                <th>Asked</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr>
                  <td>
                    <a href={`/ops/callbacks/${e.callbackId}`}>{e.caseRef}</a>
                  </td>
                  <td>{e.reason}</td>
                  <td>{relative(e.createdAt, o.generatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function DashboardPage(props: { overview: Overview; alerts: AlertSettings; role: string }) {
  const o = props.overview;
  const meta = `updated ${local(o.generatedAt, o.timezone, 'LLL d, HH:mm:ss')} (${o.timezone}) · refreshes every ${REFRESH_SECONDS} s · signed in as ${props.role}`;
  return (
    <Layout title="Operations · secondcall" refresh nav meta={meta}>
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

type CallbackDetail = Awaited<ReturnType<typeof getCallback>>;

const compact = (details: Record<string, unknown>) => (Object.keys(details).length === 0 ? '' : JSON.stringify(details));

export function CallbackPage(props: { callback: CallbackDetail; timezone: string }) {
  const cb = props.callback;
  const tz = props.timezone;
  const at = (iso: string | null) => local(iso, tz, 'LLL d yyyy, HH:mm:ss');
  return (
    <Layout title={`Callback ${cb.caseRef} · secondcall`} nav meta={`callback ${cb.id} · times in ${tz}`}>
      <main>
        <section class="row c3">
          <div class="card">
            <h2>Callback {cb.caseRef}</h2>
            <dl>
              <dt>Status</dt>
              <dd>
                <strong>{cb.status.replace('_', ' ')}</strong>
                {cb.outcome ? ` (${cb.outcome})` : null}
              </dd>
              <dt>Category / round</dt>
              <dd>
                {cb.category} / {cb.round}
              </dd>
              <dt>Phone</dt>
              <dd>
                {cb.phone.e164} ({cb.phone.type}
                {cb.phone.country ? `, ${cb.phone.country}` : ''})
              </dd>
              <dt>Time zones</dt>
              <dd>{cb.timezones.join(', ')}</dd>
              <dt>Scheduled for</dt>
              <dd>{at(cb.scheduledFor)}</dd>
              <dt>Deadline</dt>
              <dd>{at(cb.deadline)}</dd>
              <dt>Priority</dt>
              <dd>{cb.priority}</dd>
              <dt>Attempts</dt>
              <dd>{cb.attemptCount}</dd>
              <dt>Claimed by</dt>
              <dd>{cb.claimedBy ?? '–'}</dd>
              <dt>Created</dt>
              <dd>
                {at(cb.createdAt)} by {cb.createdBy}
              </dd>
              <dt>Updated</dt>
              <dd>{at(cb.updatedAt)}</dd>
            </dl>
          </div>
          <div class="card">
            <h2>What the customer was told</h2>
            <dl>
              <dt>Reason</dt>
              <dd>{cb.reason}</dd>
              <dt>First explanation</dt>
              <dd>{cb.firstExplanation.summary}</dd>
            </dl>
          </div>
          <div class="card">
            <h2>Attempts</h2>
            {cb.attempts.length === 0 ? (
              <p class="empty">No attempt yet.</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th>#</th>
                    <th>Started</th>
                    <th>Agent</th>
                    <th>From</th>
                    <th>Result</th>
                  </tr>
                </thead>
                <tbody>
                  {cb.attempts.map((a) => (
                    <tr>
                      <td>{a.number}</td>
                      <td>{at(a.startedAt)}</td>
                      <td>{a.agentId ?? '–'}</td>
                      <td>{a.callerNumber ?? '–'}</td>
                      <td>
                        {a.result ?? 'in progress'}
                        {a.outcome ? ` (${a.outcome})` : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        </section>
        <div class="card">
          <h2>Timeline</h2>
          <table>
            <thead>
              <tr>
                <th>At</th>
                <th>Actor</th>
                <th>From</th>
                <th>To</th>
                <th>Details</th>
              </tr>
            </thead>
            <tbody>
              {cb.timeline.map((e) => (
                <tr>
                  <td>{at(e.at)}</td>
                  <td>{e.actor}</td>
                  <td>{e.from ?? '–'}</td>
                  <td>{e.to}</td>
                  <td>
                    <pre>{compact(e.details)}</pre>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </main>
    </Layout>
  );
}
