/**
 * The markdown summary of a run: a table of headline figures, one or two rows per benchmark, and
 * the machine line, made from the day's combined JSON (bench/results/<date>.json). A partial run
 * keeps the other benchmarks in that JSON, so the table always shows all of the day's figures.
 * `npm run bench` writes it; to write it again from a JSON:
 *
 *   npx tsx bench/report.ts [bench/results/<date>.json]     (default: today's)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface Row {
  measure: string;
  measured: string;
  floor?: string;
  ratio?: number | string;
  target: string;
  /** null: not judged (e.g. a run too short to tell). */
  met: boolean | null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each benchmark's JSON has its own shape
type Json = any;

const num = (v: number, digits = 0) => v.toLocaleString('en-US', { maximumFractionDigits: digits });
const rate = (r: Json, unit = 'req/s') => `${num(r.requestsPerSecond)} ${unit}, p50 ${num(r.p50Ms, 1)} ms, p99 ${num(r.p99Ms, 1)} ms`;
const size = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));
const arrow = (values: number[], digits = 0) => values.map((v) => num(v, digits)).join(' → ');

/** The headline rows of each benchmark, from its JSON (see bench/<name>.ts for the fields). */
const DESCRIBE: Record<string, (b: Json) => Row[]> = {
  create: ({ results: r, connections, seconds, fixedRate, createToFloorRatio, inProcess }) => [
    {
      measure: `create callback, ${connections} connections as fast as answered, ${seconds} s`,
      measured: rate(r.create),
      floor: `bare Hono route, one INSERT + \`queue.add\`: ${rate(r.floor)}`,
      ratio: createToFloorRatio,
      target: '≥ 0.5 of floor',
      met: createToFloorRatio >= 0.5,
    },
    {
      measure: `create callback at a fixed ${num(fixedRate)} arrivals/s (half the floor's maximum)`,
      measured: rate(r.createAtRate),
      floor: `the same route at the same rate: ${rate(r.floorAtRate)}`,
      target: 'p99 ≤ 50 ms',
      met: r.createAtRate.p99Ms <= 50,
    },
    { measure: `preview over HTTP, ${connections} connections`, measured: rate(r.preview), target: '≥ 5,000 req/s', met: r.preview.requestsPerSecond >= 5000 },
    {
      measure: 'preview in process (phone, policy, recent attempts read, rules), 50 concurrent callers',
      measured: `${num(inProcess.service.perSecond)} /s, p99 ${num(inProcess.service.p99Ms, 1)} ms; rules engine alone ${num(inProcess.engine.perSecond)} /s`,
      target: '≥ 5,000 /s',
      met: inProcess.service.perSecond >= 5000,
    },
  ],
  dispatch: ({ summary: s, settings }) => [
    {
      measure: `dispatch: ${num(settings.n)} due in the same second, one worker process (concurrency ${s.bestConcurrency})`,
      measured: `${num(s.dispatchesPerSecond)} /s (due worker alone ${num(s.dueWorkerOnlyPerSecond)} /s)`,
      floor: `bare BullMQ worker, one UPDATE per job: ${num(s.floorPerSecond)} /s`,
      ratio: s.ratioToFloor,
      target: `≥ ${num(s.targets.perSecond)} /s`,
      met: s.met.perSecond,
    },
    {
      measure: `dispatch lateness at a steady ${num(settings.rate)} /s`,
      measured: `p50 ${num(s.steadyLatenessP50Ms)} ms, p99 ${num(s.steadyLatenessP99Ms)} ms`,
      target: `p99 ≤ ${num(s.targets.latenessP99Ms)} ms`,
      met: s.met.latenessP99,
    },
  ],
  verify: ({ results: { verify, bare }, connections, targets, verifyToBareRatio, unknownVsKnownMedianGap }) => [
    {
      measure: `\`POST /v1/public/verify\`, wrong codes, ${connections} connections`,
      measured: rate(verify, 'checks/s'),
      floor: `bare Hono JSON route: ${num(bare.requestsPerSecond)} req/s`,
      ratio: verifyToBareRatio,
      target: `≥ ${num(targets.checksPerSecond.target)}/s, p99 ≤ ${targets.p99Ms.target} ms`,
      met: targets.checksPerSecond.met && targets.p99Ms.met,
    },
    {
      measure: 'verify timing: unknown number vs known number + wrong code',
      measured: `medians ${num(verify.byKind.unknown.p50Ms, 1)} ms vs ${num(verify.byKind.known.p50Ms, 1)} ms`,
      ratio: `gap ${num(unknownVsKnownMedianGap * 100, 1)} %`,
      target: `within ${targets.medianGap.target * 100} %`,
      met: targets.medianGap.met,
    },
  ],
  overview: ({ callbacks, overview: o, createCallback: c }) => [
    {
      measure: `ops overview at ${num(callbacks)} callbacks`,
      measured: `p95 ${num(o.withOpsIndexes.p95Ms, 1)} ms (${num(o.withoutOpsIndexes.p95Ms, 1)} ms without the ops indexes; ${num(o.emptyDatabase.p95Ms, 1)} ms on an empty database)`,
      target: `p95 ≤ ${o.targetP95Ms} ms`,
      met: o.withOpsIndexes.p95Ms <= o.targetP95Ms,
    },
    {
      measure: `create callback, seeded vs empty database, ${c.emptyDatabase.rounds} alternating rounds`,
      measured: `median p50 ${arrow([c.emptyDatabase.median.sequentialP50Ms, c.seededDatabase.median.sequentialP50Ms], 1)} ms, p95 ${arrow([c.emptyDatabase.median.sequentialP95Ms, c.seededDatabase.median.sequentialP95Ms], 1)} ms, ${arrow([c.emptyDatabase.median.requestsPerSecond, c.seededDatabase.median.requestsPerSecond])} req/s`,
      target: `≤ ${c.targetMaxSlowdown * 100} % slower`,
      met: Object.values(c.slowdown.median as Record<string, number>).every((v) => v <= c.targetMaxSlowdown),
    },
  ],
  scale: ({ levels }) => {
    const column = (key: string) => levels.map((l: Json) => l[key] as number);
    const bytes = column('redis bytes/callback');
    const creates = column('create req/s');
    return [
      {
        measure: `Redis per scheduled callback (${levels.map((l: Json) => size(l.scheduled)).join(' → ')})`,
        measured: `${arrow(bytes)} bytes`,
        target: '≤ 1 KB at the largest size',
        met: bytes.at(-1)! <= 1024,
      },
      {
        measure: `create rate at ${levels.map((l: Json) => size(l.scheduled)).join(' → ')} scheduled`,
        measured: `${arrow(creates)} req/s (p99 ${arrow(column('create p99 ms'))} ms)`,
        target: 'no degradation with size (largest ≥ 80 % of smallest)',
        met: creates.at(-1)! >= 0.8 * creates[0]!,
      },
    ];
  },
  soak: ({ settings, rate: r, routes, targets, memory }) => {
    const m = memory.afterWarmUp;
    const p99s = Object.entries(routes as Record<string, Json>).map(([route, s]) => `${route} ${num(s.p99Ms)}`);
    return [
      {
        measure: `soak: mixed traffic at a fixed arrival rate, ${num(settings.seconds)} s (warm-up ${settings.warmUpSeconds} s)`,
        measured: `${num(r.achievedAllPerSecond)} req/s (${num(r.achievedScheduledPerSecond)} of ${num(r.scheduledPerSecond)} scheduled), ${num(targets.errors.measured)} errors; p99 ms: ${p99s.join(', ')}`,
        target: 'no errors',
        met: targets.errors.met,
      },
      {
        measure: 'soak: service heap after GC, after warm-up',
        measured: `${num(targets.heapGrowthMBPerMin.measured, 2)} MB/min over ${num(m.spanSeconds)} s (RSS ${num(m.rssSlopeMBPerMin, 2)} MB/min)`,
        target: `≤ ${targets.heapGrowthMBPerMin.target} MB/min (judged when ≥ 2 min follow the warm-up)`,
        met: targets.heapGrowthMBPerMin.met,
      },
    ];
  },
};

