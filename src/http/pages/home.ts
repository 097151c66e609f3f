import { page, PageRoute } from '../route';
import { actionsOf } from '../request';
import { enabledServicesOf } from '../../store/settings';

export const homePages: PageRoute[] = [
  page({
    method: 'get',
    path: '/',
    summary: "The module's home: for each of the user's schools, the services they may use.",
    action: 'signedIn',
    scope: { kind: 'user' },
    async handler({ user, state, module }) {
      const [structures, rights, services] = await Promise.all([
        module.host.directory.getStructures(user.structures),
        actionsOf(module, state),
        enabledServicesOf(module.knex, user.structures),
      ]);
      const schools = structures
        .map((s) => ({ ...s, services: services[s.id] ?? { planning: false, incidents: false }, actions: rights[s.id] ?? [] }))
        .filter((s) => ((s.services.planning || s.services.incidents) && s.actions.includes('module.access')) || s.actions.includes('module.configure'));
      return { view: 'pages/home', title: state.t('common:module.name'), data: { schools } };
    },
  }),
];
