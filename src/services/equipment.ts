import type { Knex } from 'knex';
import { parse as parseCsv } from 'csv-parse/sync';
import type { ModuleContext } from '../context';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { serviceAccountId } from './install';
import { labelOf } from '../http/presenters';
import { tFor } from '../i18n';

export interface ResourceTypeInput {
  name: string;
  purpose: 'booking' | 'incident';
  color: string;
  needsValidation: boolean;
  minNoticeMinutes: number;
  maxNoticeDays: number | null;
  maxLengthMinutes: number | null;
  withinOpeningHours: boolean;
}

export interface EquipmentInput {
  name: string;
  typeId: string;
  description: string;
  location: string;
  responsibleId?: string | null;
}

const UNIQUE_VIOLATION = '23505';

async function nextPosition(trx: Knex, table: string, structureId: string): Promise<number> {
  const row = await trx(table).where({ structure_id: structureId }).max({ p: 'position' }).first();
  return Number(row?.p ?? -1) + 1;
}

export async function createResourceType(ctx: ModuleContext, structureId: string, input: ResourceTypeInput) {
  return ctx.knex.transaction(async (trx) => {
    const [row] = await trx('rsv_resource_types')
      .insert({
        structure_id: structureId,
        name: input.name,
        purpose: input.purpose,
        color: input.color,
        needs_validation: input.needsValidation,
        min_notice_minutes: input.minNoticeMinutes,
        max_notice_days: input.maxNoticeDays,
        max_length_minutes: input.maxLengthMinutes,
        within_opening_hours: input.withinOpeningHours,
        position: await nextPosition(trx, 'rsv_resource_types', structureId),
      })
      .returning('*');
    return row;
  });
}

/** A type's purpose cannot change once it has equipment with bookings: a booked room would become unbookable. */
export async function updateResourceType(ctx: ModuleContext, structureId: string, id: string, input: Partial<ResourceTypeInput>) {
  return ctx.knex.transaction(async (trx) => {
    const current = await trx('rsv_resource_types').where({ structure_id: structureId, id }).forUpdate().first();
    if (!current) throw new NotFoundError();
    if (input.purpose && input.purpose !== current.purpose) {
      const used = await trx('rsv_bookings as b').join('rsv_equipment as e', 'e.id', 'b.equipment_id').where({ 'e.type_id': id, 'b.structure_id': structureId }).first('b.id');
      if (used) throw new ConflictError('in_use', 'admin:typePurposeInUse');
    }
    const patch: Record<string, unknown> = { updated_at: trx.fn.now() };
    if (input.name !== undefined) patch.name = input.name;
    if (input.purpose !== undefined) patch.purpose = input.purpose;
    if (input.color !== undefined) patch.color = input.color;
    if (input.needsValidation !== undefined) patch.needs_validation = input.needsValidation;
    if (input.minNoticeMinutes !== undefined) patch.min_notice_minutes = input.minNoticeMinutes;
    if (input.maxNoticeDays !== undefined) patch.max_notice_days = input.maxNoticeDays;
    if (input.maxLengthMinutes !== undefined) patch.max_length_minutes = input.maxLengthMinutes;
    if (input.withinOpeningHours !== undefined) patch.within_opening_hours = input.withinOpeningHours;
    const [row] = await trx('rsv_resource_types').where({ id }).update(patch).returning('*');
    return row;
  });
}

/** Retired rows stay on old bookings and incidents but are no longer offered; retiring twice is harmless. */
export async function setRetired(ctx: ModuleContext, table: 'rsv_resource_types' | 'rsv_equipment', structureId: string, id: string, retired: boolean) {
  const [row] = await ctx.knex(table)
    .where({ structure_id: structureId, id })
    .update({ retired_at: retired ? ctx.knex.fn.now() : null, updated_at: ctx.knex.fn.now() })
    .returning('*');
  if (!row) throw new NotFoundError();
  return row;
}

