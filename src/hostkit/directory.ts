import type { Knex } from 'knex';
import {
  ADMIN_LOCAL,
  FunctionalAccount,
  FunctionalAccountSpec,
  Grant,
  GrantSubject,
  Host,
  HostGroup,
  HostStructure,
  HostUser,
  Profile,
  SecuredAction,
} from '../host';
import { NotFoundError, ValidationError } from '../errors';

/**
 * The directory, functional accounts and rights of the hosts shipped with the module, over the `host_` tables.
 * Both the reference host and the OpenID Connect host use it; a real ENT implements the same parts of `Host` over
 * its own directory.
 */
interface UserRow {
  id: string;
  login: string;
  display_name: string;
  profile: Profile;
  email: string | null;
  language: string | null;
  functional_structure_id: string | null;
  structures: string[] | null;
  admin_structures: string[] | null;
  groups: string[] | null;
}

const USER_COLUMNS = `
  u.id, u.login, u.display_name, u.profile, u.email, u.language, u.functional_structure_id,
  (SELECT coalesce(array_agg(us.structure_id ORDER BY us.structure_id), '{}') FROM host_user_structures us WHERE us.user_id = u.id) AS structures,
  (SELECT coalesce(array_agg(us.structure_id ORDER BY us.structure_id), '{}') FROM host_user_structures us WHERE us.user_id = u.id AND us.is_admin) AS admin_structures,
  (SELECT coalesce(array_agg(gm.group_id ORDER BY gm.group_id), '{}') FROM host_group_members gm WHERE gm.user_id = u.id) AS groups`;

function toUser(row: UserRow): HostUser {
  return {
    id: row.id,
    login: row.login,
    displayName: row.display_name,
    profile: row.profile,
    structures: row.functional_structure_id ? [row.functional_structure_id] : (row.structures ?? []),
    adminStructures: row.admin_structures ?? [],
    groups: row.groups ?? [],
    email: row.email,
    language: row.language,
    functional: row.functional_structure_id !== null,
  };
}

/**
 * The grants that give a user an action: by profile, by local-admin status, by group, and as a delegate of a functional
 * account of that structure; only in the user's own structures. `u` is the user (id, profile) joined before it; binds
 * ADMIN_LOCAL.
 */
const GRANTED_TO_USER = `
  host_grants g
  JOIN host_actions a ON a.name = g.action
  JOIN host_user_structures us ON us.structure_id = g.structure_id AND us.user_id = u.id
 WHERE (   (g.subject_kind = 'profile' AND g.subject_id = u.profile)
        OR (g.subject_kind = 'profile' AND g.subject_id = ? AND us.is_admin)
        OR (g.subject_kind = 'group' AND g.subject_id IN (SELECT group_id FROM host_group_members WHERE user_id = u.id))
        OR (g.subject_kind = 'delegates' AND EXISTS (
              SELECT 1 FROM host_functional_delegates d JOIN host_users fa ON fa.id = d.account_id
               WHERE d.user_id = u.id AND fa.functional_structure_id = g.structure_id AND fa.login = g.subject_id)))`;

function actionsByStructure(structures: string[], pairs: Array<[string, string]>): Record<string, string[]> {
  const result: Record<string, string[]> = Object.fromEntries(structures.map((s) => [s, [] as string[]]));
  for (const [structureId, action] of pairs) result[structureId]?.push(action);
  return result;
}

export function functionalAccountId(structureId: string, login: string): string {
  return `fa:${structureId}:${login}`;
}

export class HostDirectory {
  /** The actions read with a request's user (sessionUser), by that user object: they live as long as the request. */
  private readonly knownActions = new WeakMap<HostUser, Record<string, string[]>>();

  constructor(private readonly knex: Knex) {}

  async userById(id: string): Promise<HostUser | null> {
    const [user] = await this.getUsers([id]);
    return user ?? null;
  }

