import { page, PageRoute } from '../route';
import { schoolsOf } from '../request';

export const homePages: PageRoute[] = [
  page({
    method: 'get',
    path: '/',
    summary: "The module's home: for each of the user's schools, the services they may use.",
    action: 'signedIn',
    scope: { kind: 'user' },
    async handler({ state, module }) {
      // A school's admin also sees a school whose module is off, to switch it back on.
      const schools = (await schoolsOf(module, state)).filter(
        (s) => ((s.services.planning || s.services.incidents) && s.actions.includes('module.access')) || s.actions.includes('module.configure'),
      );
      return { view: 'pages/home', title: state.t('common:module.name'), data: { schools } };
    },
  }),
];
