import type { Express } from 'express';
import request from 'supertest';
import type { Response } from 'supertest';
import type { Host, MenuEntry } from '../../src/host';
import type { InstalledModule } from '../../src';
import type { CaughtMail } from '../../src/devhost/mailcatcher';
import { startTestHost } from '../helpers/host';
import { startTestOidcHost } from './oidc-host';

export const API = '/reservations/api/v1';

/** A signed-in browser as the contract suite drives it: the host's session cookie, the module's CSRF token. */
export interface ContractClient {
  userId: string;
  cookie: string;
  csrf: string;
  get(path: string, accept?: string): Promise<Response>;
  post(path: string, body?: unknown): Promise<Response>;
  put(path: string, body?: unknown): Promise<Response>;
  /** A form post as a browser sends it (urlencoded, `_csrf` field, no header). */
  form(path: string, fields: Record<string, string | string[]>): Promise<Response>;
}

/** What the contract suite needs from a host implementation under test. */
export interface ContractSubject {
  name: string;
  host: Host;
  app: Express;
  module: InstalledModule;
  menu(): MenuEntry[];
  /** Signs a person of the shared fixtures in, the way this host does it. */
  signIn(login: string): Promise<ContractClient>;
  /** A school the host did not know appears (as it happens on this host). */
  addStructure(id: string, name: string): Promise<void>;
  /** What the SMTP server this host's module sends to has received, newest first. */
  mails(): Promise<CaughtMail[]>;
  stop(): Promise<void>;
}

export function clientFor(app: Express, cookie: string, csrf = '', userId = ''): ContractClient {
  const url = (path: string) => (path.startsWith('/reservations') || path.startsWith('/auth') || path === '/' ? path : `${API}${path}`);
  return {
    userId,
    cookie,
    csrf,
    get: (path, accept = 'application/json') => request(app).get(url(path)).set('Cookie', cookie).set('Accept', accept),
    post: (path, body) => request(app).post(url(path)).set('Cookie', cookie).set('X-CSRF-Token', csrf).send(body as object),
    put: (path, body) => request(app).put(url(path)).set('Cookie', cookie).set('X-CSRF-Token', csrf).send(body as object),
    form: (path, fields) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(fields)) for (const value of Array.isArray(v) ? v : [v]) params.append(k, value);
      // Forms post to pages (the module's or the host's), never to the JSON API: the path is used as is.
      return request(app).post(path).set('Cookie', cookie).set('Accept', 'text/html').type('form').send(params.toString());
    },
  };
}

async function completeClient(app: Express, cookie: string): Promise<ContractClient> {
  const session = await request(app).get(`${API}/session`).set('Cookie', cookie).set('Accept', 'application/json');
  if (session.status !== 200) throw new Error(`no session after sign-in: ${session.status} ${session.text.slice(0, 200)}`);
  return clientFor(app, cookie, session.body.csrfToken, session.body.user.id);
}

export async function referenceSubject(): Promise<ContractSubject> {
  const h = await startTestHost();
  return {
    name: 'reference host',
    host: h.referenceHost.host,
    app: h.app,
    module: h.module,
    menu: () => h.referenceHost.menu,
    async signIn(login) {
      const res = await request(h.app).post('/login').type('form').send({ login });
      if (res.status !== 303) throw new Error(`sign-in of ${login} failed: ${res.status}`);
      const cookie = (res.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).filter((c) => !c.endsWith('=')).join('; ');
      return completeClient(h.app, cookie);
    },
    async addStructure(id, name) {
      // The reference host's directory gains a school; the host runs the module's install step for it.
      await h.db.knex('host_structures').insert({ id, name }).onConflict('id').ignore();
      await h.module.installStructure(id);
    },
    mails: () => h.mailCatcher.list(2000),
    stop: () => h.stop(),
  };
}

export async function oidcSubject(): Promise<ContractSubject> {
  const h = await startTestOidcHost();
  return {
    name: 'OpenID Connect host',
    host: h.oidcHost.host,
    app: h.oidcHost.app,
    module: h.module,
    menu: () => h.oidcHost.menu,
    async signIn(login) {
      const { cookie, status } = await h.signIn(login);
      if (status !== 200) throw new Error(`sign-in of ${login} through the provider ended with ${status}`);
      return completeClient(h.oidcHost.app, cookie);
    },
    async addStructure(id, name) {
      // On this host a school appears when one of its people signs in with it in their claims.
      const sub = `oidc-first-of-${id}`;
      h.provider.accounts.set(sub, { preferred_username: `first.${id}`, name: `Première personne de ${name}`, profile: 'Teacher', structures: [{ id, name }] });
      const { status } = await h.signIn('', { sub });
      if (status !== 200) throw new Error(`first sign-in of ${id} ended with ${status}`);
    },
    mails: () => h.mailCatcher.list(2000),
    stop: () => h.stop(),
  };
}