  /**
   * An unexpired session (by the hash its cookie carries) with its user and the user's actions in each of their
   * structures, in one query: every request starts here, and most ask for the rights next (the module's route chain).
   * The actions are kept with that user object (actionsOf answers from them), so they are as fresh as the request.
   */
  async sessionUser(sessionId: string, now: Date): Promise<{ session: { id: string; userId: string; data: Record<string, unknown> }; user: HostUser | null } | null> {
    const { rows } = await this.knex.raw<{ rows: Array<UserRow & { session_id: string; session_user_id: string; session_data: Record<string, unknown> | null; actions: Array<[string, string]> | null }> }>(
      `SELECT ${USER_COLUMNS}, s.id AS session_id, s.user_id AS session_user_id, s.data AS session_data,
              CASE WHEN u.functional_structure_id IS NULL THEN
                (SELECT coalesce(json_agg(json_build_array(x.structure_id, x.action) ORDER BY x.structure_id, x.action), '[]')
                   FROM (SELECT DISTINCT g.structure_id, g.action FROM ${GRANTED_TO_USER}) x)
              END AS actions
         FROM host_sessions s LEFT JOIN host_users u ON u.id = s.user_id
        WHERE s.id = ? AND s.expires_at > ?`,
      [ADMIN_LOCAL, sessionId, now],
    );
    const row = rows[0];
    if (!row) return null;
    const user = row.id ? toUser(row) : null;
    if (user && row.actions) this.knownActions.set(user, actionsByStructure(user.structures, row.actions));
    return { session: { id: row.session_id, userId: row.session_user_id, data: row.session_data ?? {} }, user };
  }

  async userByLogin(login: string): Promise<HostUser | null> {
    const { rows } = await this.knex.raw<{ rows: UserRow[] }>(
      `SELECT ${USER_COLUMNS} FROM host_users u WHERE u.login = ? AND u.functional_structure_id IS NULL`,
      [login],
    );
    return rows[0] ? toUser(rows[0]) : null;
  }

  /**
   * Several users at once (every list page names its reporters and assignees): their structures and groups are read
   * in one pass each for the whole list, not by a sub-query per user (one seq scan of the group members per user when
   * a few people, a local authority's, belong to every school's group).
   */
  async getUsers(ids: string[]): Promise<HostUser[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.knex.raw<{ rows: UserRow[] }>(
      `SELECT u.id, u.login, u.display_name, u.profile, u.email, u.language, u.functional_structure_id,
              s.structures, s.admin_structures, g.groups
         FROM host_users u
         LEFT JOIN (SELECT user_id, array_agg(structure_id ORDER BY structure_id) AS structures,
                           coalesce(array_agg(structure_id ORDER BY structure_id) FILTER (WHERE is_admin), '{}') AS admin_structures
                      FROM host_user_structures WHERE user_id = ANY(:ids) GROUP BY user_id) s ON s.user_id = u.id
         LEFT JOIN (SELECT user_id, array_agg(group_id ORDER BY group_id) AS groups
                      FROM host_group_members WHERE user_id = ANY(:ids) GROUP BY user_id) g ON g.user_id = u.id
        WHERE u.id = ANY(:ids)`,
      { ids },
    );
    return rows.map(toUser);
  }

  async getStructures(ids: string[]): Promise<HostStructure[]> {
    if (ids.length === 0) return [];
    return this.knex('host_structures').select('id', 'name').whereIn('id', ids).orderBy('name');
  }

  async listStructures(): Promise<HostStructure[]> {
    return this.knex('host_structures').select('id', 'name').orderBy('name');
  }

  async usersOfStructure(structureId: string, filter: { profiles?: Profile[]; query?: string; limit?: number } = {}): Promise<HostUser[]> {
    const bindings: Array<string | number | string[]> = [structureId];
    let where = '';
    if (filter.profiles?.length) {
      where += ' AND u.profile = ANY(?)';
      bindings.push(filter.profiles);
    }
    if (filter.query) {
      where += ` AND (u.display_name ILIKE ? ESCAPE '\\' OR u.login ILIKE ? ESCAPE '\\')`;
      const like = `%${filter.query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      bindings.push(like, like);
    }
    bindings.push(Math.min(filter.limit ?? 500, 2000));
    const { rows } = await this.knex.raw<{ rows: UserRow[] }>(
      `SELECT ${USER_COLUMNS} FROM host_users u
        JOIN host_user_structures s ON s.user_id = u.id AND s.structure_id = ?
       WHERE u.functional_structure_id IS NULL ${where}
       ORDER BY u.display_name, u.id LIMIT ?`,
      bindings,
    );
    return rows.map(toUser);
  }

  async groupsOfStructure(structureId: string): Promise<HostGroup[]> {
    const rows = await this.knex('host_groups').select('id', 'structure_id', 'name').where({ structure_id: structureId }).orderBy('name');
    return rows.map((r: { id: string; structure_id: string; name: string }) => ({ id: r.id, structureId: r.structure_id, name: r.name }));
  }

  // ---- functional accounts -------------------------------------------------------------------------------------

  async ensureFunctionalAccount(spec: FunctionalAccountSpec): Promise<FunctionalAccount> {
    const structure = await this.knex('host_structures').where({ id: spec.structureId }).first();
    if (!structure) throw new NotFoundError('notFound');
    const id = functionalAccountId(spec.structureId, spec.login);
    // ON CONFLICT makes concurrent installs (two processes, many first sign-ins) create the account once.
    const inserted = await this.knex.raw<{ rows: Array<{ id: string }> }>(
      `INSERT INTO host_users (id, login, display_name, profile, email, functional_structure_id)
       VALUES (?, ?, ?, 'Personnel', ?, ?)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [id, spec.login, spec.displayName, spec.email ?? null, spec.structureId],
    );
    if (inserted.rows.length > 0 && spec.initialDelegateIds?.length) {
      await this.replaceDelegates(id, spec.structureId, spec.initialDelegateIds);
    }
    return (await this.getFunctionalAccount(spec.structureId, spec.login))!;
  }