/** Reorders a list: the ids given come first, in that order; each must belong to the structure. */
export async function reorder(ctx: ModuleContext, table: string, structureId: string, ids: string[]): Promise<void> {
  await ctx.knex.transaction(async (trx) => {
    const rows: Array<{ id: string }> = await trx(table).where({ structure_id: structureId }).whereIn('id', ids).select('id');
    if (rows.length !== new Set(ids).size) throw new ValidationError([{ field: 'ids', message: 'unknown id in the list' }]);
    for (const [position, id] of ids.entries()) await trx(table).where({ structure_id: structureId, id }).update({ position });
  });
}

async function checkType(trx: Knex, structureId: string, typeId: string) {
  const type = await trx('rsv_resource_types').where({ structure_id: structureId, id: typeId }).whereNull('retired_at').first();
  if (!type) throw new ValidationError([{ field: 'typeId', message: 'unknown type' }]);
  return type;
}

async function checkResponsible(ctx: ModuleContext, structureId: string, responsibleId: string | null | undefined): Promise<string> {
  const fallback = await serviceAccountId(ctx, structureId);
  if (!responsibleId || responsibleId === fallback) return fallback;
  const [user] = await ctx.host.directory.getUsers([responsibleId]);
  if (!user || !user.structures.includes(structureId)) throw new ValidationError([{ field: 'responsibleId', message: 'not a user of this school' }]);
  return user.id;
}

function uniqueName(error: unknown): never {
  if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw new ConflictError('duplicate', 'admin:duplicateName');
  throw error;
}

export async function createEquipment(ctx: ModuleContext, structureId: string, input: EquipmentInput) {
  const responsibleId = await checkResponsible(ctx, structureId, input.responsibleId);
  return ctx.knex
    .transaction(async (trx) => {
      await checkType(trx, structureId, input.typeId);
      const [row] = await trx('rsv_equipment')
        .insert({
          structure_id: structureId,
          type_id: input.typeId,
          name: input.name,
          description: input.description,
          location: input.location,
          responsible_id: responsibleId,
          position: await nextPosition(trx, 'rsv_equipment', structureId),
        })
        .returning('*');
      return row;
    })
    .catch(uniqueName);
}

export async function updateEquipment(ctx: ModuleContext, structureId: string, id: string, input: Partial<EquipmentInput>) {
  const responsibleId = input.responsibleId !== undefined ? await checkResponsible(ctx, structureId, input.responsibleId) : undefined;
  return ctx.knex
    .transaction(async (trx) => {
      const current = await trx('rsv_equipment').where({ structure_id: structureId, id }).forUpdate().first();
      if (!current) throw new NotFoundError();
      if (input.typeId) {
        const type = await checkType(trx, structureId, input.typeId);
        if (type.purpose === 'incident') {
          const future = await trx('rsv_bookings').where({ equipment_id: id }).whereIn('status', ['pending', 'validated']).where('ends_at', '>', new Date()).first('id');
          if (future) throw new ConflictError('in_use', 'admin:equipmentHasBookings');
        }
      }
      const patch: Record<string, unknown> = { updated_at: trx.fn.now() };
      if (input.name !== undefined) patch.name = input.name;
      if (input.typeId !== undefined) patch.type_id = input.typeId;
      if (input.description !== undefined) patch.description = input.description;
      if (input.location !== undefined) patch.location = input.location;
      if (responsibleId !== undefined) patch.responsible_id = responsibleId;
      const [row] = await trx('rsv_equipment').where({ id }).update(patch).returning('*');
      return row;
    })
    .catch(uniqueName);
}

/** Deleting is only for a mistake never used; anything booked or reported on is retired instead. */
export async function deleteEquipment(ctx: ModuleContext, structureId: string, id: string): Promise<void> {
  await ctx.knex.transaction(async (trx) => {
    const row = await trx('rsv_equipment').where({ structure_id: structureId, id }).forUpdate().first();
    if (!row) throw new NotFoundError();
    const booked = await trx('rsv_bookings').where({ equipment_id: id }).first('id');
    const hasIncidentsTable = (await trx.raw(`SELECT to_regclass('rsv_incidents') AS t`)).rows[0].t !== null;
    const reported = hasIncidentsTable ? await trx('rsv_incidents').where({ equipment_id: id }).first('id') : null;
    if (booked || reported) throw new ConflictError('in_use', 'admin:equipmentInUse');
    await trx('rsv_equipment').where({ id }).delete();
  });
}

