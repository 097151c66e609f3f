import crypto from 'node:crypto';
import path from 'node:path';
import express, { Express, NextFunction, Request, Response, Router } from 'express';
import helmet from 'helmet';
import ejs from 'ejs';
import pino, { Logger } from 'pino';
import pinoHttp from 'pino-http';
import type { Knex } from 'knex';
import { parse as parseCookie, serialize as serializeCookie } from 'cookie';
import { HOOK_API_VERSION, Host, HostUser, MenuEntry, PageOptions } from '../host';
import { HostDirectory } from '../hostkit/directory';
import { SessionStore } from '../hostkit/sessions';
import { MODULE_ROOT } from '../manifest';
import { Language, normalizeLanguage, pickLanguage, T, tFor } from '../i18n';
import { csrfTokenFor, csrfTokenValid } from '../http/csrf';
import { CSP_DIRECTIVES } from '../http/router';
import type { OidcHostConfig } from './config';
import { ClaimsError, userFromClaims } from './claims';
import { recordSignIn, StructureInstaller } from './directory-sync';
import { RelyingParty, SignInRefused } from './relying-party';
import type { FetchLike } from './fetch';

const VIEWS = path.join(MODULE_ROOT, 'src', 'oidchost', 'views');

/** The cookie binding a sign-in under way to the browser that started it (login CSRF protection). */
export const BROWSER_COOKIE = 'oidc_browser';
const LOGIN_MINUTES = 10;

function sha256(value: string): string {
  return crypto.createHash('sha256').update(value).digest('base64url');
}

export interface OidcHostOptions {
  knex: Knex;
  kind: 'postgres' | 'pglite';
  config: OidcHostConfig;
  logger?: Logger;
  /** A fetch for the calls to the provider (e.g. one that trusts an extra CA); default: Node's global fetch. */
  fetch?: FetchLike;
  /** Log every request (off in tests). */
  httpLog?: boolean;
}

/**
 * The production host: the module beside any ENT, signed in through the ENT's (or the académie's) OpenID Connect
 * provider. Users, schools and admin status come from the provider's claims at each sign-in and are kept in the
 * `host_` tables (src/hostkit); sessions are rows in PostgreSQL, so any number of processes serve any request.
 */
