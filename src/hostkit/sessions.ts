import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Request, Response } from 'express';
import { parse as parseCookie, serialize as serializeCookie } from 'cookie';

export const SESSION_COOKIE = 'ent_session';
const SESSION_HOURS = 12;

export interface SessionRecord {
  /** sha256 of the cookie value: what the database keeps and what CSRF tokens are bound to. */
  id: string;
  userId: string;
}

function hash(token: string): string {
  return crypto.createHash('sha256').update(token).digest('base64url');
}

/**
 * Sessions in PostgreSQL, so that any web process can serve any request (no sticky sessions). The cookie holds a
 * random token; the table holds only its hash.
 */
export class SessionStore {
  constructor(
    private readonly knex: Knex,
    private readonly options: { secure: boolean } = { secure: false },
  ) {}

  async create(res: Response, userId: string, data: Record<string, unknown> = {}): Promise<SessionRecord> {
    const token = crypto.randomBytes(32).toString('base64url');
    const id = hash(token);
    await this.knex('host_sessions').insert({
      id,
      user_id: userId,
      data: JSON.stringify(data),
      expires_at: new Date(Date.now() + SESSION_HOURS * 3600_000),
    });
    res.append(
      'Set-Cookie',
      serializeCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure: this.options.secure, path: '/', maxAge: SESSION_HOURS * 3600 }),
    );
    return { id, userId };
  }

  /** Reads the session of a request once and memoises it on the request. */
  async resolve(req: Request): Promise<(SessionRecord & { data: Record<string, unknown> }) | null> {
    const cached = (req as Request & { _hostSession?: unknown })._hostSession;
    if (cached !== undefined) return cached as (SessionRecord & { data: Record<string, unknown> }) | null;
    const token = parseCookie(req.headers.cookie ?? '')[SESSION_COOKIE];
    let session: (SessionRecord & { data: Record<string, unknown> }) | null = null;
    if (token && token.length < 100) {
      const row = await this.knex('host_sessions').where({ id: hash(token) }).andWhere('expires_at', '>', new Date()).first();
      if (row) session = { id: row.id, userId: row.user_id, data: row.data ?? {} };
    }
    (req as Request & { _hostSession?: unknown })._hostSession = session;
    return session;
  }

  /**
   * The request's session and its user in one round trip (the first thing every request asks): `load` reads the
   * unexpired session of this id joined to its user. The session is memoised on the request as resolve() does.
   */
  async resolveUser<U>(
    req: Request,
    load: (sessionId: string, now: Date) => Promise<{ session: SessionRecord & { data: Record<string, unknown> }; user: U | null } | null>,
  ): Promise<U | null> {
    const memo = req as Request & { _hostSession?: (SessionRecord & { data: Record<string, unknown> }) | null; _hostUser?: Promise<U | null> };
    if (memo._hostSession === null) return null;
    // Memoised too: the module's chain and the host's frame of the same page both ask, and the query reads the rights.
    memo._hostUser ??= (async () => {
      const token = parseCookie(req.headers.cookie ?? '')[SESSION_COOKIE];
      const found = token && token.length < 100 ? await load(hash(token), new Date()) : null;
      if (memo._hostSession === undefined) memo._hostSession = found?.session ?? null;
      return found?.user ?? null;
    })();
    return memo._hostUser;
  }

  async destroy(req: Request, res: Response): Promise<void> {
    // What this request read of its session no longer holds.
    const memo = req as Request & { _hostSession?: unknown; _hostUser?: unknown };
    delete memo._hostSession;
    delete memo._hostUser;
    const token = parseCookie(req.headers.cookie ?? '')[SESSION_COOKIE];
    if (token) await this.knex('host_sessions').where({ id: hash(token) }).delete();
    res.append('Set-Cookie', serializeCookie(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'lax', secure: this.options.secure, path: '/', maxAge: 0 }));
  }

  async purgeExpired(): Promise<number> {
    return this.knex('host_sessions').where('expires_at', '<', new Date()).delete();
  }
}
