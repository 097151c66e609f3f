import path from 'node:path';
import express, { Express, Request, Response, NextFunction, Router } from 'express';
import helmet from 'helmet';
import ejs from 'ejs';
import pino, { Logger } from 'pino';
import pinoHttp from 'pino-http';
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { HOOK_API_VERSION, Host, HostUser, MenuEntry, PageOptions } from '../host';
import { HostDirectory } from '../hostkit/directory';
import { SessionStore } from '../hostkit/sessions';
import { MailCatcher } from './mailcatcher';
import { MODULE_ROOT } from '../manifest';
import { pickLanguage, tFor, normalizeLanguage, T } from '../i18n';
import { csrfTokenFor, csrfTokenValid } from '../http/csrf';
import { CSP_DIRECTIVES } from '../http/router';

const VIEWS = path.join(MODULE_ROOT, 'src', 'devhost', 'views');

export interface ReferenceHostOptions {
  knex: Knex;
  kind: 'postgres' | 'pglite';
  publicUrl: string;
  logger?: Logger;
  /** Secret for the host's own login-form CSRF tokens. */
  secret?: string;
  mailCatcher?: MailCatcher;
  /** Log every request (off in tests). */
  httpLog?: boolean;
}

/** Icons the frame knows, inline SVG paths (no external request, no inline script). */
const ICONS: Record<string, string> = {
  'calendar-wrench': 'M7 2v2H5a2 2 0 0 0-2 2v13a2 2 0 0 0 2 2h7v-2H5V9h14v3h2V6a2 2 0 0 0-2-2h-2V2h-2v2H9V2H7zm11.7 12.3-1.4 1.4 1 1-3.6 3.6-1-1-1.4 1.4 3.4 3.4 1.4-1.4-1-1 3.6-3.6 1 1 1.4-1.4-3.4-3.4z',
};

/**
 * The reference host: a small ENT that implements the hook API for real, for `npm start` and for the tests.
 * Users, structures, groups and sessions live in its `host_` tables; sign-in is a list of demo accounts.
 */
export class ReferenceHost {
  readonly app: Express;
  readonly directory: HostDirectory;
  readonly sessions: SessionStore;
  readonly menu: MenuEntry[] = [];
  readonly logger: Logger;
  readonly host: Host;
  private readonly secret: string;

  constructor(private readonly options: ReferenceHostOptions) {
    this.logger = options.logger ?? pino({ name: 'reference-host', level: process.env.LOG_LEVEL ?? 'info' });
    this.directory = new HostDirectory(options.knex);
    this.sessions = new SessionStore(options.knex, { secure: options.publicUrl.startsWith('https:') });
    this.secret = options.secret ?? crypto.randomBytes(32).toString('base64url');
    this.app = express();
    this.app.disable('x-powered-by');
    this.app.set('trust proxy', process.env.TRUST_PROXY ?? false);
    if (options.httpLog !== false) {
      // Cookies and tokens never reach the logs.
      this.app.use(
        pinoHttp({
          logger: this.logger,
          genReqId: () => crypto.randomUUID(),
          quietReqLogger: true,
          redact: { paths: ['req.headers.cookie', 'req.headers["x-csrf-token"]', 'req.headers.authorization', 'res.headers["set-cookie"]'], censor: '[redacted]' },
        }),
      );
    } else {
      this.app.use((req, _res, next) => {
        (req as Request & { id: string }).id = crypto.randomUUID();
        next();
      });
    }
    this.host = this.buildHost();
    this.mountHostRoutes();
  }

  private buildHost(): Host {
    const { knex, kind, publicUrl } = this.options;
    const storeParts = this.directory.hookParts();
    return {
      apiVersion: HOOK_API_VERSION,
      name: 'reference',
      database: { knex, kind },
      http: {
        mount: (prefix: string, router: Router) => {
          this.app.use(prefix, router);
        },
        publicUrl: () => publicUrl,
      },
      auth: {
        currentUser: (req) => this.currentUser(req),
        sessionId: (req) => ((req as Request & { _hostSession?: { id: string } | null })._hostSession?.id ?? null),
        loginUrl: (returnTo) => `/login?returnTo=${encodeURIComponent(returnTo)}`,
      },
      ...storeParts,
      menu: { register: (entry) => void this.menu.push(entry) },
      layout: { render: (req, res, page) => this.renderFrame(req, res, page) },
      timeline: {
        notify: async (n) => {
          if (!n.recipients.length) return;
          await this.options.knex('host_timeline').insert(n.recipients.map((userId) => ({ user_id: userId, message_key: n.messageKey, params: JSON.stringify(n.params), url: n.url })));
        },
      },
    };
  }

