import path from 'node:path';
import express, { Router, Request, Response, NextFunction } from 'express';
import helmet from 'helmet';
import type { ModuleContext } from '../context';
import { MODULE_ROOT } from '../manifest';
import { requestState, stateOf } from './request';
import { buildApiRouter, PageRoute, readMultipart, runChain } from './route';
import { errorHandler, notFoundHandler, ErrorBody } from './errors';
import { renderPage } from './render';
import { apiRoutes } from './api';
import { pageRoutes } from './pages';
import { TooManyRequestsError, UnauthenticatedError } from '../errors';
import { rateLimit } from 'express-rate-limit';

/** Content-Security-Policy without 'unsafe-inline': no inline script or style in any page. */
export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
};

/**
 * Mutations per signed-in user and minute, counted in this process (a limit against a runaway script or a stuck
 * button, not an accounting: with N processes a user gets at most N times the limit). 0 switches it off.
 */
function mutationRateLimit(ctx: ModuleContext) {
  const limit = ctx.config.mutationRateLimit;
  if (!limit) return (_req: Request, _res: Response, next: NextFunction) => next();
  return rateLimit({
    windowMs: 60_000,
    limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    skip: (req, res) => req.method === 'GET' || req.method === 'HEAD' || !stateOf(res)?.user,
    keyGenerator: (_req, res) => stateOf(res).user!.id,
    handler: (_req, _res, next) => next(new TooManyRequestsError()),
  });
}

function pageHandler(ctx: ModuleContext, def: PageRoute) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      await readMultipart(ctx, def.multipart, req, res);
      const result = (await runChain(ctx, def, req, res)) as Awaited<ReturnType<PageRoute['handler']>>;
      if (res.headersSent) return;
      if ('redirect' in result) {
        res.redirect(303, result.redirect);
        return;
      }
      await renderPage(ctx, req, res, result.view, result.title, result.data, { status: result.status, structureId: result.structureId });
    } catch (error) {
      if (error instanceof UnauthenticatedError && (req.method === 'GET' || req.method === 'HEAD')) {
        res.redirect(303, ctx.host.auth.loginUrl(req.originalUrl));
        return;
      }
      next(error);
    }
  };
}

/** The module's whole router, mounted by the host under the prefix of module.json. */
export function createModuleRouter(ctx: ModuleContext): Router {
  const router = express.Router();
  router.use(ctx.load.middleware());
  router.use(helmet({ contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES }, crossOriginEmbedderPolicy: false }));
  router.use('/assets', express.static(path.join(MODULE_ROOT, 'public'), { maxAge: '1h', fallthrough: false }));
  router.use(requestState(ctx));
  router.use(mutationRateLimit(ctx));
  router.use(express.json({ limit: '100kb' }));
  router.use(express.urlencoded({ extended: false, limit: '100kb', parameterLimit: 200 }));
  router.use('/api/v1', buildApiRouter(ctx, apiRoutes));
  router.use('/api', notFoundHandler);
  for (const def of pageRoutes) router[def.method](def.path, pageHandler(ctx, def));
  router.use(notFoundHandler);
  router.use(
    errorHandler(ctx.logger, async (req, res, status, body: ErrorBody) => {
      const state = stateOf(res);
      await renderPage(ctx, req, res, 'pages/error', state.t('errors:pageTitle'), { status, error: body }, { status });
    }),
  );
  return router;
}
