import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono, type Handler } from 'hono';
import type { AppDeps, AppEnv } from '../http/context.js';
import { AppError } from '../http/errors.js';

/** `/ops/queues`: bull-board for every queue of this deployment, its assets served from @bull-board/ui. */

export const QUEUES_PATH = '/ops/queues';

export const QUEUES_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // bull-board's React UI sets style attributes; its Google Fonts link is refused (no external assets).
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
].join('; ');

/** One board at QUEUES_PATH; with readOnlyMode every queue refuses actions in the API (405) and hides them in the UI. */
function board(deps: AppDeps, readOnlyMode: boolean): Hono {
  const adapter = new HonoAdapter(serveStatic);
  adapter.setBasePath(QUEUES_PATH);
  createBullBoard({
    queues: deps.queues.all().map((q) => new BullMQAdapter(q, { readOnlyMode })),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'secondcall queues', miscLinks: [{ text: 'Ops dashboard', url: '/ops' }] } },
  });
  const app = new Hono().route(QUEUES_PATH, adapter.registerPlugin());
  // Unknown paths and errors go on to the app's own handlers (problem+json, logged), as for any route.
  app.notFound((c) => {
    throw new AppError('route_not_found', `no route ${c.req.method} ${c.req.path}`);
  });
  app.onError((err) => {
    throw err;
  });
  return app;
}

/**
 * The board for the session's role, behind requireOpsSession: admin retries, cleans, pauses and
 * removes; every other role (ops) sees the same queues and jobs read-only.
 */
export function queuesBoard(deps: AppDeps): Handler<AppEnv> {
  const boards = { full: board(deps, false), readOnly: board(deps, true) };
  return (c) => (c.var.principal.role === 'admin' ? boards.full : boards.readOnly).fetch(c.req.raw, c.env);
}
