import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import autocannon from 'autocannon';

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  total: number;
}

/** Serves a fetch handler on a free loopback port for the duration of a benchmark. */
export async function listen(fetch: (req: Request) => Response | Promise<Response>) {
  const server = serve({ fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Fixed-duration load with `connections` concurrent clients; `body(i)` makes each request's body. */
export async function load(options: {
  url: string;
  method?: 'POST' | 'GET';
  headers?: Record<string, string>;
  body?: (i: number) => unknown;
  connections?: number;
  seconds: number;
}): Promise<LoadResult> {
  let i = 0;
  const result = await autocannon({
    url: options.url,
    connections: options.connections ?? 50,
    duration: options.seconds,
    requests: [
      {
        method: options.method ?? 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        setupRequest: (req) => (options.body ? { ...req, body: JSON.stringify(options.body(i++)) } : req),
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
