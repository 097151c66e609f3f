import { z } from 'zod';
import { route, ApiRoute } from '../route';
import { grantMatrix, replaceGrants } from '../../services/rights';

const subject = z.object({ kind: z.enum(['profile', 'group', 'delegates']), id: z.string().min(1).max(200) }).strict();

export const rightsRoutes: ApiRoute[] = [
  route({
    method: 'get',
    path: '/structures/:sid/grants',
    summary: "Who may do what in the school: the declared actions, the grantable profiles and groups, and the grants.",
    action: 'module.configure',
    scope: { kind: 'structure' },
    service: 'none',
    async handler({ structureId, module, state }) {
      const m = await grantMatrix(module, structureId);
      return {
        actions: m.actions.map((a) => ({ name: a.name, label: state.t(`admin:${a.labelKey}`), crossStructure: a.crossStructure })),
        subjects: m.subjects.map((s) => ({ kind: s.kind, id: s.id, label: s.label ?? state.t(`admin:rights.subject.${s.kind === 'group' ? 'group' : s.id}`) })),
        grants: [...m.granted].map((k) => {
          const [action, kind, id] = k.split('|');
          return { action, subject: { kind, id } };
        }),
      };
    },
  }),
  route({
    method: 'put',
    path: '/structures/:sid/grants',
    summary: "Replaces the school's grants (the admin's matrix); the local admins always keep module.configure.",
    action: 'module.configure',
    scope: { kind: 'structure' },
    service: 'none',
    body: z.object({ grants: z.array(z.object({ action: z.string().min(1).max(100), subject }).strict()).max(500) }).strict(),
    example: { grants: [{ action: 'module.configure', subject: { kind: 'profile', id: 'AdminLocal' } }] },
    async handler({ structureId, module, body }) {
      await replaceGrants(module, structureId, body.grants);
      return undefined;
    },
  }),
];