  async getFunctionalAccount(structureId: string, login: string): Promise<FunctionalAccount | null> {
    const id = functionalAccountId(structureId, login);
    const account = await this.knex('host_users').where({ id }).first();
    if (!account) return null;
    const delegates = await this.knex('host_functional_delegates as d')
      .join('host_users as u', 'u.id', 'd.user_id')
      .where('d.account_id', id)
      .orderBy('u.display_name')
      .select('u.id', 'u.login', 'u.display_name as displayName', 'u.email', 'u.language');
    return {
      id,
      structureId,
      login: account.login,
      displayName: account.display_name,
      email: account.email,
      delegates,
    };
  }

  async setDelegates(structureId: string, login: string, userIds: string[]): Promise<FunctionalAccount> {
    const id = functionalAccountId(structureId, login);
    const account = await this.knex('host_users').where({ id }).first();
    if (!account) throw new NotFoundError('notFound');
    await this.replaceDelegates(id, structureId, userIds);
    return (await this.getFunctionalAccount(structureId, login))!;
  }

  private async replaceDelegates(accountId: string, structureId: string, userIds: string[]): Promise<void> {
    const unique = [...new Set(userIds)];
    await this.knex.transaction(async (trx) => {
      const members: Array<{ user_id: string }> = unique.length
        ? await trx('host_user_structures').select('user_id').where({ structure_id: structureId }).whereIn('user_id', unique)
        : [];
      const known = new Set(members.map((m) => m.user_id));
      const strangers = unique.filter((u) => !known.has(u));
      if (strangers.length) {
        throw new ValidationError(strangers.map(() => ({ field: 'userIds', message: 'not a user of this structure' })), 'delegatesNotInStructure');
      }
      await trx('host_functional_delegates').where({ account_id: accountId }).delete();
      if (unique.length) await trx('host_functional_delegates').insert(unique.map((user_id) => ({ account_id: accountId, user_id })));
    });
  }

  // ---- rights ----------------------------------------------------------------------------------------------------

  async declareActions(actions: SecuredAction[]): Promise<void> {
    for (const action of actions) {
      await this.knex('host_actions')
        .insert({
          name: action.name,
          label_key: action.labelKey,
          default_profiles: JSON.stringify(action.defaultProfiles),
          default_delegates: JSON.stringify(action.defaultFunctionalDelegates ?? []),
          cross_structure: action.crossStructure ?? false,
        })
        .onConflict('name')
        .merge();
    }
  }

  /** Applies each declared action's defaults once per structure; later changes by an admin are never overwritten. */
  async ensureDefaultGrants(structureId: string): Promise<void> {
    await this.knex.transaction(async (trx) => {
      const applied = await trx.raw<{ rows: Array<{ action: string }> }>(
        `INSERT INTO host_grant_defaults (structure_id, action)
         SELECT ?, name FROM host_actions ON CONFLICT DO NOTHING RETURNING action`,
        [structureId],
      );
      const names = applied.rows.map((r) => r.action);
      if (!names.length) return;
      const actions = await trx('host_actions').whereIn('name', names);
      const rows: Array<Record<string, string>> = [];
      for (const a of actions as Array<{ name: string; default_profiles: string[]; default_delegates: string[] }>) {
        for (const p of a.default_profiles) rows.push({ structure_id: structureId, action: a.name, subject_kind: 'profile', subject_id: p });
        for (const d of a.default_delegates) rows.push({ structure_id: structureId, action: a.name, subject_kind: 'delegates', subject_id: d });
      }
      if (rows.length) await trx('host_grants').insert(rows).onConflict().ignore();
    });
  }

