import path from 'node:path';
import ejs from 'ejs';
import type { Request, Response } from 'express';
import type { ModuleContext } from '../context';
import { MODULE_ROOT } from '../manifest';
import { stateOf } from './request';

export const VIEWS_DIR = path.join(MODULE_ROOT, 'views');

/** Renders a module view to HTML. `<%= %>` escapes; nothing user-typed is ever output with `<%-`. */
export async function renderView(view: string, data: Record<string, unknown>): Promise<string> {
  return ejs.renderFile(path.join(VIEWS_DIR, `${view}.ejs`), data, { async: false, cache: process.env.NODE_ENV === 'production', root: VIEWS_DIR });
}

/** Renders a module page inside the host's frame. */
export async function renderPage(
  ctx: ModuleContext,
  req: Request,
  res: Response,
  view: string,
  title: string,
  data: Record<string, unknown> = {},
  options: { status?: number; structureId?: string } = {},
): Promise<void> {
  const state = stateOf(res);
  const prefix = ctx.manifest.prefix;
  const body = await renderView(view, {
    ...data,
    t: state.t,
    lang: state.lang,
    user: state.user,
    csrfToken: state.csrfToken,
    prefix,
    title,
    url: (p: string) => `${prefix}${p}`,
    loginUrl: ctx.host.auth.loginUrl(req.originalUrl),
  });
  await ctx.host.layout.render(req, res, {
    title,
    body,
    structureId: options.structureId,
    stylesheets: [`${prefix}/assets/module.css`],
    scripts: [`${prefix}/assets/module.js`],
    status: options.status,
  });
}
