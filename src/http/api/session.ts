import { z } from 'zod';
import { route, ApiRoute } from '../route';
import { actionsOf } from '../request';
import { enabledServicesOf } from '../../store/settings';

export const sessionRoutes: ApiRoute[] = [
  route({
    method: 'get',
    path: '/session',
    summary: 'The signed-in user, their structures, their rights per structure and the CSRF token for mutations.',
    action: 'signedIn',
    scope: { kind: 'user' },
    async handler({ user, state, module }) {
      const [structures, rights, services] = await Promise.all([
        module.host.directory.getStructures(user.structures),
        actionsOf(module, state),
        enabledServicesOf(module.knex, user.structures),
      ]);
      // A structure where the module is off is not the module's business: it is left out, as are its rights.
      const active = structures.filter((s) => services[s.id]?.planning || services[s.id]?.incidents);
      return {
        user: { id: user.id, login: user.login, displayName: user.displayName, profile: user.profile },
        language: state.lang,
        structures: active.map((s) => ({ id: s.id, name: s.name, services: services[s.id] })),
        rights: Object.fromEntries(active.map((s) => [s.id, rights[s.id] ?? []])),
        csrfToken: state.csrfToken,
      };
    },
  }),
];

export const emptyQuery = z.object({}).strict();