  async currentUser(req: Request): Promise<HostUser | null> {
    // The session and its user in one query (every request starts here).
    const user = await this.sessions.resolveUser(req, (id, now) => this.directory.sessionUser(id, now));
    return user && !user.functional ? user : null;
  }

  private async visibleMenu(user: HostUser | null, t: T) {
    if (!user) return [];
    const visible = [];
    for (const entry of this.menu) {
      if (entry.isVisible && !(await entry.isVisible(user))) continue;
      visible.push({ label: t(`common:${entry.labelKey}`), href: entry.href, icon: ICONS[entry.icon] ?? null });
    }
    return visible;
  }

  async renderFrame(req: Request, res: Response, page: PageOptions): Promise<void> {
    const user = await this.currentUser(req);
    const lang = pickLanguage({ userLanguage: user?.language, query: req.query.lang, acceptLanguage: req.headers['accept-language'] });
    const t = tFor(lang);
    const session = await this.sessions.resolve(req);
    const structures = user ? await this.directory.getStructures(user.structures) : [];
    const unread = user ? Number((await this.options.knex('host_timeline').where({ user_id: user.id }).whereNull('read_at').count({ n: '*' }))[0]!.n) : 0;
    const html = await ejs.renderFile(path.join(VIEWS, 'frame.ejs'), {
      unread,
      t,
      lang,
      user,
      page,
      menu: await this.visibleMenu(user, t),
      structures,
      currentPath: req.originalUrl,
      csrfToken: session ? csrfTokenFor(this.secret, session.id) : null,
    });
    res.status(page.status ?? 200).type('html').send(html);
  }

  private async renderHostPage(req: Request, res: Response, view: string, titleKey: string, data: Record<string, unknown>, status = 200) {
    const user = await this.currentUser(req);
    const lang = pickLanguage({ userLanguage: user?.language, query: req.query.lang, acceptLanguage: req.headers['accept-language'] });
    const t = tFor(lang);
    const body = await ejs.renderFile(path.join(VIEWS, `${view}.ejs`), { t, lang, user, ...data });
    await this.renderFrame(req, res, { title: t(titleKey), body, status });
  }

  private mountHostRoutes(): void {
    const app = this.app;
    app.use(helmet({ contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES }, crossOriginEmbedderPolicy: false }));
    app.use('/host/assets', express.static(path.join(VIEWS, 'assets'), { maxAge: '1h', fallthrough: false }));
    const form = express.urlencoded({ extended: false, limit: '10kb' });

    app.get('/', (_req, res) => res.redirect(302, '/reservations'));

    app.get('/login', async (req, res, next) => {
      try {
        const accounts = await this.options.knex('host_users as u')
          .leftJoin('host_user_structures as us', 'us.user_id', 'u.id')
          .leftJoin('host_structures as s', 's.id', 'us.structure_id')
          .whereNull('u.functional_structure_id')
          .groupBy('u.id', 'u.login', 'u.display_name', 'u.profile')
          .orderBy('u.login')
          .select('u.id', 'u.login', 'u.display_name as displayName', 'u.profile', this.options.knex.raw(`string_agg(DISTINCT s.name, ', ') AS schools`));
        const returnTo = safeReturnTo(req.query.returnTo);
        await this.renderHostPage(req, res, 'login', 'host:login.title', { accounts, returnTo, error: null });
      } catch (error) {
        next(error);
      }
    });

    app.post('/login', form, async (req, res, next) => {
      try {
        const login = typeof req.body?.login === 'string' ? req.body.login.trim() : '';
        const returnTo = safeReturnTo(req.body?.returnTo);
        const user = login ? await this.directory.userByLogin(login) : null;
        if (!user) {
          const t = tFor(pickLanguage({ query: req.query.lang, acceptLanguage: req.headers['accept-language'] }));
          if (wantsJson(req)) {
            res.status(401).json({ error: 'unknown_login', message: t('host:login.unknown') });
            return;
          }
          await this.renderHostPage(req, res, 'login', 'host:login.title', { accounts: [], returnTo, error: t('host:login.unknown') }, 401);
          return;
        }
        // A new session id at each sign-in (no session fixation); the demo host has no password, on purpose.
        await this.sessions.destroy(req, res);
        await this.sessions.create(res, user.id);
        res.redirect(303, returnTo);
      } catch (error) {
        next(error);
      }
    });

