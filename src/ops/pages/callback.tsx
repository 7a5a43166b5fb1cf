import type { getCallback } from '../../services/callbacks.js';
import { local, words } from './format.js';
import { Card, Layout } from './layout.js';

/** `/ops/callbacks/{id}`: one callback, what the customer was told, its attempts and its timeline. */

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
          <Card title={`Callback ${cb.caseRef}`}>
            <dl>
              <dt>Status</dt>
              <dd>
                <strong>{words(cb.status)}</strong>
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
          </Card>
          <Card title="What the customer was told">
            <dl>
              <dt>Reason</dt>
              <dd>{cb.reason}</dd>
              <dt>First explanation</dt>
              <dd>{cb.firstExplanation.summary}</dd>
            </dl>
          </Card>
          <Card title="Attempts">
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
          </Card>
        </section>
        <Card title="Timeline">
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
        </Card>
      </main>
    </Layout>
  );
}
