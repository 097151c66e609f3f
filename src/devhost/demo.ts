import type { Knex } from 'knex';
import type { ModuleContext } from '../context';
import { functionalAccountId } from '../hostkit/directory';
import { SERVICE_ACCOUNT_LOGIN } from '../services/install';

/**
 * Demo data of the reference host. Structure ids and logins are stable (API.md): integrators and the acceptance
 * checks rely on them. Everything is idempotent: a second start adds nothing.
 */
export const DEMO_STRUCTURES = [
  { id: 'college-a', name: 'Collège Jean Moulin' },
  { id: 'college-b', name: 'Collège Simone Veil' },
];

type DemoUser = { login: string; displayName: string; profile: 'Teacher' | 'Personnel' | 'Student' | 'Relative'; structures: string[]; admin?: boolean; language?: string };

export const DEMO_USERS: DemoUser[] = [
  { login: 'enseignant', displayName: 'Claire Martin', profile: 'Teacher', structures: ['college-a'] },
  { login: 'referent1', displayName: 'Karim Benali', profile: 'Teacher', structures: ['college-a'] },
  { login: 'referent2', displayName: 'Sophie Leroy', profile: 'Personnel', structures: ['college-a'] },
  { login: 'direction', displayName: 'Anne Dubois', profile: 'Personnel', structures: ['college-a'], admin: true },
  { login: 'eleve', displayName: 'Lucas Petit', profile: 'Student', structures: ['college-a'] },
  { login: 'parent', displayName: 'Nadia Petit', profile: 'Relative', structures: ['college-a'] },
  { login: 'enseignant2', displayName: 'Julien Moreau', profile: 'Teacher', structures: ['college-b'] },
  { login: 'referent-b', displayName: 'Marc Girard', profile: 'Teacher', structures: ['college-b'] },
  { login: 'direction-b', displayName: 'Hélène Fabre', profile: 'Personnel', structures: ['college-b'], admin: true },
  { login: 'collectivite', displayName: 'Département – service des collèges', profile: 'Personnel', structures: ['college-a', 'college-b'] },
];

export const DEMO_DELEGATES: Record<string, string[]> = {
  'college-a': ['referent1', 'referent2'],
  'college-b': ['referent-b'],
};

export function demoUserId(login: string): string {
  return `u-${login}`;
}

export function demoEmail(login: string, structureId: string): string {
  return `${login}@${structureId}.demo-ent.test`;
}

/** The host's side: structures, users, groups, and each school's service.informatique account with its delegates. */
export async function seedDemoDirectory(knex: Knex): Promise<void> {
  await knex.transaction(async (trx) => {
    await trx('host_structures').insert(DEMO_STRUCTURES).onConflict('id').ignore();
    for (const u of DEMO_USERS) {
      await trx('host_users')
        .insert({ id: demoUserId(u.login), login: u.login, display_name: u.displayName, profile: u.profile, email: demoEmail(u.login, u.structures[0]!), language: u.language ?? null })
        .onConflict('id')
        .ignore();
      for (const s of u.structures) {
        await trx('host_user_structures').insert({ user_id: demoUserId(u.login), structure_id: s, is_admin: u.admin ?? false }).onConflict(['user_id', 'structure_id']).ignore();
      }
    }
    // The local authority's group: the school admin may grant it cross-school statistics (it is, by default).
    for (const s of DEMO_STRUCTURES) {
      const groupId = `g-${s.id}-collectivite`;
      await trx('host_groups').insert({ id: groupId, structure_id: s.id, name: 'Collectivité territoriale' }).onConflict('id').ignore();
      await trx('host_group_members').insert({ group_id: groupId, user_id: demoUserId('collectivite') }).onConflict(['group_id', 'user_id']).ignore();
      // In a real ENT the shared account and its delegates exist before the module is installed.
      const accountId = functionalAccountId(s.id, SERVICE_ACCOUNT_LOGIN);
      const inserted = await trx('host_users')
        .insert({ id: accountId, login: SERVICE_ACCOUNT_LOGIN, display_name: 'Service informatique', profile: 'Personnel', email: demoEmail(SERVICE_ACCOUNT_LOGIN, s.id), functional_structure_id: s.id })
        .onConflict('id')
        .ignore()
        .returning('id');
      if (inserted.length) {
        await trx('host_functional_delegates').insert((DEMO_DELEGATES[s.id] ?? []).map((login) => ({ account_id: accountId, user_id: demoUserId(login) })));
      }
    }
  });
}

