import { AsyncLocalStorage } from 'node:async_hooks';
import type { Knex } from 'knex';

/** `none`: reachable even when the school has the module off (its admin must be able to switch it back on). */
export type Service = 'planning' | 'incidents' | 'any' | 'none';

export interface StructureSettingsRow {
  structure_id: string;
  planning_enabled: boolean;
  incidents_enabled: boolean;
  time_zone: string;
  holiday_zone: 'A' | 'B' | 'C' | null;
  holidays: Array<{ from: string; to: string; label: string }>;
  opening_hours: Record<string, Array<[string, string]>>;
  reopen_days: number;
  editor_email: string | null;
  extra_mailbox: string | null;
}

/**
 * A request reads its school's settings several times (the route chain for the services, then the service clock, the
 * reopening window, the booking rules...): the first read is kept for the rest of that request only, so every request
 * still sees the settings as they are when it starts, on every process. Whatever writes the settings forgets them.
 */
const requestSettings = new AsyncLocalStorage<Map<string, StructureSettingsRow | null>>();

/** Runs a request's handling with its own memo of settings (the module's first middleware). */
export function withSettingsMemo<T>(run: () => T): T {
  return requestSettings.run(new Map(), run);
}

/** After a write to a structure's settings: later reads of this request go to the database again. */
export function forgetSettings(structureId: string): void {
  requestSettings.getStore()?.delete(structureId);
}

/**
 * Whether a service is on in a structure. Read on every request (a primary-key lookup, the request's settings memo),
 * so that switching a school on or off takes effect at once on every process, with no restart.
 */
export async function serviceEnabled(knex: Knex, structureId: string, service: Service): Promise<boolean> {
  const row = await getSettings(knex, structureId);
  if (!row) return false;
  if (service === 'none') return true;
  if (service === 'planning') return row.planning_enabled;
  if (service === 'incidents') return row.incidents_enabled;
  return row.planning_enabled || row.incidents_enabled;
}

export async function enabledServicesOf(knex: Knex, structureIds: string[]): Promise<Record<string, { planning: boolean; incidents: boolean }>> {
  const result: Record<string, { planning: boolean; incidents: boolean }> = {};
  if (!structureIds.length) return result;
  const rows = await knex('rsv_structure_settings').select('structure_id', 'planning_enabled', 'incidents_enabled').whereIn('structure_id', structureIds);
  for (const r of rows) result[r.structure_id] = { planning: r.planning_enabled, incidents: r.incidents_enabled };
  return result;
}

export async function getSettings(knex: Knex, structureId: string): Promise<StructureSettingsRow | null> {
  const memo = requestSettings.getStore();
  if (memo?.has(structureId)) return memo.get(structureId)!;
  const row: StructureSettingsRow | null = (await knex('rsv_structure_settings').where({ structure_id: structureId }).first()) ?? null;
  memo?.set(structureId, row);
  return row;
}

export async function ensureSettings(knex: Knex, structureId: string, enabled: boolean): Promise<boolean> {
  const { rows } = await knex.raw<{ rows: unknown[] }>(
    `INSERT INTO rsv_structure_settings (structure_id, planning_enabled, incidents_enabled) VALUES (?, ?, ?)
     ON CONFLICT (structure_id) DO NOTHING RETURNING structure_id`,
    [structureId, enabled, enabled],
  );
  forgetSettings(structureId);
  return rows.length > 0;
}

export async function setServices(knex: Knex, structureId: string, services: { planning?: boolean; incidents?: boolean }): Promise<void> {
  const patch: Record<string, unknown> = { updated_at: knex.fn.now() };
  if (services.planning !== undefined) patch.planning_enabled = services.planning;
  if (services.incidents !== undefined) patch.incidents_enabled = services.incidents;
  await knex('rsv_structure_settings').where({ structure_id: structureId }).update(patch);
  forgetSettings(structureId);
}
