import express, { Request, Response, NextFunction, Router } from 'express';
import { z } from 'zod';
import type { ModuleContext } from '../context';
import type { HostUser } from '../host';
import { ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from '../errors';
import { csrfTokenValid } from './csrf';
import { zodToValidationError } from './errors';
import { RequestState, stateOf, actionsOf } from './request';
import { serviceEnabled, Service, enabledServicesOf } from '../store/settings';
import { isMultipart, parseMultipart, UploadedFile } from './multipart';

/**
 * The declarative route table (after Ghost's endpoints and Outline's chain): each route says its method, path, input
 * schemas, the one secured action it needs and how to find the structure that action is checked in. The router, the
 * authorization test matrix and the API documentation are derived from these tables.
 */

/** Where the structure of a request comes from. */
export type Scope =
  /** `:sid` in the path. */
  | { kind: 'structure' }
  /** A record's id in the path (`:id`); the record must belong to one of the user's structures, else 404. */
  | { kind: 'record'; table: ScopedTable; param?: string }
  /** No structure: the handler works on the user's own structures (e.g. GET /session). */
  | { kind: 'user' }
  /**
   * Several structures: the user must hold the action in at least one of their schools where the module is on (else
   * 403); the handler gets those schools in `structureIds` (e.g. the cross-school statistics).
   */
  | { kind: 'anyStructure' };

/** Tables whose rows are looked up by id for scoping; each has a `structure_id` column. */
export const SCOPED_TABLES = {
  incident: 'rsv_incidents',
  booking: 'rsv_bookings',
  bookingSeries: 'rsv_booking_series',
  equipment: 'rsv_equipment',
  resourceType: 'rsv_resource_types',
  incidentType: 'rsv_incident_types',
  severity: 'rsv_severities',
  attachment: 'rsv_attachments',
  unavailability: 'rsv_unavailabilities',
  delivery: 'rsv_deliveries',
} as const;
export type ScopedTable = keyof typeof SCOPED_TABLES;

export interface RouteContext<Q, B> {
  req: Request;
  res: Response;
  user: HostUser;
  state: RequestState;
  /** The structure the action was checked in (null for user-scoped routes). */
  structureId: string;
  /** The id of the scoped record (for record scopes). */
  recordId: string;
  /** For `anyStructure` scopes: the user's schools where they hold the action. */
  structureIds: string[];
  params: Record<string, string>;
  query: Q;
  body: B;
  module: ModuleContext;
}

/** A handler's answer: a value sent as JSON, or a raw body. */
export class RawResponse {
  constructor(
    readonly contentType: string,
    readonly body: string | Buffer,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** What every route of the tables declares, API or page: the chain runs on these. */
interface RouteBase<Q extends z.ZodType, B extends z.ZodType> {
  path: string;
  summary: string;
  /** The secured action (any of a list), or `signedIn` for routes open to any signed-in user of the structure. */
  action: string | string[];
  scope: Scope;
  /** The service that must be switched on in the structure (else 404). */
  service?: Service;
  query?: Q;
  body?: B;
  /**
   * The route also takes multipart/form-data (file inputs): parsed before the chain, fields become the body (CSRF from
   * the header or the `_csrf` field) and files land in `req.files`. maxFileBytes defaults to config.maxFileBytes.
   */
  multipart?: { maxFileBytes?: number; maxFiles: number };
}

export interface ApiRoute<Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> extends RouteBase<Q, B> {
  method: 'get' | 'post' | 'put' | 'delete';
  status?: number;
  /** For tests and docs: a valid example body. */
  example?: unknown;
  handler(ctx: RouteContext<z.infer<Q>, z.infer<B>>): Promise<unknown>;
}

/** Helps TypeScript infer a route's schemas. */
export function route<Q extends z.ZodType = z.ZodUndefined, B extends z.ZodType = z.ZodUndefined>(def: ApiRoute<Q, B>): ApiRoute {
  return def as unknown as ApiRoute;
}

export const idParam = z.string().regex(/^[1-9][0-9]{0,17}$/);

const MUTATING = new Set(['post', 'put', 'patch', 'delete']);

/** Finds the structure of a scoped record, only among the user's structures: another school's record is a 404. */
export async function structureOfRecord(ctx: ModuleContext, table: ScopedTable, id: string, user: HostUser): Promise<string> {
  if (!idParam.safeParse(id).success) throw new NotFoundError();
  const row = await ctx.knex(SCOPED_TABLES[table]).select('structure_id').where({ id }).whereIn('structure_id', user.structures).first();
  if (!row) throw new NotFoundError();
  return row.structure_id as string;
}

/**
 * The chain every route runs: signed in -> CSRF for mutations -> scope (404 outside the user's schools or when the
 * service is off) -> the one action (403) -> input validation -> handler.
 */
export async function runChain(ctx: ModuleContext, def: ApiRoute | PageRoute, req: Request, res: Response): Promise<unknown> {
  const state = stateOf(res);
  const user = state.user;
  if (!user) throw new UnauthenticatedError();
  if (MUTATING.has(def.method)) {
    const token = req.get('x-csrf-token') ?? (req.body as Record<string, unknown> | undefined)?._csrf;
    if (!csrfTokenValid(ctx.secret, state.sessionId, token)) throw new ForbiddenError('csrf', {}, 'csrf');
  }
  const params = req.params as Record<string, string>;
  let structureId = '';
  let recordId = '';
  if (def.scope.kind === 'structure') {
    structureId = params.sid ?? '';
    if (!user.structures.includes(structureId)) throw new NotFoundError();
  } else if (def.scope.kind === 'record') {
    recordId = params[def.scope.param ?? 'id'] ?? '';
    structureId = await structureOfRecord(ctx, def.scope.table, recordId, user);
  }
  let structureIds: string[] = [];
  if (def.scope.kind === 'anyStructure') {
    const [actions, services] = await Promise.all([actionsOf(ctx, state), enabledServicesOf(ctx.knex, user.structures)]);
    const needed = Array.isArray(def.action) ? def.action : [def.action];
    structureIds = user.structures.filter((s) => (services[s]?.planning || services[s]?.incidents) && needed.some((a) => (actions[s] ?? []).includes(a)));
    if (!structureIds.length) throw new ForbiddenError();
  }
  if (structureId) {
    if (!(await serviceEnabled(ctx.knex, structureId, def.service ?? 'any'))) throw new NotFoundError();
    const actions = (await actionsOf(ctx, state))[structureId] ?? [];
    const needed = Array.isArray(def.action) ? def.action : [def.action];
    if (!needed.includes('signedIn') && !needed.some((a) => actions.includes(a))) throw new ForbiddenError();
  }
  const query = def.query ? def.query.safeParse(req.query) : { success: true as const, data: undefined };
  if (!query.success) throw zodToValidationError(query.error);
  let rawBody: unknown = req.body;
  if (rawBody && typeof rawBody === 'object' && '_csrf' in rawBody) {
    const { _csrf: _ignored, ...rest } = rawBody as Record<string, unknown>;
    rawBody = rest;
  }
  const body = def.body ? def.body.safeParse(rawBody ?? {}) : { success: true as const, data: undefined };
  if (!body.success) {
    if ('onInvalid' in def && def.onInvalid) return def.onInvalid(zodToValidationError(body.error), { req, res, user, state, structureId, recordId, structureIds, params, query: query.data, body: rawBody, module: ctx });
    throw zodToValidationError(body.error);
  }
  return (def.handler as (c: RouteContext<unknown, unknown>) => Promise<unknown>)({
    req, res, user, state, structureId, recordId, structureIds, params, query: query.data, body: body.data, module: ctx,
  });
}

/**
 * Reads a multipart body for a route that takes one (else does nothing). Only for a signed-in user: nobody else's
 * upload is held in memory.
 */
export async function readMultipart(ctx: ModuleContext, limits: { maxFileBytes?: number; maxFiles: number } | undefined, req: Request, res: Response): Promise<void> {
  if (!limits || !isMultipart(req)) return;
  if (!stateOf(res).user) throw new UnauthenticatedError();
  const { fields, files } = await parseMultipart(req, { maxFileBytes: limits.maxFileBytes ?? ctx.config.maxFileBytes, maxFiles: limits.maxFiles });
  req.body = fields;
  (req as Request & { files?: UploadedFile[] }).files = files;
}

/** The files of a multipart request (none for any other). */
export function filesOf(req: Request): UploadedFile[] {
  return (req as Request & { files?: UploadedFile[] }).files ?? [];
}

export function guard(ctx: ModuleContext, def: ApiRoute) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      await readMultipart(ctx, def.multipart, req, res);
      const result = await runChain(ctx, def, req, res);
      if (res.headersSent) return;
      if (result instanceof RawResponse) {
        res.status(def.status ?? 200).type(result.contentType).set(result.headers).send(result.body);
      } else if (result === undefined) {
        res.status(def.status ?? 204).end();
      } else {
        res.status(def.status ?? 200).json(result);
      }
    } catch (error) {
      next(error);
    }
  };
}

/** A page's answer: a view to render in the host frame, or a redirect (Post/Redirect/Get after a form). */
export type PageResult =
  | { view: string; title: string; data?: Record<string, unknown>; status?: number; structureId?: string }
  | { redirect: string };

export interface PageRoute<Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> extends RouteBase<Q, B> {
  method: 'get' | 'post';
  /** A form whose input is refused re-renders itself with the errors instead of an error page. */
  onInvalid?(error: ValidationError, ctx: RouteContext<z.infer<Q>, unknown>): Promise<PageResult>;
  handler(ctx: RouteContext<z.infer<Q>, z.infer<B>>): Promise<PageResult>;
}

export function page<Q extends z.ZodType = z.ZodUndefined, B extends z.ZodType = z.ZodUndefined>(def: PageRoute<Q, B>): PageRoute {
  return def as unknown as PageRoute;
}

export function buildApiRouter(ctx: ModuleContext, routes: ApiRoute[]): Router {
  const router = express.Router();
  for (const def of routes) router[def.method](def.path, guard(ctx, def));
  return router;
}
