import type { Knex } from 'knex';

export interface ResourceTypeRow {
  id: string;
  structure_id: string;
  name: string | null;
  name_key: string | null;
  purpose: 'booking' | 'incident';
  color: string;
  needs_validation: boolean;
  min_notice_minutes: number;
  max_notice_days: number | null;
  max_length_minutes: number | null;
  within_opening_hours: boolean;
  position: number;
  retired_at: Date | null;
}

export interface EquipmentRow {
  id: string;
  structure_id: string;
  type_id: string;
  name: string;
  description: string;
  location: string;
  responsible_id: string;
  position: number;
  retired_at: Date | null;
  purpose: 'booking' | 'incident';
  type_name: string | null;
  type_name_key: string | null;
  color: string;
}

export async function listResourceTypes(knex: Knex, structureId: string, opts: { includeRetired?: boolean } = {}): Promise<ResourceTypeRow[]> {
  const q = knex<ResourceTypeRow>('rsv_resource_types').where({ structure_id: structureId }).orderBy(['position', 'id']);
  if (!opts.includeRetired) q.whereNull('retired_at');
  return q;
}

/** Equipment with its type's purpose and colour, one query. */
export async function listEquipment(
  knex: Knex,
  structureId: string,
  opts: { purpose?: 'booking' | 'incident'; typeId?: string; includeRetired?: boolean } = {},
): Promise<EquipmentRow[]> {
  const q = knex('rsv_equipment as e')
    .join('rsv_resource_types as t', 't.id', 'e.type_id')
    .where('e.structure_id', structureId)
    .select('e.*', 't.purpose', 't.name as type_name', 't.name_key as type_name_key', 't.color')
    .orderBy([{ column: 't.position' }, { column: 'e.position' }, { column: 'e.name' }, { column: 'e.id' }]);
  if (!opts.includeRetired) q.whereNull('e.retired_at').whereNull('t.retired_at');
  if (opts.purpose) q.where('t.purpose', opts.purpose);
  if (opts.typeId) q.where('e.type_id', opts.typeId);
  return q;
}

/** An equipment with its type's booking rules: what booking it needs, in one query. */
export type BookableEquipmentRow = EquipmentRow &
  Pick<ResourceTypeRow, 'needs_validation' | 'min_notice_minutes' | 'max_notice_days' | 'max_length_minutes' | 'within_opening_hours'>;

export async function getEquipment(knex: Knex, structureId: string, id: string): Promise<BookableEquipmentRow | undefined> {
  return knex('rsv_equipment as e')
    .join('rsv_resource_types as t', 't.id', 'e.type_id')
    .where({ 'e.structure_id': structureId, 'e.id': id })
    .first(
      'e.*', 't.purpose', 't.name as type_name', 't.name_key as type_name_key', 't.color',
      't.needs_validation', 't.min_notice_minutes', 't.max_notice_days', 't.max_length_minutes', 't.within_opening_hours',
    );
}
