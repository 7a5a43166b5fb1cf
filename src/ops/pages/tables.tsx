import type { Child } from 'hono/jsx';

/** Table rows and lists the ops pages share: figures per period (24 h, 7 d) or one count, and lists that may be empty. */

export function PeriodHeading(props: { label?: string; sub?: boolean }) {
  return (
    <tr class={props.sub ? 'sub' : undefined}>
      <th>{props.label}</th>
      <th class="n">24 h</th>
      <th class="n">7 d</th>
    </tr>
  );
}

export function PeriodRow(props: { label: Child; day: string; week: string }) {
  return (
    <tr>
      <td>{props.label}</td>
      <td class="n">{props.day}</td>
      <td class="n">{props.week}</td>
    </tr>
  );
}

export function CountHeading(props: { label: string; sub?: boolean }) {
  return (
    <tr class={props.sub ? 'sub' : undefined}>
      <th>{props.label}</th>
      <th class="n" colspan={2}>
        count
      </th>
    </tr>
  );
}

export function CountRow(props: { label: Child; count: string }) {
  return (
    <tr>
      <td>{props.label}</td>
      <td class="n" colspan={2}>
        {props.count}
      </td>
    </tr>
  );
}

/** A scrolling table of `rows` under the header cells `head`, or the `empty` sentence when there is no row. */
export function ListTable(props: { head: Child; rows: Child[]; empty: string }) {
  if (props.rows.length === 0) return <p class="empty">{props.empty}</p>;
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>{props.head}</tr>
        </thead>
        <tbody>{props.rows}</tbody>
      </table>
    </div>
  );
}
