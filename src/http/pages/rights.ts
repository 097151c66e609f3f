import { z } from 'zod';
import { page, PageRoute, RouteContext } from '../route';
import { grantMatrix, replaceGrants, subjectKey } from '../../services/rights';
import { AppError } from '../../errors';
import { errorBody } from '../errors';
import type { GrantSubject } from '../../host';

async function render(c: RouteContext<unknown, unknown>, extra: { errors?: unknown; done?: string | null; status?: number } = {}) {
  const m = await grantMatrix(c.module, c.structureId);
  const [structure] = await c.module.host.directory.getStructures([c.structureId]);
  return {
    view: 'pages/admin-rights',
    title: c.state.t('admin:rights.title'),
    structureId: c.structureId,
    status: extra.status,
    data: {
      structureId: c.structureId,
      school: structure?.name ?? c.structureId,
      actions: m.actions,
      subjects: m.subjects.map((s) => ({ ...s, key: `${s.kind}|${s.id}`, label: s.label ?? c.state.t(`admin:rights.subject.${s.kind === 'group' ? 'group' : s.id}`) })),
      granted: [...m.granted],
      errors: extra.errors ?? null,
      done: extra.done ?? null,
    },
  };
}

export const rightsPages: PageRoute[] = [
  page({
    method: 'get',
    path: '/structures/:sid/admin/rights',
    summary: 'The matrix of actions by profile and group, per school.',
    action: 'module.configure',
    scope: { kind: 'structure' },
    service: 'none',
    query: z.object({ done: z.string().max(20).optional(), lang: z.string().optional() }).strict(),
    async handler(c) {
      return render(c, { done: c.query.done ?? null });
    },
  }),
  page({
    method: 'post',
    path: '/structures/:sid/admin/rights',
    summary: 'Saves the matrix: each checked box `g` = "action|kind|id" is a grant.',
    action: 'module.configure',
    scope: { kind: 'structure' },
    service: 'none',
    body: z.object({ g: z.union([z.string().max(300), z.array(z.string().max(300)).max(500)]).optional() }).strict(),
    async handler(c) {
      const boxes = c.body.g === undefined ? [] : Array.isArray(c.body.g) ? c.body.g : [c.body.g];
      const grants = boxes.map((box) => {
        const [action = '', kind = '', id = ''] = box.split('|');
        return { action, subject: { kind, id } as GrantSubject };
      });
      try {
        await replaceGrants(c.module, c.structureId, grants);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        const body = errorBody(error, c.state.t);
        return render(c, { errors: { message: body.message, fields: [] }, status: error.status });
      }
      return { redirect: `${c.module.manifest.prefix}/structures/${encodeURIComponent(c.structureId)}/admin/rights?done=saved` };
    },
  }),
];

export { subjectKey };