    app.post('/logout', form, async (req, res, next) => {
      try {
        const session = await this.sessions.resolve(req);
        if (session && !csrfTokenValid(this.secret, session.id, req.body?._csrf ?? req.get('x-csrf-token'))) {
          res.status(403).type('text/plain').send(tFor('fr')('errors:csrf'));
          return;
        }
        await this.sessions.destroy(req, res);
        res.redirect(303, '/login');
      } catch (error) {
        next(error);
      }
    });

    // The language switch of the frame: stored on the host user, as an ENT keeps its users' language.
    app.post('/lang', form, async (req, res, next) => {
      try {
        const session = await this.sessions.resolve(req);
        const lang = normalizeLanguage(req.body?.lang);
        const returnTo = safeReturnTo(req.body?.returnTo);
        if (!session || !lang || !csrfTokenValid(this.secret, session.id, req.body?._csrf)) {
          res.redirect(303, returnTo);
          return;
        }
        await this.options.knex('host_users').where({ id: session.userId }).update({ language: lang, updated_at: new Date() });
        res.redirect(303, returnTo);
      } catch (error) {
        next(error);
      }
    });

    // The in-app notifications the module sends through the hook API's timeline; reading the page marks them read.
    app.get('/timeline', async (req, res, next) => {
      try {
        const user = await this.currentUser(req);
        if (!user) {
          res.redirect(303, `/login?returnTo=${encodeURIComponent('/timeline')}`);
          return;
        }
        const rows = await this.options.knex('host_timeline').where({ user_id: user.id }).orderBy('id', 'desc').limit(100);
        await this.options.knex('host_timeline').where({ user_id: user.id }).whereNull('read_at').update({ read_at: new Date() });
        const items = rows.map((r: { message_key: string; params: Record<string, unknown>; url: string; created_at: Date; read_at: Date | null }) => ({
          key: r.message_key,
          params: r.params,
          url: new URL(r.url, 'http://x').pathname + new URL(r.url, 'http://x').search,
          date: r.created_at.toISOString(),
          unread: r.read_at === null,
        }));
        if (wantsJson(req)) {
          res.json(items);
          return;
        }
        await this.renderHostPage(req, res, 'timeline', 'host:timeline.title', { items });
      } catch (error) {
        next(error);
      }
    });

    app.get('/mail', async (req, res, next) => {
      try {
        const user = await this.currentUser(req);
        if (!user) {
          if (wantsJson(req)) {
            res.status(401).json({ error: 'unauthenticated', message: tFor(pickLanguage({ acceptLanguage: req.headers['accept-language'] }))('errors:unauthenticated') });
          } else res.redirect(303, `/login?returnTo=${encodeURIComponent('/mail')}`);
          return;
        }
        const mails = this.options.mailCatcher ? await this.options.mailCatcher.list() : [];
        if (wantsJson(req)) {
          res.json(mails.map((m) => ({ to: m.to, subject: m.subject, text: m.text, html: m.html, date: m.date, headers: m.headers })));
          return;
        }
        await this.renderHostPage(req, res, 'mail', 'host:mail.title', { mails });
      } catch (error) {
        next(error);
      }
    });
  }

  /** Last handlers: the host's own 404 and error pages. */
  finish(): void {
    this.app.use(async (req: Request, res: Response) => {
      const t = tFor(pickLanguage({ acceptLanguage: req.headers['accept-language'] }));
      if (wantsJson(req)) {
        res.status(404).json({ error: 'not_found', message: t('errors:routeNotFound') });
        return;
      }
      await this.renderHostPage(req, res, 'notfound', 'errors:pageTitle', {}, 404);
    });
    this.app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
      const e = error as { type?: string; status?: number };
      const t = tFor(pickLanguage({ acceptLanguage: req.headers['accept-language'] }));
      const status = e?.type === 'entity.too.large' ? 413 : e?.type === 'entity.parse.failed' ? 400 : 500;
      if (status === 500) this.logger.error({ err: error }, 'host error');
      const body = { error: status === 500 ? 'internal' : status === 413 ? 'payload_too_large' : 'invalid_input', message: t(status === 500 ? 'errors:internal' : status === 413 ? 'errors:payloadTooLarge' : 'errors:malformedJson') };
      if (res.headersSent) return;
      res.status(status).json(body);
    });
  }
}

function wantsJson(req: Request): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

/** Only a local path: never an open redirect to another site. */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\') || value.length > 2000) return '/reservations';
  return value;
}