  /**
   * All actions of a user, per structure, in one query: by profile, by local-admin status, by group, and as a
   * delegate of a functional account of that structure.
   */
  async actionsOf(user: HostUser, structureIds?: string[]): Promise<Record<string, string[]>> {
    const known = this.knownActions.get(user);
    if (known && !structureIds) return Object.fromEntries(Object.entries(known).map(([s, list]) => [s, [...list]]));
    const structures = structureIds ?? user.structures;
    const result: Record<string, string[]> = {};
    for (const s of structures) result[s] = [];
    if (!structures.length || user.functional) return result;
    const { rows } = await this.knex.raw<{ rows: Array<{ structure_id: string; action: string }> }>(
      `WITH u AS (SELECT ?::text AS id, ?::text AS profile)
       SELECT DISTINCT g.structure_id, g.action FROM u CROSS JOIN ${GRANTED_TO_USER} AND g.structure_id = ANY(?)
        ORDER BY g.structure_id, g.action`,
      [user.id, user.profile, ADMIN_LOCAL, structures],
    );
    for (const row of rows) result[row.structure_id]!.push(row.action);
    return result;
  }

  async can(user: HostUser, action: string, structureId: string): Promise<boolean> {
    if (!user.structures.includes(structureId)) return false;
    const actions = await this.actionsOf(user, [structureId]);
    return actions[structureId]?.includes(action) ?? false;
  }

  async grants(structureId: string): Promise<Grant[]> {
    const rows = await this.knex('host_grants').where({ structure_id: structureId }).orderBy(['action', 'subject_kind', 'subject_id']);
    return rows.map((r: { structure_id: string; action: string; subject_kind: GrantSubject['kind']; subject_id: string }) => ({
      structureId: r.structure_id,
      action: r.action,
      subject: { kind: r.subject_kind, id: r.subject_id },
    }));
  }

  async setGrants(structureId: string, grants: Array<Omit<Grant, 'structureId'>>): Promise<void> {
    await this.knex.transaction(async (trx) => {
      const declared = new Set((await trx('host_actions').pluck('name')) as string[]);
      const rows = grants.map((g) => {
        if (!declared.has(g.action)) throw new ValidationError([{ field: 'action', message: `unknown action ${g.action}` }]);
        return { structure_id: structureId, action: g.action, subject_kind: g.subject.kind, subject_id: g.subject.id };
      });
      await trx('host_grants').where({ structure_id: structureId }).whereIn('action', [...declared]).delete();
      if (rows.length) await trx('host_grants').insert(rows).onConflict().ignore();
      // The structure has its own grants now: defaults must never come back over them.
      await trx('host_grant_defaults').insert([...declared].map((action) => ({ structure_id: structureId, action }))).onConflict().ignore();
    });
  }

  /** The parts of `Host` this class implements. */
  hookParts(): Pick<Host, 'directory' | 'accounts' | 'rights'> {
    return {
      directory: {
        getUsers: (ids) => this.getUsers(ids),
        getStructures: (ids) => this.getStructures(ids),
        listStructures: () => this.listStructures(),
        usersOfStructure: (sid, filter) => this.usersOfStructure(sid, filter),
        groupsOfStructure: (sid) => this.groupsOfStructure(sid),
      },
      accounts: {
        ensureFunctionalAccount: (spec) => this.ensureFunctionalAccount(spec),
        getFunctionalAccount: (sid, login) => this.getFunctionalAccount(sid, login),
        setDelegates: (sid, login, ids) => this.setDelegates(sid, login, ids),
      },
      rights: {
        declare: (actions) => this.declareActions(actions),
        ensureDefaultGrants: (sid) => this.ensureDefaultGrants(sid),
        can: (user, action, sid) => this.can(user, action, sid),
        actionsOf: (user) => this.actionsOf(user),
        grants: (sid) => this.grants(sid),
        setGrants: (sid, grants) => this.setGrants(sid, grants),
      },
    };
  }
}