export interface ImportLine {
  line: number;
  name: string;
  typeName: string;
  typeId: string | null;
  location: string;
  description: string;
  errors: string[];
}

/**
 * Reads an equipment list (columns: nom/name; type; emplacement/location; description), `;` or `,` separated, as a
 * spreadsheet exports it. Every line is checked; `apply` inserts all lines in one transaction or none.
 */
export async function importEquipment(ctx: ModuleContext, structureId: string, csv: string, apply: boolean): Promise<{ lines: ImportLine[]; applied: boolean; created: number }> {
  const text = csv.replace(/^\uFEFF/, '');
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = (firstLine.match(/;/g)?.length ?? 0) >= (firstLine.match(/,/g)?.length ?? 0) ? ';' : ',';
  let records: string[][];
  try {
    records = parseCsv(text, { delimiter, relax_column_count: true, skip_empty_lines: true, trim: true });
  } catch (error) {
    throw new ValidationError([{ field: 'csv', message: (error as Error).message }], 'admin:csvUnreadable');
  }
  if (records.length === 0) throw new ValidationError([{ field: 'csv', message: 'empty' }], 'admin:csvEmpty');
  if (records.length > 2001) throw new ValidationError([{ field: 'csv', message: 'at most 2000 lines' }]);
  const header = records[0]!.map((h) => h.toLowerCase());
  const col = (names: string[]) => header.findIndex((h) => names.includes(h));
  const idx = { name: col(['nom', 'name']), type: col(['type']), location: col(['emplacement', 'location', 'lieu']), description: col(['description']) };
  if (idx.name < 0 || idx.type < 0) throw new ValidationError([{ field: 'csv', message: 'the header needs the columns nom and type' }], 'admin:csvHeader');
  const t = tFor('fr');
  const en = tFor('en');
  const types = await ctx.knex('rsv_resource_types').where({ structure_id: structureId }).whereNull('retired_at');
  const typeByName = new Map<string, string>();
  for (const ty of types) {
    typeByName.set(labelOf(ty, t).toLowerCase(), String(ty.id));
    typeByName.set(labelOf(ty, en).toLowerCase(), String(ty.id));
  }
  const existing = new Set(
    (await ctx.knex('rsv_equipment').where({ structure_id: structureId }).whereNull('retired_at').select('type_id', 'name')).map(
      (e: { type_id: string; name: string }) => `${e.type_id}|${e.name.toLowerCase()}`,
    ),
  );
  const seen = new Set<string>();
  const lines: ImportLine[] = records.slice(1).map((r, i) => {
    const name = r[idx.name] ?? '';
    const typeName = r[idx.type] ?? '';
    const typeId = typeByName.get(typeName.toLowerCase()) ?? null;
    const location = idx.location >= 0 ? (r[idx.location] ?? '') : '';
    const description = idx.description >= 0 ? (r[idx.description] ?? '') : '';
    const errors: string[] = [];
    if (!name) errors.push('admin:import.nameMissing');
    if (name.length > 120) errors.push('admin:import.nameTooLong');
    if (!typeId) errors.push('admin:import.typeUnknown');
    if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F<>]/.test(name + location + description)) errors.push('admin:import.badCharacters');
    const key = `${typeId}|${name.toLowerCase()}`;
    if (typeId && (existing.has(key) || seen.has(key))) errors.push('admin:import.duplicate');
    seen.add(key);
    return { line: i + 2, name, typeName, typeId, location: location.slice(0, 200), description: description.slice(0, 1000), errors };
  });
  const valid = lines.every((l) => l.errors.length === 0);
  if (!apply || !valid) return { lines, applied: false, created: 0 };
  const responsibleId = await serviceAccountId(ctx, structureId);
  await ctx.knex
    .transaction(async (trx) => {
      let position = await nextPosition(trx, 'rsv_equipment', structureId);
      for (const l of lines) {
        await trx('rsv_equipment').insert({ structure_id: structureId, type_id: l.typeId, name: l.name, location: l.location, description: l.description, responsible_id: responsibleId, position: position++ });
      }
    })
    .catch(uniqueName);
  return { lines, applied: true, created: lines.length };
}
