/**
 * HTTP load for the benchmarks, generated in a child process of its own (this file, forked) so it
 * never shares the event loop of the server it measures. Request bodies come from the named makers
 * in BODIES, because a function cannot be sent to another process.
 *
 * Two models: closed (autocannon: each connection sends its next request when the last one is
 * answered, which finds the maximum rate) and open at a fixed `rate` (request n starts at n / rate
 * seconds whatever the others are doing, latency counted from that planned start as wrk2 does),
 * which shows the latency of a request at a load the server can carry. autocannon's own rate
 * option is not used: it sends each second's quota at once at the start of the second.
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import autocannon from 'autocannon';
import { percentile, runSchedule, send } from './client.js';

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  total: number;
}

const area = (i: number, code: string) => `+1 ${code} 555 ${String(i % 10_000).padStart(4, '0')}`;

/** Request bodies by name: `[name, ...args]` makes request `i`'s body as `BODIES[name](i, ...args)`. */
const BODIES = {
  /** A callback for case `<prefix>-<i>`, the number cycling through 10,000 in area `areaCode`. */
  create: (i: number, prefix: string, areaCode = '212') => ({
    caseRef: `${prefix}-${i}`,
    category: 'billing',
    phone: area(i, areaCode),
    reason: 'We will explain the invoice again',
    firstExplanation: { summary: 'Explained the fee' },
  }),
  preview: (i: number) => ({ phone: area(i, '212'), category: 'billing' }),
};

type Makers = typeof BODIES;
type Rest<F> = F extends (i: number, ...rest: infer R) => unknown ? R : never;
export type BodySpec = { [K in keyof Makers]: [K, ...Rest<Makers[K]>] }[keyof Makers];

export interface LoadOptions {
  url: string;
  method?: 'POST' | 'GET';
  headers?: Record<string, string>;
  body?: BodySpec;
  connections?: number;
  seconds: number;
  /** Arrivals per second (the open model); unset: as fast as the server answers (closed). */
  rate?: number;
}

/** Serves a fetch handler on a free loopback port for the duration of a benchmark. */
export async function listen(fetch: (req: Request) => Response | Promise<Response>) {
  const server = serve({ fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Fixed-duration load on `connections` connections (50 unless told), from a child process. */
export function load(options: LoadOptions): Promise<LoadResult> {
  const child = fork(fileURLToPath(import.meta.url), ['--http-load'], { execArgv: ['--import', 'tsx'] });
  return new Promise<LoadResult>((resolve, reject) => {
    child.once('message', (m: LoadResult | { error: string }) => ('error' in m ? reject(new Error(m.error)) : resolve(m)));
    child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
    child.send(options);
  }).finally(() => child.kill());
}

/** Request `i`'s body as `spec` describes it. */
export const bodyOf = (spec: BodySpec, i: number): unknown =>
  (BODIES[spec[0]] as (i: number, ...args: unknown[]) => unknown)(i, ...spec.slice(1));

async function generate(options: LoadOptions): Promise<LoadResult> {
  if (options.rate !== undefined) return generateAtRate(options, options.rate);
  let i = 0;
  const spec = options.body;
  const result = await autocannon({
    url: options.url,
    connections: options.connections ?? 50,
    duration: options.seconds,
    requests: [
      {
        method: options.method ?? 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        setupRequest: (req) => (spec ? { ...req, body: JSON.stringify(bodyOf(spec, i++)) } : req),
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result.requests.total,
  };
}

/** The open model: `rate` arrivals per second on a pool of `connections` keep-alive sockets. */
async function generateAtRate(options: LoadOptions, rate: number): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections ?? 50 });
  const url = new URL(options.url);
  const headers = options.headers ?? {};
  const latencies: number[] = [];
  let sent = 0;
  let non2xx = 0;
  let errors = 0;
  const start = performance.now();
  const unanswered = await runSchedule(start, options.seconds, { requests: rate }, (_, n, at) => {
    sent++;
    return send(agent, url, options.method ?? 'POST', headers, options.body ? bodyOf(options.body, n) : undefined).then(
      (answer) => {
        if (answer.status < 200 || answer.status > 299) non2xx++;
        latencies.push(performance.now() - start - at);
      },
      () => void errors++,
    );
  });
  agent.destroy();
  return {
    requestsPerSecond: latencies.length / options.seconds,
    p50Ms: Number(percentile(latencies, 50).toFixed(1)),
    p99Ms: Number(percentile(latencies, 99).toFixed(1)),
    non2xx,
    errors: errors + unanswered,
    total: sent,
  };
}

if (process.argv.includes('--http-load')) {
  process.once('message', (options: LoadOptions) => {
    generate(options).then(
      (result) => process.send!(result),
      (err: unknown) => process.send!({ error: String(err) }),
    );
  });
}