export class OidcHost {
  readonly app: Express;
  readonly directory: HostDirectory;
  readonly sessions: SessionStore;
  readonly relyingParty: RelyingParty;
  readonly menu: MenuEntry[] = [];
  readonly logger: Logger;
  readonly host: Host;
  private readonly formSecret: string;
  private readonly secure: boolean;
  private installer: StructureInstaller | null = null;
  private purgeTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: OidcHostOptions) {
    const { config } = options;
    this.logger = options.logger ?? pino({ name: 'oidc-host', level: process.env.LOG_LEVEL ?? 'info' });
    this.secure = config.publicUrl.startsWith('https:');
    this.directory = new HostDirectory(options.knex);
    this.sessions = new SessionStore(options.knex, { secure: this.secure });
    this.relyingParty = new RelyingParty(config, this.logger, options.fetch);
    // Derived from SESSION_SECRET: the same on every process, so a form made by one is accepted by another.
    this.formSecret = crypto.createHmac('sha256', config.sessionSecret).update('oidchost:forms').digest('base64url');
    this.app = express();
    this.app.disable('x-powered-by');
    this.app.set('trust proxy', config.trustProxy);
    if (options.httpLog !== false) {
      this.app.use(pinoHttp({ logger: this.logger, genReqId: () => crypto.randomUUID(), quietReqLogger: true }));
    } else {
      this.app.use((req, _res, next) => {
        (req as Request & { id: string }).id = crypto.randomUUID();
        next();
      });
    }
    this.host = this.buildHost();
    this.mountHostRoutes();
  }

  /** The module's install step for a structure seen for the first time (set once the module is installed). */
  setStructureInstaller(installer: StructureInstaller): void {
    this.installer = installer;
  }

  private buildHost(): Host {
    const { knex, kind, config } = this.options;
    return {
      apiVersion: HOOK_API_VERSION,
      name: 'oidc',
      database: { knex, kind },
      http: {
        mount: (prefix: string, router: Router) => {
          this.app.use(prefix, router);
        },
        publicUrl: () => config.publicUrl,
      },
      auth: {
        currentUser: (req) => this.currentUser(req),
        sessionId: (req) => (req as Request & { _hostSession?: { id: string } | null })._hostSession?.id ?? null,
        loginUrl: (returnTo) => `/auth/login?returnTo=${encodeURIComponent(returnTo)}`,
      },
      ...this.directory.hookParts(),
      menu: { register: (entry) => void this.menu.push(entry) },
      layout: { render: (req, res, page) => this.renderFrame(req, res, page) },
      timeline: undefined,
    };
  }

  async currentUser(req: Request): Promise<HostUser | null> {
    // The session and its user in one query (every request starts here).
    const user = await this.sessions.resolveUser(req, (id, now) => this.directory.sessionUser(id, now));
    return user && !user.functional ? user : null;
  }

  private languageOf(req: Request, user: HostUser | null): Language {
    return pickLanguage({ userLanguage: user?.language, query: req.query.lang, acceptLanguage: req.headers['accept-language'] });
  }

  private async visibleMenu(user: HostUser | null, t: T) {
    if (!user) return [];
    const visible = [];
    for (const entry of this.menu) {
      if (entry.isVisible && !(await entry.isVisible(user))) continue;
      visible.push({ label: t(`common:${entry.labelKey}`), href: entry.href });
    }
    return visible;
  }

  /** The school named in the header: the page's, else the user's (all of them when several). */
  private async schoolName(user: HostUser | null, structureId?: string): Promise<string | null> {
    const ids = structureId && user?.structures.includes(structureId) ? [structureId] : (user?.structures ?? []);
    const structures = await this.directory.getStructures(ids);
    return structures.length ? structures.map((s) => s.name).join(', ') : null;
  }

  async renderFrame(req: Request, res: Response, page: PageOptions & { refreshUrl?: string; showSignIn?: boolean }): Promise<void> {
    const user = await this.currentUser(req);
    const lang = this.languageOf(req, user);
    const t = tFor(lang);
    const session = await this.sessions.resolve(req);
    const html = await ejs.renderFile(path.join(VIEWS, 'frame.ejs'), {
      t,
      lang,
      user,
      page,
      menu: await this.visibleMenu(user, t),
      schoolName: await this.schoolName(user, page.structureId),
      entUrl: this.options.config.entUrl ?? null,
      currentPath: req.originalUrl,
      csrfToken: session ? csrfTokenFor(this.formSecret, session.id) : null,
      refreshUrl: page.refreshUrl ?? null,
      showSignIn: page.showSignIn ?? false,
    });
    res.status(page.status ?? 200).type('html').send(html);
  }

  private async renderHostPage(
    req: Request,
    res: Response,
    view: string,
    titleKey: string,
    data: Record<string, unknown>,
    options: { status?: number; refreshUrl?: string; showSignIn?: boolean } = {},
  ): Promise<void> {
    const user = await this.currentUser(req);
    const lang = this.languageOf(req, user);
    const t = tFor(lang);
    const body = await ejs.renderFile(path.join(VIEWS, `${view}.ejs`), { t, lang, user, entUrl: this.options.config.entUrl ?? null, ...data });
    res.setHeader('Cache-Control', 'no-store');
    await this.renderFrame(req, res, { title: t(titleKey), body, ...options });
  }

  private browserCookie(value: string, maxAge: number): string {
    return serializeCookie(BROWSER_COOKIE, value, { httpOnly: true, sameSite: 'lax', secure: this.secure, path: '/auth', maxAge });
  }

  private async refuse(req: Request, res: Response, error: SignInRefused): Promise<void> {
    this.logger.warn({ reason: error.reason, detail: error.detail, reqId: (req as Request & { id?: string }).id }, 'sign-in refused');
    await this.renderHostPage(req, res, 'refused', 'oidchost:refused.title', { reason: error.reason }, { status: error.status });
  }

  private mountHostRoutes(): void {
    const app = this.app;
    const { knex, config } = this.options;
    app.use(helmet({ contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES }, crossOriginEmbedderPolicy: false }));
    app.use('/host/assets', express.static(path.join(VIEWS, 'assets'), { maxAge: '1h', fallthrough: false }));
    const form = express.urlencoded({ extended: false, limit: '10kb' });

    app.get('/', (_req, res) => res.redirect(302, '/reservations'));

    // For the reverse proxy and the supervisor: the process answers and its database too.
    app.get('/healthz', async (_req, res) => {
      try {
        await knex.raw('SELECT 1');
        res.json({ status: 'ok' });
      } catch {
        res.status(503).json({ status: 'database unreachable' });
      }
    });

    app.get('/auth/login', async (req, res, next) => {
      try {
        const returnTo = safeReturnTo(req.query.returnTo);
        const existing = parseCookie(req.headers.cookie ?? '')[BROWSER_COOKIE];
        const browser = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : crypto.randomBytes(32).toString('base64url');
        const lang = normalizeLanguage(typeof req.query.lang === 'string' ? req.query.lang : undefined) ?? undefined;
        const request = await this.relyingParty.authorizationRequest({ language: lang });
        await knex('host_oidc_logins').insert({
          state_hash: sha256(request.state),
          browser_hash: sha256(browser),
          nonce: request.nonce,
          code_verifier: request.codeVerifier,
          return_to: returnTo,
          expires_at: new Date(Date.now() + LOGIN_MINUTES * 60_000),
        });
        res.append('Set-Cookie', this.browserCookie(browser, LOGIN_MINUTES * 60));
        res.setHeader('Cache-Control', 'no-store');
        res.redirect(302, request.url.href);
      } catch (error) {
        if (error instanceof SignInRefused) return this.refuse(req, res, error);
        next(error);
      }
    });

    app.get('/auth/callback', async (req, res, next) => {
      try {
        const state = typeof req.query.state === 'string' ? req.query.state : '';
        const browser = parseCookie(req.headers.cookie ?? '')[BROWSER_COOKIE] ?? '';
        // Consumed once, only by the browser that started it: a forged state, a replayed callback or another
        // browser's sign-in finds nothing.
        const pending =
          state && browser && state.length < 200 && browser.length < 100
            ? ((await knex('host_oidc_logins')
                .where({ state_hash: sha256(state), browser_hash: sha256(browser) })
                .andWhere('expires_at', '>', new Date())
                .delete()
                .returning(['nonce', 'code_verifier', 'return_to'])) as Array<{ nonce: string; code_verifier: string; return_to: string }>)[0]
            : undefined;
        if (!pending) throw new SignInRefused('expired', state ? 'no pending sign-in for this state and browser' : 'no state');
        const currentUrl = new URL(req.originalUrl, config.publicUrl);
        const claims = await this.relyingParty.finish(currentUrl, { state, nonce: pending.nonce, codeVerifier: pending.code_verifier });
        let claimed;
        try {
          claimed = userFromClaims(claims, config);
        } catch (error) {
          if (error instanceof ClaimsError) throw new SignInRefused(error.reason, error.detail);
          throw error;
        }
        await recordSignIn(knex, claimed, (sid) => this.installStructure(sid), this.logger);
        // A new session at each sign-in (no fixation); the tokens are not kept: the session only names the user.
        await this.sessions.destroy(req, res);
        await this.sessions.create(res, claimed.id, { iss: claims.iss, signedInAt: new Date().toISOString() });
        this.logger.info({ userId: claimed.id, login: claimed.login, structures: claimed.structures.map((s) => s.id) }, 'signed in');
        res.setHeader('Cache-Control', 'no-store');
        res.redirect(303, pending.return_to);
      } catch (error) {
        if (error instanceof SignInRefused) return this.refuse(req, res, error);
        next(error);
      }
    });

    app.post('/auth/logout', form, async (req, res, next) => {
      try {
        const session = await this.sessions.resolve(req);
        if (session && !csrfTokenValid(this.formSecret, session.id, req.body?._csrf ?? req.get('x-csrf-token'))) {
          await this.renderHostPage(req, res, 'message', 'errors:pageTitle', { status: 403, message: tFor(this.languageOf(req, null))('oidchost:csrf') }, { status: 403 });
          return;
        }
        const user = await this.currentUser(req);
        const lang = this.languageOf(req, user);
        await this.sessions.destroy(req, res);
        (req as Request & { _hostSession?: unknown })._hostSession = null;
        const endSession = await this.relyingParty.endSessionUrl(lang);
        if (!endSession) {
          res.redirect(303, '/auth/signed-out');
          return;
        }
        // A page that moves on by itself, not a redirect: browsers check a form's redirects against the page's
        // form-action (CSP 'self'), and the provider is another origin.
        await this.renderHostPage(req, res, 'signing-out', 'oidchost:signedOut.title', { endSessionUrl: endSession.href }, { refreshUrl: endSession.href });
      } catch (error) {
        next(error);
      }
    });

    app.get('/auth/signed-out', async (req, res, next) => {
      try {
        await this.renderHostPage(req, res, 'signed-out', 'oidchost:signedOut.title', {});
      } catch (error) {
        next(error);
      }
    });

    // The frame's language switch: kept as the user's choice, which wins over the provider's claim.
    app.post('/lang', form, async (req, res, next) => {
      try {
        const session = await this.sessions.resolve(req);
        const lang = normalizeLanguage(req.body?.lang);
        const returnTo = safeReturnTo(req.body?.returnTo);
        if (!session || !lang || !csrfTokenValid(this.formSecret, session.id, req.body?._csrf)) {
          res.redirect(303, returnTo);
          return;
        }
        await knex.transaction(async (trx) => {
          await trx.raw(
            `INSERT INTO host_user_preferences (user_id, language, updated_at) VALUES (?, ?, now())
             ON CONFLICT (user_id) DO UPDATE SET language = EXCLUDED.language, updated_at = now()`,
            [session.userId, lang],
          );
          await trx('host_users').where({ id: session.userId }).update({ language: lang, updated_at: new Date() });
        });
        res.redirect(303, returnTo);
      } catch (error) {
        next(error);
      }
    });
  }

  private async installStructure(structureId: string): Promise<void> {
    if (!this.installer) throw new Error('the module is not installed yet');
    await this.installer(structureId);
  }

  /** Deletes expired sessions and abandoned sign-ins (any process may do it; it is idempotent). */
  async purgeExpired(): Promise<{ sessions: number; logins: number }> {
    const sessions = await this.sessions.purgeExpired();
    const logins = await this.options.knex('host_oidc_logins').where('expires_at', '<', new Date()).delete();
    return { sessions, logins };
  }

  /** Runs purgeExpired periodically. */
  startHousekeeping(everyMs = 15 * 60_000): void {
    const purge = async () => {
      try {
        const purged = await this.purgeExpired();
        if (purged.sessions || purged.logins) this.logger.debug(purged, 'purged expired sessions and sign-ins');
      } catch (error) {
        this.logger.warn({ err: error }, 'housekeeping failed');
      }
    };
    this.purgeTimer = setInterval(() => void purge(), everyMs);
    this.purgeTimer.unref();
  }

  stopHousekeeping(): void {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    this.purgeTimer = null;
  }

  /** Last handlers: the host's own 404 and error pages. */
  finish(): void {
    this.app.use(async (req: Request, res: Response) => {
      const t = tFor(pickLanguage({ acceptLanguage: req.headers['accept-language'] }));
      if (wantsJson(req)) {
        res.status(404).json({ error: 'not_found', message: t('errors:routeNotFound') });
        return;
      }
      await this.renderHostPage(req, res, 'notfound', 'errors:pageTitle', {}, { status: 404 });
    });
    this.app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
      const e = error as { type?: string };
      const t = tFor(pickLanguage({ acceptLanguage: req.headers['accept-language'] }));
      const status = e?.type === 'entity.too.large' ? 413 : e?.type === 'entity.parse.failed' ? 400 : 500;
      if (status === 500) this.logger.error({ err: error }, 'host error');
      if (res.headersSent) return;
      const message = t(status === 500 ? 'errors:internal' : status === 413 ? 'errors:payloadTooLarge' : 'errors:malformedJson');
      if (wantsJson(req)) {
        res.status(status).json({ error: status === 500 ? 'internal' : status === 413 ? 'payload_too_large' : 'invalid_input', message });
        return;
      }
      this.renderHostPage(req, res, 'message', 'errors:pageTitle', { status, message }, { status }).catch(() => {
        if (!res.headersSent) res.status(status).type('text/plain').send(message);
      });
    });
  }
}

function wantsJson(req: Request): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

/** Only a local path, and never back into the sign-in routes: no open redirect, no loop. */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\') || value.length > 2000) return '/reservations';
  if (/[\u0000-\u001f]/.test(value) || value.startsWith('/auth/')) return '/reservations';
  return value;
}
