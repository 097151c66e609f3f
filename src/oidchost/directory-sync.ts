import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { ClaimedUser } from './claims';
import { SignInRefused } from './relying-party';

/**
 * Keeps the host_ directory tables in step with the identity provider: at each sign-in the user, their schools, their
 * admin status and their language are written from the claims. A school seen for the first time is created, and the
 * module's install step runs for it before the user's session exists.
 */
export type StructureInstaller = (structureId: string) => Promise<unknown>;

function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === '23505' && (!constraint || e.constraint === constraint);
}

export async function recordSignIn(knex: Knex, user: ClaimedUser, install: StructureInstaller, logger: Logger): Promise<void> {
  const structureIds = user.structures.map((s) => s.id);
  const admin = new Set(user.adminStructures);
  try {
    await knex.transaction(async (trx) => {
      for (const s of user.structures) {
        // Insert-then-update, so that the many users of one school signing in at 8:00 never queue on its row when
        // its name has not changed (an ON CONFLICT DO UPDATE would lock it every time).
        await trx.raw(`INSERT INTO host_structures (id, name) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, [s.id, s.name ?? s.id]);
        if (s.name) await trx('host_structures').where({ id: s.id }).whereRaw('name IS DISTINCT FROM ?', [s.name]).update({ name: s.name });
      }
      await trx.raw(
        `INSERT INTO host_users (id, login, display_name, profile, email, language)
         VALUES (?, ?, ?, ?, ?, coalesce((SELECT language FROM host_user_preferences WHERE user_id = ?), ?))
         ON CONFLICT (id) DO UPDATE SET
           login = EXCLUDED.login, display_name = EXCLUDED.display_name, profile = EXCLUDED.profile, email = EXCLUDED.email,
           language = coalesce((SELECT language FROM host_user_preferences WHERE user_id = EXCLUDED.id), EXCLUDED.language, host_users.language),
           updated_at = now()
         WHERE host_users.functional_structure_id IS NULL`,
        [user.id, user.login, user.displayName, user.profile, user.email, user.id, user.language],
      );
      // The provider is the source of truth for memberships: a school left is left here too, with its delegations.
      await trx.raw(`DELETE FROM host_user_structures WHERE user_id = ? AND NOT (structure_id = ANY(?))`, [user.id, structureIds]);
      await trx.raw(
        `DELETE FROM host_functional_delegates d USING host_users fa
          WHERE d.user_id = ? AND fa.id = d.account_id AND NOT (fa.functional_structure_id = ANY(?))`,
        [user.id, structureIds],
      );
      for (const id of structureIds) {
        await trx.raw(
          `INSERT INTO host_user_structures (user_id, structure_id, is_admin) VALUES (?, ?, ?)
           ON CONFLICT (user_id, structure_id) DO UPDATE SET is_admin = EXCLUDED.is_admin
           WHERE host_user_structures.is_admin IS DISTINCT FROM EXCLUDED.is_admin`,
          [user.id, id, admin.has(id)],
        );
      }
    });
  } catch (error) {
    if (isUniqueViolation(error, 'host_users_login_uq')) throw new SignInRefused('loginTaken', `login ${user.login} belongs to another subject`);
    throw error;
  }
  await installNewStructures(knex, structureIds, install, logger);
}

/**
 * Runs the module's install step for the structures that have not completed it. Concurrent first sign-ins of one
 * school all run it: every step of it is idempotent (ON CONFLICT), so the school still gets one service.informatique
 * account. A rare unique violation between two racing inserts is retried once, when the other one has committed.
 */
export async function installNewStructures(knex: Knex, structureIds: string[], install: StructureInstaller, logger: Logger): Promise<string[]> {
  if (!structureIds.length) return [];
  const { rows } = await knex.raw<{ rows: Array<{ id: string }> }>(
    `SELECT s.id FROM unnest(?::text[]) AS s(id) WHERE NOT EXISTS (SELECT 1 FROM host_structure_installs i WHERE i.structure_id = s.id)`,
    [structureIds],
  );
  const installed: string[] = [];
  for (const { id } of rows) {
    try {
      await install(id);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
      await install(id);
    }
    await knex.raw(`INSERT INTO host_structure_installs (structure_id) VALUES (?) ON CONFLICT DO NOTHING`, [id]);
    logger.info({ structureId: id }, 'module installed in a structure seen for the first time');
    installed.push(id);
  }
  return installed;
}

/** After the module's install() ran for every known structure at start, they are all installed. */
export async function markAllInstalled(knex: Knex): Promise<void> {
  await knex.raw(`INSERT INTO host_structure_installs (structure_id) SELECT id FROM host_structures ON CONFLICT DO NOTHING`);
}