const DEMO_EQUIPMENT: Record<string, Array<{ code: string; type: 'rooms' | 'maintenance' | 'devices'; name: string; location: string; description?: string }>> = {
  'college-a': [
    { code: 'room-12', type: 'rooms', name: 'Salle 12', location: 'Bâtiment A, 1er étage' },
    { code: 'room-14', type: 'rooms', name: 'Salle 14', location: 'Bâtiment A, 1er étage' },
    { code: 'room-info', type: 'rooms', name: 'Salle informatique', location: 'Bâtiment B, rez-de-chaussée', description: '24 postes' },
    { code: 'room-cdi', type: 'rooms', name: 'CDI', location: 'Bâtiment B, 1er étage' },
    { code: 'room-poly', type: 'rooms', name: 'Salle polyvalente', location: 'Bâtiment C' },
    { code: 'tablets', type: 'devices', name: 'Chariot de tablettes', location: 'Salle des professeurs', description: '16 tablettes' },
    { code: 'visio', type: 'devices', name: 'Valise de visioconférence', location: 'Vie scolaire' },
    { code: 'projector-12', type: 'maintenance', name: 'Vidéoprojecteur salle 12', location: 'Salle 12' },
    { code: 'iwb-14', type: 'maintenance', name: 'TNI salle 14', location: 'Salle 14' },
    { code: 'printer-cdi', type: 'maintenance', name: 'Imprimante du CDI', location: 'CDI' },
  ],
  'college-b': [
    { code: 'room-b1', type: 'rooms', name: 'Salle B1', location: 'Rez-de-chaussée' },
    { code: 'room-b2', type: 'rooms', name: 'Salle B2', location: 'Rez-de-chaussée' },
    { code: 'projector-b1', type: 'maintenance', name: 'Vidéoprojecteur salle B1', location: 'Salle B1' },
  ],
};

/**
 * The local authority's demo group may see the cross-school statistics of both schools, out of the box. module.json's
 * defaults can only name profiles and functional accounts, not a host's groups, so the demo grants it here, after
 * install (the action is declared), once: a marker in the module's state keeps a school admin's later removal.
 */
export async function seedDemoStatsGrants(ctx: ModuleContext): Promise<void> {
  const marker = await ctx.knex.raw<{ rows: unknown[] }>(
    `INSERT INTO rsv_module_state (key, value) VALUES ('demo.statsAcrossGranted', 'yes') ON CONFLICT (key) DO NOTHING RETURNING key`,
  );
  if (!marker.rows.length) return;
  for (const s of DEMO_STRUCTURES) {
    await ctx.knex('host_grants')
      .insert({ structure_id: s.id, action: 'stats.viewAcrossStructures', subject_kind: 'group', subject_id: `g-${s.id}-collectivite` })
      .onConflict()
      .ignore();
  }
}

/** The module's side: rooms and equipment of the demo schools (after install, so service.informatique exists). */
export async function seedDemoEquipment(ctx: ModuleContext): Promise<void> {
  await seedDemoStatsGrants(ctx);
  const knex = ctx.knex;
  for (const [structureId, items] of Object.entries(DEMO_EQUIPMENT)) {
    const responsibleId = functionalAccountId(structureId, SERVICE_ACCOUNT_LOGIN);
    await knex.raw(
      `INSERT INTO rsv_resource_types (structure_id, name, purpose, color, needs_validation, position, seed_code)
       VALUES (?, 'Matériel mobile', 'booking', '#1e7a34', true, 1, 'devices')
       ON CONFLICT DO NOTHING`,
      [structureId],
    );
    const types = await knex('rsv_resource_types').where({ structure_id: structureId }).whereNotNull('seed_code').select('id', 'seed_code');
    const typeId = (code: string) => types.find((t: { seed_code: string }) => t.seed_code === code)?.id;
    for (const [position, item] of items.entries()) {
      await knex.raw(
        `INSERT INTO rsv_equipment (structure_id, type_id, name, description, location, responsible_id, position, seed_code)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        [structureId, typeId(item.type), item.name, item.description ?? '', item.location, responsibleId, 10 + position, `demo-${item.code}`],
      );
    }
  }
}
