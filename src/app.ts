import { HTTPException } from 'hono/http-exception';
import { bodyLimit } from 'hono/body-limit';
import type { MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import type { AppDeps } from './http/context.js';
import { AppError, problem } from './http/errors.js';
import { injectDeps, requestLogger, requireJsonBody } from './http/middleware.js';
import { createRouter } from './http/router.js';
import { isUnavailable } from './http/unavailable.js';
import { docsRouter } from './http/routes/docs.js';
import { pagesRouter } from './pages/router.js';
import { healthRouter } from './http/routes/health.js';
import { adminRouter } from './http/routes/admin.js';
import { policiesRouter } from './http/routes/policies.js';
import { settingsRouter } from './http/routes/settings.js';
import { previewRouter } from './http/routes/preview.js';
import { callbacksRouter } from './http/routes/callbacks.js';
import { optOutsRouter } from './http/routes/opt-outs.js';
import { agentWorkflowRouter } from './http/routes/agent-workflow.js';
import { exemptionsRouter } from './http/routes/exemptions.js';
import { webhooksRouter } from './http/routes/webhooks.js';
import { publicRouter } from './http/routes/public.js';
import { opsApiRouter, opsPagesRouter } from './http/routes/ops.js';
import { httpMetrics } from './ops/metrics.js';
import { smsInboundRouter } from './http/routes/sms-inbound.js';

/**
 * Hono's bodyLimit, after a check of Content-Length alone: reading `raw.body` (as bodyLimit does)
 * makes @hono/node-server build a full Request for every request, about 15 % of the throughput of
 * a small JSON endpoint. Only bodies without a length (chunked) are counted as they stream.
 */
function limitBody(maxSize: number): MiddlewareHandler {
  const tooLarge = () => {
    throw new AppError('payload_too_large', `the body exceeds ${maxSize} bytes`);
  };
  const streamed = bodyLimit({ maxSize, onError: tooLarge });
  return async (c, next) => {
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(length) > maxSize) tooLarge();
      return next();
    }
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    return streamed(c, next);
  };
}

/** The HTTP app: no listening and no globals, so tests and the entry point build it the same way. */
export function createApp(deps: AppDeps) {
  const app = createRouter();

  app.use(requestId({ headerName: 'x-request-id' }), injectDeps(deps), requestLogger);
  app.use(httpMetrics);
  app.use(limitBody(deps.config.BODY_LIMIT_BYTES));
  // The SMS provider posts form-encoded webhooks; that route checks its own media type and signature.
  app.use('/v1/*', (c, next) => (c.req.path.startsWith('/v1/webhooks/sms/') ? next() : requireJsonBody(c, next)));

  app.route('/', healthRouter());
  app.route('/', docsRouter());
  app.route('/', pagesRouter());
  app.route('/v1', smsInboundRouter());
  for (const router of [adminRouter, policiesRouter, settingsRouter, previewRouter, callbacksRouter, optOutsRouter, webhooksRouter, agentWorkflowRouter, exemptionsRouter, publicRouter]) {
    app.route('/v1', router());
  }
  app.route('/v1', opsApiRouter());
  app.route('/', opsPagesRouter(deps));

  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', { type: 'http', scheme: 'bearer' });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'secondcall',
      version: '0.1.0',
      description: 'Second-explanation callbacks: honest scheduling, permitted dispatch, caller verification.',
    },
  });

  app.notFound((c) => problem(c, new AppError('route_not_found', `no route ${c.req.method} ${c.req.path}`)));
  app.onError((err, c) => {
    if (err instanceof AppError) return problem(c, err);
    if (err instanceof HTTPException) {
      if (err.status === 400) return problem(c, new AppError('malformed_json', err.message));
      if (err.status === 413) return problem(c, new AppError('payload_too_large', err.message));
      if (err.status === 415) return problem(c, new AppError('unsupported_media_type', err.message));
      return problem(c, new AppError('bad_request', err.message));
    }
    const logger = c.var.logger ?? deps.logger;
    if (isUnavailable(err)) {
      logger.warn({ err }, 'dependency unavailable');
      return problem(c, new AppError('service_unavailable', 'PostgreSQL or Redis is unavailable; retry later'));
    }
    logger.error({ err }, 'unhandled error');
    return problem(c, new AppError('internal_error', 'an unexpected error occurred'));
  });

  return app;
}

export type App = ReturnType<typeof createApp>;
