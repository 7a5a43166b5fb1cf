import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/config.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The variables a worker process needs to join a test's database and queues. */
const FORWARDED = [
  'DATABASE_URL',
  'DATABASE_POOL_SIZE',
  'REDIS_URL',
  'QUEUE_PREFIX',
  'SECRET_KEY',
  'WORKER_CONCURRENCY',
  'JOB_LOCK_MS',
  'STALLED_INTERVAL_MS',
  'MAINTENANCE_INTERVAL_MS',
  'OUTBOX_INTERVAL_MS',
  'WEBHOOK_ALLOW_PRIVATE_URLS',
] as const satisfies readonly (keyof Config)[];

export interface WorkerProcess {
  readonly pid: number;
  /** Everything it printed, for failure messages. */
  output(): string;
  /** Sends the signal and waits until the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Runs the real worker (`node --import tsx src/main.ts worker`) as a child process, configured from
 * a test context's config plus overrides, so a test can SIGKILL it mid-work like a crashed host.
 */
export function spawnWorker(config: Config, overrides: Record<string, string> = {}): WorkerProcess {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'warn' };
  for (const name of FORWARDED) env[name] = String(config[name]);
  Object.assign(env, overrides);

  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'worker'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const append = (d: Buffer) => {
    // Keep the tail only: a long run must not grow the test's memory without bound.
    log = (log + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  return {
    pid: child.pid ?? -1,
    output: () => log,
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls until `check` returns a value other than undefined/false, or fails after `timeoutMs` with
 * the last observed state in the message.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  options: { timeoutMs: number; intervalMs?: number; what: string; describe?: () => Promise<string> | string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) {
      const state = options.describe ? `: ${await options.describe()}` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${state}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}
