import { z } from 'zod';
import { route, ApiRoute } from '../route';
import { NotFoundError } from '../../errors';
import { SERVICE_ACCOUNT_LOGIN } from '../../services/install';
import type { FunctionalAccount } from '../../host';

function presentAccount(account: FunctionalAccount) {
  return {
    id: account.id,
    login: account.login,
    displayName: account.displayName,
    email: account.email,
    delegates: account.delegates.map((d) => ({ id: d.id, login: d.login, displayName: d.displayName })),
  };
}

export const accountRoutes: ApiRoute[] = [
  route({
    method: 'get',
    path: '/structures/:sid/functional-account',
    summary: "The school's shared service.informatique account and its delegates (the digital referents).",
    action: ['incident.manage', 'module.configure'],
    scope: { kind: 'structure' },
    async handler({ structureId, module }) {
      const account = await module.host.accounts.getFunctionalAccount(structureId, SERVICE_ACCOUNT_LOGIN);
      if (!account) throw new NotFoundError();
      return presentAccount(account);
    },
  }),
  route({
    method: 'put',
    path: '/structures/:sid/functional-account/delegates',
    summary: 'Names the referents: the users who act for service.informatique.',
    action: 'module.configure',
    scope: { kind: 'structure' },
    body: z.object({ userIds: z.array(z.string().min(1).max(200)).max(100) }).strict(),
    example: { userIds: [] },
    async handler({ structureId, body, module }) {
      return presentAccount(await module.host.accounts.setDelegates(structureId, SERVICE_ACCOUNT_LOGIN, body.userIds));
    },
  }),
];
