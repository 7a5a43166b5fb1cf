import type { AlertSettings } from '../alerts.js';
import type { Overview } from '../overview.js';
import { n, pct, local, relative, words } from './format.js';
import { Card } from './layout.js';
import { CountHeading, CountRow, ListTable, PeriodHeading, PeriodRow } from './tables.js';

/** The dashboard's tables: callbacks by state, attempts by caller number, customers, and the lists to act on. */

export function StateTable(props: { o: Overview }) {
  const c = props.o.callbacks;
  const active = Object.entries(c.active).filter(([k]) => k !== 'total');
  const outcomes = [...new Set([...Object.keys(c.outcomesLast7d), ...Object.keys(c.outcomesLast24h)])].sort();
  return (
    <Card title="Callbacks by state">
      <div class="scroll">
        <table>
          <thead>
            <CountHeading label="Active now" />
          </thead>
          <tbody>
            {active.map(([status, count]) => (
              <CountRow label={words(status)} count={n(count)} />
            ))}
            <PeriodHeading label="Finished" sub />
            {Object.keys(c.finishedLast7d).map((status) => (
              <PeriodRow
                label={
                  <>
                    {status}
                    {status === 'exempted' ? <span class="muted"> (not an agent result)</span> : null}
                  </>
                }
                day={n(c.finishedLast24h[status] ?? 0)}
                week={n(c.finishedLast7d[status] ?? 0)}
              />
            ))}
            <PeriodHeading label="Completed, by outcome" sub />
            {outcomes.length === 0 ? (
              <tr>
                <td class="muted" colspan={3}>
                  none yet
                </td>
              </tr>
            ) : (
              outcomes.map((outcome) => (
                <PeriodRow label={words(outcome)} day={n(c.outcomesLast24h[outcome] ?? 0)} week={n(c.outcomesLast7d[outcome] ?? 0)} />
              ))
            )}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

export function CallerNumbers(props: { o: Overview; alerts: AlertSettings }) {
  const { o, alerts } = props;
  const rateCell = (rate: number | null, withResult: number) => (
    <td class={`n ${rate !== null && withResult >= alerts.minAttempts && rate < alerts.answerRateMin ? 'bad' : ''}`}>{pct(rate)}</td>
  );
  return (
    <Card title="Attempts by caller number" note="answer rate = connected ÷ attempts with a result">
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
    </Card>
  );
}

export function Customers(props: { o: Overview }) {
  const { verification, optOuts, scamReports, exemptions } = props.o;
  return (
    <Card title="Customers">
      <table>
        <thead>
          <PeriodHeading />
        </thead>
        <tbody>
          <PeriodRow label="Connected calls" day={n(verification.last24h.connected)} week={n(verification.last7d.connected)} />
          <PeriodRow label="Calls the customer verified" day={n(verification.last24h.verified)} week={n(verification.last7d.verified)} />
          <PeriodRow label="Verification rate" day={pct(verification.last24h.rate)} week={pct(verification.last7d.rate)} />
          <PeriodRow label={`New opt-outs (${n(optOuts.total)} in force)`} day={n(optOuts.last24h)} week={n(optOuts.last7d)} />
          <PeriodRow label="Scam reports" day={n(scamReports.last24h)} week={n(scamReports.last7d)} />
          <CountHeading label="Exemptions" sub />
          <CountRow label="Pending decision" count={n(exemptions.pending)} />
          <CountRow label={`Approved (7 d: ${n(exemptions.approvedLast7d)})`} count={n(exemptions.approved)} />
          <CountRow label="Rejected" count={n(exemptions.rejected)} />
        </tbody>
      </table>
    </Card>
  );
}

type Ref = Overview['sla']['atRisk']['items'][number];

/** Callbacks to look at (SLA at risk, breached), by deadline, linked to their timeline. */
export function CallbackList(props: { title: string; note: string; total: number; items: Ref[]; o: Overview; empty: string }) {
  const { o } = props;
  return (
    <Card title={props.title} note={props.items.length < props.total ? `first ${props.items.length} of ${n(props.total)}` : props.note}>
      <ListTable
        empty={props.empty}
        head={
          <>
            <th>Case</th>
            <th>Status</th>
            <th>Deadline</th>
            <th class="n" />
          </>
        }
        rows={props.items.map((item) => (
          <tr>
            <td>
              <a href={`/ops/callbacks/${item.id}`}>{item.caseRef}</a>
            </td>
            <td>{words(item.status)}</td>
            <td>{local(item.deadline, o.timezone)}</td>
            <td class="n">{relative(item.deadline, o.generatedAt)}</td>
          </tr>
        ))}
      />
    </Card>
  );
}

export function PendingExemptions(props: { o: Overview }) {
  const { o } = props;
  return (
    <Card title="Exemption requests" note="oldest first">
      <ListTable
        empty="No exemption is waiting for a decision."
        head={
          <>
            <th>Case</th>
            <th>Reason</th>
            <th>Asked</th>
          </>
        }
        rows={o.exemptions.pendingItems.map((e) => (
          <tr>
            <td>
              <a href={`/ops/callbacks/${e.callbackId}`}>{e.caseRef}</a>
            </td>
            <td>{e.reason}</td>
            <td>{relative(e.createdAt, o.generatedAt)}</td>
          </tr>
        ))}
      />
    </Card>
  );
}
