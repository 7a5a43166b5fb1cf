/**
 * What the load generators need, without the service: they run in processes of their own and must
 * not load the whole service (bench/lib.ts does, through the test harness).
 */
import http from 'node:http';

export const REQUEST_TIMEOUT_MS = 30_000;

/** Nearest-rank percentile; `p` in [0, 100]. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies of several routes
  body: any;
}

/**
 * The open model's clock: arrival n of each stream is due at n / rate seconds after `start` (a
 * performance.now() reading), and a tick every millisecond starts whatever is due, whatever earlier
 * arrivals are doing. Resolves once the schedule has ended and every started arrival has settled,
 * or REQUEST_TIMEOUT_MS later, with the number still unsettled. `arrive` must not reject.
 */
export async function runSchedule<K extends string>(
  start: number,
  seconds: number,
  rates: Record<K, number>,
  arrive: (stream: K, n: number, at: number) => Promise<unknown>,
): Promise<number> {
  const endMs = seconds * 1000;
  const streams = (Object.keys(rates) as K[]).filter((k) => rates[k] > 0);
  const next = Object.fromEntries(streams.map((k) => [k, 0])) as Record<K, number>;
  const inFlight = new Set<Promise<unknown>>();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - start;
      for (const k of streams) {
        for (let at = (next[k] * 1000) / rates[k]; at <= elapsed && at < endMs; at = (next[k] * 1000) / rates[k]) {
          const arrival = arrive(k, next[k]++, at);
          inFlight.add(arrival);
          void arrival.finally(() => inFlight.delete(arrival));
        }
      }
      if (elapsed >= endMs) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  await Promise.race([Promise.all(inFlight), new Promise((resolve) => setTimeout(resolve, REQUEST_TIMEOUT_MS).unref())]);
  return inFlight.size;
}

/** One request on `agent`'s sockets; a JSON body is parsed, anything else kept as text. */
export function send(agent: http.Agent, url: URL, method: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const all: Record<string, string | number> = { ...headers };
  if (payload !== undefined) Object.assign(all, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: all, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          // not JSON: keep the text for the error sample
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer after ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}
