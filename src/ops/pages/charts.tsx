/**
 * SVG charts drawn on the server: no script, no external asset, nothing the CSP has to allow.
 * Colours come from classes in the page's stylesheet (style attributes would need 'unsafe-inline').
 */

export interface ActivityPoint {
  label: string;
  /** Shown in the bar's tooltip. */
  title: string;
  attempts: number;
  connected: number;
  verified: number;
}

const W = 440;
const H = 170;
const M = { left: 34, right: 8, top: 18, bottom: 22 };
const PLOT_W = W - M.left - M.right;
const PLOT_H = H - M.top - M.bottom;

/** The smallest 1, 2 or 5 × 10^k at or above `max`, so gridlines fall on round numbers. */
export function niceMax(max: number): number {
  if (max <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= max) return step * magnitude;
  return 10 * magnitude;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

function YAxis(props: { max: number; format: (v: number) => string }) {
  const ticks = [0, 0.5, 1];
  return (
    <g>
      {ticks.map((t) => {
        const y = M.top + PLOT_H * (1 - t);
        return (
          <g>
            <line class="grid" x1={M.left} x2={W - M.right} y1={y} y2={y} />
            <text class="tick" x={M.left - 4} y={y + 3} text-anchor="end">
              {props.format(props.max * t)}
            </text>
          </g>
        );
      })}
    </g>
  );
}

function Legend(props: { items: { cls: string; label: string }[]; x?: number; y?: number }) {
  let x = props.x ?? M.left;
  return (
    <g>
      {props.items.map((item) => {
        const at = x;
        x += 14 + item.label.length * 5.6 + 10;
        return (
          <g>
            <rect class={item.cls} x={at} y={(props.y ?? 4) + 1} width="10" height="8" />
            <text class="legend" x={at + 14} y={(props.y ?? 4) + 9}>
              {item.label}
            </text>
          </g>
        );
      })}
    </g>
  );
}

/** Attempts, connected and verified per bucket, as nested bars (each is a subset of the one before). */
export function ActivityChart(props: { id: string; title: string; points: ActivityPoint[]; labelEvery?: number }) {
  const { points } = props;
  const max = niceMax(Math.max(0, ...points.map((p) => p.attempts)));
  const band = PLOT_W / Math.max(1, points.length);
  const every = props.labelEvery ?? 1;
  const y = (v: number) => M.top + PLOT_H * (1 - v / max);
  const bar = (cls: string, x: number, width: number, value: number) =>
    value > 0 ? <rect class={cls} x={x} y={y(value)} width={width} height={M.top + PLOT_H - y(value)} /> : null;
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${props.id}-title`}>
      <title id={`${props.id}-title`}>{props.title}</title>
      <YAxis max={max} format={fmt} />
      <Legend
        items={[
          { cls: 'c-attempts', label: 'attempts' },
          { cls: 'c-connected', label: 'connected' },
          { cls: 'c-verified', label: 'verified' },
        ]}
      />
      {points.map((p, i) => {
        const x = M.left + i * band;
        const w = band * 0.72;
        const x0 = x + (band - w) / 2;
        return (
          <g>
            <title>{`${p.title}: ${p.attempts} attempts, ${p.connected} connected, ${p.verified} verified`}</title>
            <rect class="hit" x={x} y={M.top} width={band} height={PLOT_H} />
            {bar('c-attempts', x0, w, p.attempts)}
            {bar('c-connected', x0, w, p.connected)}
            {bar('c-verified', x0 + w * 0.25, w * 0.5, p.verified)}
            {i % every === 0 ? (
              <text class="tick" x={x + band / 2} y={H - 8} text-anchor="middle">
                {p.label}
              </text>
            ) : null}
          </g>
        );
      })}
      <line class="axis" x1={M.left} x2={W - M.right} y1={M.top + PLOT_H} y2={M.top + PLOT_H} />
    </svg>
  );
}

export interface RateSeries {
  label: string;
  /** One value per x label; null where there was nothing to measure. */
  values: (number | null)[];
}

const pct = (v: number) => `${Math.round(v * 100)}%`;

/**
 * Answer rate per caller number per day, 0–100 %, with the alert threshold as a dashed line: a
 * number that carriers start labelling as spam shows up as a line falling through it.
 */
export function RateChart(props: { id: string; title: string; labels: string[]; series: RateSeries[]; threshold: number | null }) {
  const n = Math.max(1, props.labels.length);
  const band = PLOT_W / n;
  const x = (i: number) => M.left + band * i + band / 2;
  const y = (v: number) => M.top + PLOT_H * (1 - v);
  const series = props.series.slice(0, 6);
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${props.id}-title`}>
      <title id={`${props.id}-title`}>{props.title}</title>
      <YAxis max={1} format={pct} />
      {props.threshold !== null ? (
        <g>
          <line class="threshold" x1={M.left} x2={W - M.right} y1={y(props.threshold)} y2={y(props.threshold)} />
          <text class="tick" x={W - M.right} y={y(props.threshold) - 3} text-anchor="end">
            {`alert below ${pct(props.threshold)}`}
          </text>
        </g>
      ) : null}
      {props.labels.map((label, i) => (
        <text class="tick" x={x(i)} y={H - 8} text-anchor="middle">
          {label}
        </text>
      ))}
      {series.map((s, k) => {
        // A day without answered-or-not attempts breaks the line instead of pretending to be 0 %.
        const segments: string[][] = [[]];
        s.values.forEach((v, i) => {
          if (v === null) segments.push([]);
          else segments[segments.length - 1]!.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
        });
        return (
          <g class={`s${k}`}>
            {segments.filter((seg) => seg.length > 1).map((seg) => <polyline class="line" points={seg.join(' ')} />)}
            {s.values.map((v, i) =>
              v === null ? null : (
                <circle class="dot" cx={x(i)} cy={y(v)} r="2.5">
                  <title>{`${s.label}, ${props.labels[i]}: ${pct(v)}`}</title>
                </circle>
              ),
            )}
          </g>
        );
      })}
      <Legend items={series.map((s, k) => ({ cls: `s${k} swatch`, label: s.label }))} />
      <line class="axis" x1={M.left} x2={W - M.right} y1={M.top + PLOT_H} y2={M.top + PLOT_H} />
    </svg>
  );
}
