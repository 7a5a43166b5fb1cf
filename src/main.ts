import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startRuntime } from './runtime.js';
import { startMetricsServer } from './ops/metrics.js';

const MODES = ['api', 'worker', 'all'] as const;
type Mode = (typeof MODES)[number];

async function main(mode: Mode) {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const runtime = await startRuntime(config, logger);
  const closers: (() => Promise<void>)[] = [];

  if (mode === 'api' || mode === 'all') {
    const app = createApp(runtime.deps);
    const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) =>
      logger.info({ port: info.port, mode }, 'secondcall listening'),
    );
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  }
  if (config.METRICS_PORT !== undefined) {
    // Every mode exposes its metrics there: a worker-only process has job durations and lateness.
    const metrics = await startMetricsServer(runtime.deps);
    closers.push(metrics.close);
  }
  if (mode === 'worker' || mode === 'all') {
    const { startWorkers } = await import('./queues/workers.js');
    const workers = startWorkers(runtime.deps);
    closers.push(() => workers.close());
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing active work');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();
    // Stop taking work first (HTTP server, workers), then close the connections they used.
    await Promise.allSettled(closers.map((close) => close()));
    await runtime.close();
    clearTimeout(timer);
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

const mode = (process.argv[2] ?? 'all') as Mode;
if (!MODES.includes(mode)) {
  console.error(`usage: secondcall [${MODES.join('|')}]`);
  process.exit(2);
}
main(mode).catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
