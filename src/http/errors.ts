import type { Request, Response, NextFunction } from 'express';
import { ZodError } from 'zod';
import type { Logger } from 'pino';
import { AppError, BusyError, NotFoundError, PayloadTooLargeError, ValidationError } from '../errors';
import { DEFAULT_LANGUAGE, tFor, T } from '../i18n';
import type { RequestState } from './request';

export interface ErrorBody {
  error: string;
  message: string;
  details?: unknown;
}

export function zodToValidationError(error: ZodError, prefix?: string): ValidationError {
  return new ValidationError(
    error.issues.flatMap((issue) => {
      const base = [prefix, ...issue.path.map(String)].filter(Boolean);
      // An unknown key is named itself, so the caller sees which field to drop.
      const keys = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : [null];
      return keys.map((key) => ({ field: [...base, key].filter(Boolean).join('.') || '(body)', message: issue.message }));
    }),
  );
}

/** Turns whatever was thrown into an AppError; anything unknown is a 500 whose details stay in the log. */
export function toAppError(error: unknown): AppError | null {
  if (error instanceof AppError) return error;
  if (error instanceof ZodError) return zodToValidationError(error);
  const e = error as { type?: string; status?: number; expose?: boolean };
  // body-parser's errors: malformed JSON, too large, bad charset.
  if (e?.type === 'entity.parse.failed') return new ValidationError([{ field: '(body)', message: 'malformed JSON' }], 'malformedJson');
  if (e?.type === 'entity.too.large') return new PayloadTooLargeError();
  if (e?.type === 'charset.unsupported' || e?.type === 'encoding.unsupported') return new ValidationError([{ field: '(body)', message: 'unsupported encoding' }]);
  if (e?.type === 'parameters.too.many') return new PayloadTooLargeError();
  return null;
}

export function errorBody(error: AppError, t: T): ErrorBody {
  const key = error.messageKey.includes(':') ? error.messageKey : `errors:${error.messageKey}`;
  const body: ErrorBody = { error: error.code, message: t(key, error.params) };
  if (error.details !== undefined) body.details = error.details;
  return body;
}

export function wantsJson(req: Request): boolean {
  if (req.originalUrl.includes('/api/')) return true;
  const accept = req.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

/**
 * The one place where errors become HTTP: JSON `{error, message, details}` for the API, a friendly page otherwise.
 * Never a stack trace to the user.
 */
export function errorHandler(logger: Logger, renderPage: (req: Request, res: Response, status: number, body: ErrorBody) => Promise<void>) {
  return async (error: unknown, req: Request, res: Response, _next: NextFunction): Promise<void> => {
    const state = res.locals.rsv as RequestState | undefined;
    const t = state?.t ?? tFor(DEFAULT_LANGUAGE);
    let appError = toAppError(error);
    if (!appError) {
      logger.error({ err: error, reqId: (req as { id?: unknown }).id, url: req.originalUrl }, 'unexpected error');
    }
    const status = appError?.status ?? 500;
    const body: ErrorBody = appError ? errorBody(appError, t) : { error: 'internal', message: t('errors:internal') };
    if (res.headersSent) {
      res.end();
      return;
    }
    if (appError instanceof BusyError) res.set('Retry-After', String(appError.retryAfterSeconds));
    if (wantsJson(req)) {
      res.status(status).json(body);
      return;
    }
    try {
      await renderPage(req, res, status, body);
    } catch (renderError) {
      logger.error({ err: renderError }, 'error page failed');
      if (!res.headersSent) res.status(status).type('text/plain').send(body.message);
    }
    appError = null;
  };
}

export function notFoundHandler(_req: Request, _res: Response, next: NextFunction): void {
  next(new NotFoundError('routeNotFound'));
}
