import type { Knex } from 'knex';
import { OPEN_STATUSES_SQL } from '../domain/workflow';

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

/** The columns of a BookableEquipmentRow, over `rsv_equipment e JOIN rsv_resource_types t` (named: prepared). */
const BOOKABLE_COLUMNS = [
  'e.id', 'e.structure_id', 'e.type_id', 'e.name', 'e.description', 'e.location', 'e.responsible_id', 'e.position',
  'e.seed_code', 'e.retired_at', 'e.created_at', 'e.updated_at',
  't.purpose', 't.name as type_name', 't.name_key as type_name_key', 't.color',
  't.needs_validation', 't.min_notice_minutes', 't.max_notice_days', 't.max_length_minutes', 't.within_opening_hours',
];

export async function getEquipment(knex: Knex, structureId: string, id: string): Promise<BookableEquipmentRow | undefined> {
  return knex('rsv_equipment as e')
    .join('rsv_resource_types as t', 't.id', 'e.type_id')
    .where({ 'e.structure_id': structureId, 'e.id': id })
    .first(...BOOKABLE_COLUMNS);
}

/** What keeps equipment from being booked over some intervals: its open out-of-service incident, a maintenance window. */
export interface Hindrances {
  outOfServiceIncidentId: string | null;
  window: { id: string; reason: string; starts_at: Date; ends_at: Date } | null;
}

/**
 * What a booking needs to know, in one query: the equipment with its type's booking rules (none: not this school's),
 * its open out-of-service incident, and the first maintenance window overlapping any of the intervals.
 */
export async function bookingFacts(
  knex: Knex,
  structureId: string,
  equipmentId: string,
  intervals: Array<{ startsAt: Date; endsAt: Date }>,
): Promise<{ equipment: BookableEquipmentRow | undefined; hindrances: Hindrances }> {
  const { rows } = await knex.raw<{ rows: Array<BookableEquipmentRow & { found: boolean; incident_id: string | null; window_id: string | null; window_reason: string | null; window_starts_at: Date | null; window_ends_at: Date | null }> }>(
    `SELECT e.id IS NOT NULL AS found, ${BOOKABLE_COLUMNS.join(', ')},
            (SELECT min(i.id) FROM rsv_incidents i
              WHERE i.structure_id = ? AND i.equipment_id = ? AND i.out_of_service AND i.status IN (${OPEN_STATUSES_SQL})) AS incident_id,
            w.id AS window_id, w.reason AS window_reason, w.starts_at AS window_starts_at, w.ends_at AS window_ends_at
       FROM (VALUES (1)) AS one (n)
       LEFT JOIN (rsv_equipment e JOIN rsv_resource_types t ON t.id = e.type_id) ON e.structure_id = ? AND e.id = ?
       LEFT JOIN LATERAL (
         SELECT u.id, u.reason, u.starts_at, u.ends_at FROM rsv_unavailabilities u
           JOIN unnest(?::timestamptz[], ?::timestamptz[]) AS o(s, e)
             ON tstzrange(u.starts_at, u.ends_at, '[)') && tstzrange(o.s, o.e, '[)')
          WHERE u.structure_id = ? AND u.equipment_id = ?
          ORDER BY u.starts_at LIMIT 1) w ON true`,
    [
      structureId, equipmentId, structureId, equipmentId,
      intervals.map((i) => i.startsAt.toISOString()), intervals.map((i) => i.endsAt.toISOString()), structureId, equipmentId,
    ],
  );
  const { found, incident_id, window_id, window_reason, window_starts_at, window_ends_at, ...equipment } = rows[0]!;
  return {
    equipment: found ? (equipment as BookableEquipmentRow) : undefined,
    hindrances: {
      outOfServiceIncidentId: incident_id === null ? null : String(incident_id),
      window: window_id === null ? null : { id: String(window_id), reason: window_reason!, starts_at: new Date(window_starts_at!), ends_at: new Date(window_ends_at!) },
    },
  };
}
