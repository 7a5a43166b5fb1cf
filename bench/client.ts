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
