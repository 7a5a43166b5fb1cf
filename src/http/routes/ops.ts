import { Hono, type Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppDeps, AppEnv } from '../context.js';
import { AppError } from '../errors.js';
import { requireRole } from '../middleware.js';
import { createRouter, jsonBody, jsonResponse, staffRoute } from '../router.js';
import { findPrincipal } from '../../services/api-keys.js';
import { getCallback } from '../../services/callbacks.js';
import { loadSetting } from '../../services/settings.js';
import { AlertSettingsSchema, loadAlertSettings, saveAlertSettings } from '../../ops/alerts.js';
import { metricsResponse } from '../../ops/metrics.js';
import { OverviewSchema, computeOverview } from '../../ops/overview.js';
import { CallbackPage } from '../../ops/pages/callback.js';
import { DashboardPage } from '../../ops/pages/dashboard.js';
import { MessagePage } from '../../ops/pages/layout.js';
import { LoginPage } from '../../ops/pages/login.js';
import { PAGE_CSP } from '../../ops/pages/styles.js';
import { QUEUES_CSP, QUEUES_PATH, queuesBoard } from '../../ops/queues-board.js';
import { OPS_ROLES, csrfProtection, endSession, requireOpsSession, safeNext, startSession } from '../../ops/session.js';

/** `GET /v1/ops/overview` and the alert thresholds, in the OpenAPI document like every JSON route. */
export function opsApiRouter() {
  return createRouter()
    .openapi(
      staffRoute(OPS_ROLES, {
        method: 'get',
        path: '/ops/overview',
        tags: ['ops'],
        summary: 'The figures of the ops dashboard',
        description:
          'Rolling periods ending now (24 h, 7 d). Active callbacks are counted as they are now, terminal ones by when they reached ' +
          'that state. SLA at risk: active callbacks (awaiting_consent excluded: it has promised nothing yet) whose deadline is within ' +
          'the next 2 h; breached: active callbacks past their deadline, plus callbacks marked breached in the period. Answer rate: ' +
          'connected ÷ attempts with a result. Verification rate: verification sessions the customer verified ÷ connected attempts.',
        responses: { 200: jsonResponse(OverviewSchema, 'Dashboard figures') },
      }),
      async (c) => c.json(await computeOverview(c.var.deps.db, c.var.deps.now()), 200),
    )
    .openapi(
      staffRoute(['admin'], {
        method: 'get',
        path: '/settings/alerts',
        tags: ['settings'],
        summary: 'Alert thresholds',
        responses: { 200: jsonResponse(AlertSettingsSchema, 'Alert settings') },
      }),
      async (c) => c.json(await loadAlertSettings(c.var.deps.db), 200),
    )
    .openapi(
      staffRoute(['admin'], {
        method: 'put',
        path: '/settings/alerts',
        tags: ['settings'],
        summary: 'Replace the alert thresholds (omitted fields take their defaults)',
        request: { body: jsonBody(AlertSettingsSchema) },
        responses: { 200: jsonResponse(AlertSettingsSchema, 'Alert settings') },
      }),
      async (c) => {
        const value = c.req.valid('json');
        await saveAlertSettings(c.var.deps.db, value);
        return c.json(value, 200);
      },
    );
}

const securityHeaders = (csp: string) =>
  createMiddleware<AppEnv>(async (c, next) => {
    await next();
    c.header('content-security-policy', csp);
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'no-referrer');
    c.header('x-frame-options', 'DENY');
    if (!c.res.headers.has('cache-control')) c.header('cache-control', 'no-store');
  });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function loginForm(c: Context<AppEnv>) {
  const body = await c.req.parseBody();
  const next = safeNext(body.next);
  const key = typeof body.key === 'string' ? body.key.trim() : '';
  const principal = key ? await findPrincipal(c.var.deps.db, key) : null;
  if (!principal || !OPS_ROLES.includes(principal.role)) {
    const error = principal ? 'This key is valid but its role is not ops or admin.' : 'This key is not valid (or has been revoked).';
    return c.html(LoginPage({ next, error }), principal ? 403 : 401);
  }
  await startSession(c, principal);
  c.var.logger.info({ keyId: principal.keyId, role: principal.role }, 'ops login');
  return c.redirect(next, 303);
}

/**
 * The ops pages (`/ops`, `/ops/callbacks/{id}`, `/ops/queues`), their login, and `/metrics` when
 * it is served on the main port. Outside the OpenAPI document: they are HTML, not the JSON API.
 */
export function opsPagesRouter(deps: AppDeps) {
  const router = new Hono<AppEnv>();
  router.use('/ops', securityHeaders(PAGE_CSP));
  router.use('/ops/login', securityHeaders(PAGE_CSP));
  router.use('/ops/logout', securityHeaders(PAGE_CSP));
  router.use('/ops/callbacks/*', securityHeaders(PAGE_CSP));
  router.use(QUEUES_PATH, securityHeaders(QUEUES_CSP));
  router.use(`${QUEUES_PATH}/*`, securityHeaders(QUEUES_CSP));

  router.get('/ops/login', (c) => c.html(LoginPage({ next: safeNext(c.req.query('next')) })));
  router.post('/ops/login', csrfProtection, loginForm);
  router.post('/ops/logout', csrfProtection, (c) => {
    endSession(c);
    return c.redirect('/ops/login', 303);
  });

  router.get('/ops', requireOpsSession, async (c) => {
    const { db, now } = c.var.deps;
    const [overview, alerts] = await Promise.all([computeOverview(db, now()), loadAlertSettings(db)]);
    return c.html(DashboardPage({ overview, alerts, role: c.var.principal.role }));
  });

  router.get('/ops/callbacks/:id', requireOpsSession, async (c) => {
    const id = c.req.param('id');
    const missing = () => c.html(MessagePage({ title: 'No such callback', message: `There is no callback ${id}.` }), 404);
    if (!UUID.test(id)) return missing();
    const { db } = c.var.deps;
    const [callback, calling] = await Promise.all([
      getCallback(db, id).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'not_found') return null;
        throw err;
      }),
      loadSetting(db, 'calling'),
    ]);
    return callback ? c.html(CallbackPage({ callback, timezone: calling.center.timezone })) : missing();
  });

  const board = queuesBoard(deps);
  router.all(QUEUES_PATH, requireOpsSession, board);
  router.all(`${QUEUES_PATH}/*`, requireOpsSession, board);

  // With METRICS_PORT set, /metrics lives on that port only (startMetricsServer) and is 404 here.
  if (deps.config.METRICS_PORT === undefined) {
    router.get('/metrics', requireRole(...OPS_ROLES), (c) => metricsResponse(c, c.var.deps));
  }
  return router;
}
