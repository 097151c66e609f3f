import { route, ApiRoute } from '../route';
import { schoolsOf } from '../request';

export const sessionRoutes: ApiRoute[] = [
  route({
    method: 'get',
    path: '/session',
    summary: 'The signed-in user, their structures, their rights per structure and the CSRF token for mutations.',
    action: 'signedIn',
    scope: { kind: 'user' },
    async handler({ user, state, module }) {
      // A structure where the module is off is not the module's business: it is left out, as are its rights.
      const active = (await schoolsOf(module, state)).filter((s) => s.services.planning || s.services.incidents);
      return {
        user: { id: user.id, login: user.login, displayName: user.displayName, profile: user.profile },
        language: state.lang,
        structures: active.map((s) => ({ id: s.id, name: s.name, services: s.services })),
        rights: Object.fromEntries(active.map((s) => [s.id, s.actions])),
        csrfToken: state.csrfToken,
      };
    },
  }),
];