function rowsOf(name: string, b: Json): Row[] {
  const describe = DESCRIBE[name];
  try {
    if (describe) return describe(b);
  } catch {
    // A failed run has no figures to describe: say so below.
  }
  const measured = b.failed ? `failed (exit code ${b.exitCode})` : 'see the JSON';
  return [{ measure: name, measured, target: '', met: b.failed ? false : null }];
}

export function markdownReport(run: { date: string; machine: Json; benchmarks: Record<string, Json> }): string {
  const m = run.machine;
  const cell = (v: string | number | undefined) => String(v ?? '—').replaceAll('|', '\\|');
  const met = (v: boolean | null) => (v === null ? 'not judged' : v ? 'yes' : 'no');
  const rows = Object.entries(run.benchmarks).flatMap(([name, b]) => rowsOf(name, b));
  const wall = Object.entries(run.benchmarks)
    .filter(([, b]) => typeof b.wallSeconds === 'number')
    .map(([name, b]) => `${name} ${num(b.wallSeconds)} s`);
  return [
    `# Benchmarks, ${run.date}`,
    '',
    `${m.cpus} vCPU (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}. Generated by \`npm run bench\` from \`${run.date}.json\`.`,
    '',
    '| benchmark | measured | floor (same run) | ratio | target | met |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${[r.measure, r.measured, r.floor, r.ratio, r.target].map(cell).join(' | ')} | ${met(r.met)} |`),
    '',
    ...(wall.length ? [`Wall time per benchmark: ${wall.join(', ')}.`, ''] : []),
  ].join('\n');
}

/** Writes `<date>.md` next to the combined `<date>.json` and returns its path. */
export function writeMarkdownReport(jsonPath: string): string {
  const path = jsonPath.replace(/\.json$/, '.md');
  writeFileSync(path, markdownReport(JSON.parse(readFileSync(jsonPath, 'utf8'))));
  return path;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const today = fileURLToPath(new URL(`./results/${new Date().toISOString().slice(0, 10)}.json`, import.meta.url));
  console.log(writeMarkdownReport(process.argv[2] ?? today));
}
