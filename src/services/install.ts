import type { Knex } from 'knex';
import type { ModuleContext } from '../context';
import { ensureSettings } from '../store/settings';
import { tFor } from '../i18n';

export const SERVICE_ACCOUNT_LOGIN = 'service.informatique';

/** The lists a school starts with, from the source document (002). Labels come from the locales until a school renames them. */
export const SEED = {
  resourceTypes: [
    { code: 'rooms', nameKey: 'seed.resourceType.rooms', purpose: 'booking', color: '#1f6fb2' },
    { code: 'maintenance', nameKey: 'seed.resourceType.maintenance', purpose: 'incident', color: '#b3261e' },
  ],
  incidentEquipment: [
    { code: 'wifi', nameKey: 'seed.equipment.wifi' },
    { code: 'website', nameKey: 'seed.equipment.website' },
    { code: 'ent', nameKey: 'seed.equipment.ent' },
  ],
  incidentTypes: ['software', 'hardware', 'internet', 'iwb', 'wifi'],
  severities: ['malfunction', 'installation', 'update', 'repair', 'replacement'],
} as const;

/**
 * `ON CONFLICT DO NOTHING` with no conflict target: every unique index is an arbiter. Naming only the seed_code index
 * let two installs racing for one school fail on another one (equipment names are unique per type too): the loser
 * of the race waited on that index first and got a unique violation instead of doing nothing.
 */
async function seedLists(knex: Knex, structureId: string, responsibleId: string): Promise<void> {
  const t = tFor('fr');
  for (const [position, type] of SEED.resourceTypes.entries()) {
    await knex.raw(
      `INSERT INTO rsv_resource_types (structure_id, name_key, purpose, color, position, seed_code)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [structureId, type.nameKey, type.purpose, type.color, position, type.code],
    );
  }
  const maintenance = await knex('rsv_resource_types').where({ structure_id: structureId, seed_code: 'maintenance' }).first('id');
  for (const [position, item] of SEED.incidentEquipment.entries()) {
    // Equipment names are the school's data (a school renames them), so they are stored in French, the school's language.
    await knex.raw(
      `INSERT INTO rsv_equipment (structure_id, type_id, name, responsible_id, position, seed_code)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [structureId, maintenance.id, t(`common:${item.nameKey}`), responsibleId, position, item.code],
    );
  }
  for (const [position, code] of SEED.incidentTypes.entries()) {
    await knex.raw(
      `INSERT INTO rsv_incident_types (structure_id, label_key, position, seed_code)
       VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [structureId, `seed.incidentType.${code}`, position, code],
    );
  }
  for (const [position, code] of SEED.severities.entries()) {
    await knex.raw(
      `INSERT INTO rsv_severities (structure_id, label_key, position, seed_code)
       VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [structureId, `seed.severity.${code}`, position, code],
    );
  }
}

/**
 * Installs the module in one structure. Idempotent: running it twice, or from two processes at once, creates
 * nothing twice (every insert is ON CONFLICT DO NOTHING, the host's ensureFunctionalAccount is idempotent).
 */
export async function installStructure(ctx: ModuleContext, structureId: string): Promise<{ enabled: boolean }> {
  await ensureSettings(ctx.knex, structureId, ctx.config.enableNewStructures);
  const settings = await ctx.knex('rsv_structure_settings').where({ structure_id: structureId }).first();
  const enabled = settings.planning_enabled || settings.incidents_enabled;
  await ctx.host.rights.ensureDefaultGrants(structureId);
  if (!enabled) return { enabled };
  const t = tFor('fr');
  for (const spec of ctx.manifest.functionalAccounts) {
    const account = await ctx.host.accounts.ensureFunctionalAccount({
      structureId,
      login: spec.login,
      displayName: t(`common:${spec.displayNameKey}`),
    });
    if (spec.responsibleOfEquipment) await seedLists(ctx.knex, structureId, account.id);
  }
  return { enabled };
}

/** The id of the school's service.informatique account (responsible of equipment by default). */
export async function serviceAccountId(ctx: ModuleContext, structureId: string): Promise<string> {
  const account = await ctx.host.accounts.getFunctionalAccount(structureId, SERVICE_ACCOUNT_LOGIN);
  if (account) return account.id;
  const t = tFor('fr');
  return (await ctx.host.accounts.ensureFunctionalAccount({ structureId, login: SERVICE_ACCOUNT_LOGIN, displayName: t('common:account.serviceInformatique') })).id;
}
