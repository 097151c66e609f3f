import type { Request, Response, NextFunction } from 'express';
import type { HostUser } from '../host';
import type { ModuleContext } from '../context';
import { Language, pickLanguage, T, tFor } from '../i18n';
import { csrfTokenFor } from './csrf';
import { enabledServicesOf, withSettingsMemo } from '../store/settings';

/** What the module knows of a request once its first middleware ran. */
export interface RequestState {
  user: HostUser | null;
  sessionId: string | null;
  lang: Language;
  t: T;
  csrfToken: string | null;
  /** Per-request memo of rights, so that a page asking `can` several times costs one query. */
  actions?: Record<string, string[]>;
}

export function stateOf(res: Response): RequestState {
  return res.locals.rsv as RequestState;
}

export function requestState(ctx: ModuleContext) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const user = await ctx.host.auth.currentUser(req);
    const sessionId = user ? ctx.host.auth.sessionId(req) : null;
    const lang = pickLanguage({ userLanguage: user?.language, query: req.query.lang, acceptLanguage: req.headers['accept-language'] });
    const state: RequestState = {
      user,
      sessionId,
      lang,
      t: tFor(lang),
      csrfToken: sessionId ? csrfTokenFor(ctx.secret, sessionId) : null,
    };
    res.locals.rsv = state;
    res.setHeader('Content-Language', lang);
    withSettingsMemo(() => next());
  };
}

/** The user's actions per structure, asked of the host once per request. */
export async function actionsOf(ctx: ModuleContext, state: RequestState): Promise<Record<string, string[]>> {
  if (!state.user) return {};
  state.actions ??= await ctx.host.rights.actionsOf(state.user);
  return state.actions;
}

/** The user's schools with their services and the user's actions there, in one go (home page, GET /session). */
export async function schoolsOf(ctx: ModuleContext, state: RequestState) {
  const user = state.user!;
  const [structures, rights, services] = await Promise.all([
    ctx.host.directory.getStructures(user.structures),
    actionsOf(ctx, state),
    enabledServicesOf(ctx.knex, user.structures),
  ]);
  return structures.map((s) => ({ ...s, services: services[s.id] ?? { planning: false, incidents: false }, actions: rights[s.id] ?? [] }));
}
